package ops

import (
	"math"
	"testing"

	"github.com/int8cal/int8cal/core/tensor"
)

func TestExpand(t *testing.T) {
	for _, tc := range []struct {
		name  string
		x     *tensor.Tensor
		shape []int64
		want  []int
		vals  []float32
	}{
		{"column-to-matrix", f32(sh(3, 1), 1, 2, 3), []int64{3, 4}, sh(3, 4), []float32{1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}},
		{"row-gains-rank", f32(sh(3), 1, 2, 3), []int64{2, 1, 3}, sh(2, 1, 3), []float32{1, 2, 3, 1, 2, 3}},
		// A 1 in the shape keeps the input's dimension (bidirectional).
		{"shape-smaller", f32(sh(2, 3), 1, 2, 3, 4, 5, 6), []int64{1, 1}, sh(2, 3), []float32{1, 2, 3, 4, 5, 6}},
		{"shape-of-lower-rank", f32(sh(2, 1, 2), 1, 2, 3, 4), []int64{3, 1}, sh(2, 3, 2), []float32{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}},
		{"scalar", f32(sh(), 7), []int64{2, 2}, sh(2, 2), []float32{7, 7, 7, 7}},
		{"zero-dim", f32(sh(1), 7), []int64{0}, sh(0), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rtOne(t, 13, "Expand", []*tensor.Tensor{tc.x, i64(sh(len(tc.shape)), tc.shape...)})
			checkF(t, got, tc.want, tc.vals...)
		})
	}
	t.Run("int64", func(t *testing.T) {
		got := rtOne(t, 13, "Expand", []*tensor.Tensor{i64(sh(2, 1), 4, 5), i64(sh(2), 2, 2)})
		checkI(t, got, tensor.Int64, sh(2, 2), 4, 4, 5, 5)
	})
	for _, tc := range []struct {
		name  string
		shape []int64
		want  string
	}{
		{"incompatible", []int64{2, 4}, "cannot be broadcast"},
		{"negative", []int64{-1, 3}, "negative"},
	} {
		t.Run("error/"+tc.name, func(t *testing.T) {
			wantErr(t, rtErr(13, "Expand", []*tensor.Tensor{iota32(2, 3), i64(sh(len(tc.shape)), tc.shape...)}), tc.want)
		})
	}
}

func TestTile(t *testing.T) {
	got := rtOne(t, 13, "Tile", []*tensor.Tensor{f32(sh(2, 2), 1, 2, 3, 4), i64(sh(2), 2, 3)})
	checkF(t, got, sh(4, 6),
		1, 2, 1, 2, 1, 2,
		3, 4, 3, 4, 3, 4,
		1, 2, 1, 2, 1, 2,
		3, 4, 3, 4, 3, 4)
	got = rtOne(t, 13, "Tile", []*tensor.Tensor{iota64(3), i64(sh(1), 2)})
	checkI(t, got, tensor.Int64, sh(6), 0, 1, 2, 0, 1, 2)
	got = rtOne(t, 13, "Tile", []*tensor.Tensor{iota32(2, 3), i64(sh(2), 0, 1)})
	checkF(t, got, sh(0, 3))
	wantErr(t, rtErr(13, "Tile", []*tensor.Tensor{iota32(2, 3), i64(sh(1), 2)}), "2 values")
	wantErr(t, rtErr(13, "Tile", []*tensor.Tensor{iota32(2, 3), i64(sh(2), 1, -1)}), "negative")
	_, err := Infer(rtBuild(t, 13, "Tile"), []Meta{{tensor.Float32, sh(1<<30, 2)}, {tensor.Int64, sh(2)}},
		[]*tensor.Tensor{nil, i64(sh(2), 1<<20, 1)}, nil)
	wantErr(t, err, "elements")
}

func TestRange(t *testing.T) {
	for _, tc := range []struct {
		name               string
		start, limit, step float32
		want               []float32
	}{
		{"ascending", 3, 9, 3, []float32{3, 6}},
		{"descending", 10, 4, -3, []float32{10, 7}},
		{"fractional", 0, 1, 0.25, []float32{0, 0.25, 0.5, 0.75}},
		{"empty", 5, 1, 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rtOne(t, 13, "Range", []*tensor.Tensor{f32(sh(), tc.start), f32(sh(), tc.limit), f32(sh(), tc.step)})
			checkF(t, got, sh(len(tc.want)), tc.want...)
		})
	}
	got := rtOne(t, 13, "Range", []*tensor.Tensor{i64(sh(), -2), i64(sh(), 5), i64(sh(), 3)})
	checkI(t, got, tensor.Int64, sh(3), -2, 1, 4)
	// Extreme int64 bounds: the distance does not overflow.
	got = rtOne(t, 13, "Range", []*tensor.Tensor{i64(sh(), -1<<63), i64(sh(), 1<<63-1), i64(sh(), 1<<62)})
	checkI(t, got, tensor.Int64, sh(4), -1<<63, -1<<62, 0, 1<<62)
	for _, tc := range []struct {
		name string
		in   []*tensor.Tensor
		want string
	}{
		{"zero-delta", []*tensor.Tensor{i64(sh(), 0), i64(sh(), 5), i64(sh(), 0)}, "non-zero"},
		{"too-long", []*tensor.Tensor{i64(sh(), 0), i64(sh(), 1<<62), i64(sh(), 1)}, "at most"},
		{"float-too-long", []*tensor.Tensor{f32(sh(), 0), f32(sh(), 1e30), f32(sh(), 1)}, "at most"},
		{"nan", []*tensor.Tensor{f32(sh(), 0), f32(sh(), float32(math.NaN())), f32(sh(), 1)}, "finite"},
		{"mixed-types", []*tensor.Tensor{f32(sh(), 0), i64(sh(), 5), i64(sh(), 1)}, "one type"},
		{"not-scalar", []*tensor.Tensor{i64(sh(2), 0, 1), i64(sh(), 5), i64(sh(), 1)}, "scalar"},
	} {
		t.Run("error/"+tc.name, func(t *testing.T) {
			wantErr(t, rtErr(13, "Range", tc.in), tc.want)
		})
	}
	t.Run("error/not-constant", func(t *testing.T) {
		_, err := rtEval(rtBuild(t, 13, "Range"), 1, 1, []*tensor.Tensor{i64(sh(), 0), i64(sh(), 5), i64(sh(), 1)}, constAt(3, 0, 2))
		wantErr(t, err, "limit")
	})
}
