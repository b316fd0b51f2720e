package ops

import (
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func TestGatherElements(t *testing.T) {
	// The spec's examples.
	got := rtOne(t, 13, "GatherElements", []*tensor.Tensor{f32(sh(2, 2), 1, 2, 3, 4), i64(sh(2, 2), 0, 0, 1, 0)}, aInt("axis", 1))
	checkF(t, got, sh(2, 2), 1, 1, 4, 3)
	got = rtOne(t, 13, "GatherElements", []*tensor.Tensor{iota32(3, 3), i64(sh(2, 3), 1, 2, 0, 2, 0, 0)})
	checkF(t, got, sh(2, 3), 4, 8, 3, 7, 2, 3)
	// Negative indices count from the end; indices may be smaller than data.
	got = rtOne(t, 13, "GatherElements", []*tensor.Tensor{iota64(2, 3), i64(sh(1, 2), -1, -3)}, aInt("axis", -1))
	checkI(t, got, tensor.Int64, sh(1, 2), 2, 0)
	wantErr(t, rtErr(13, "GatherElements", []*tensor.Tensor{iota32(2, 2), i64(sh(2, 2), 0, 2, 0, 0)}, aInt("axis", 1)), "out of range")
	wantErr(t, rtErr(13, "GatherElements", []*tensor.Tensor{iota32(2, 2), i64(sh(4), 0, 0, 0, 0)}), "rank")
	wantErr(t, rtErr(13, "GatherElements", []*tensor.Tensor{iota32(2, 2), i64(sh(2, 3), 0, 0, 0, 0, 0, 0)}), "exceed")
}

func TestScatterND(t *testing.T) {
	// The spec's first example: single elements.
	got := rtOne(t, 13, "ScatterND", []*tensor.Tensor{iota32(8), i64(sh(4, 1), 4, 3, 1, 7), f32(sh(4), 9, 10, 11, 12)})
	checkF(t, got, sh(8), 1, 11, 3, 10, 9, 6, 7, 12)
	// Whole rows, a negative index; then with reduction add.
	data := iota32(3, 2)
	got = rtOne(t, 13, "ScatterND", []*tensor.Tensor{data, i64(sh(2, 1), -1, 0), f32(sh(2, 2), 10, 20, 30, 40)})
	checkF(t, got, sh(3, 2), 30, 40, 3, 4, 10, 20)
	got = rtOne(t, 16, "ScatterND", []*tensor.Tensor{data, i64(sh(2, 1), 0, 0), f32(sh(2, 2), 10, 20, 30, 40)}, aString("reduction", "add"))
	checkF(t, got, sh(3, 2), 41, 62, 3, 4, 5, 6)
	got = rtOne(t, 18, "ScatterND", []*tensor.Tensor{iota64(3), i64(sh(2, 1), 1, 1), i64(sh(2), -5, 7)}, aString("reduction", "max"))
	checkI(t, got, tensor.Int64, sh(3), 0, 7, 2)
	for _, tc := range []struct {
		name  string
		opset int64
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
		want  string
	}{
		{"index-range", 13, []*tensor.Tensor{iota32(3), i64(sh(1, 1), 3), f32(sh(1), 1)}, nil, "out of range"},
		{"updates-shape", 13, []*tensor.Tensor{iota32(3, 2), i64(sh(1, 1), 0), f32(sh(1, 3), 1, 2, 3)}, nil, "updates"},
		{"too-many-coordinates", 13, []*tensor.Tensor{iota32(3), i64(sh(1, 2), 0, 0), f32(sh(1), 1)}, nil, "at most 1"},
		{"reduction-before-16", 13, []*tensor.Tensor{iota32(3), i64(sh(1, 1), 0), f32(sh(1), 1)}, []*onnx.Attribute{aString("reduction", "add")}, "opset 16"},
		{"max-before-18", 16, []*tensor.Tensor{iota32(3), i64(sh(1, 1), 0), f32(sh(1), 1)}, []*onnx.Attribute{aString("reduction", "max")}, "opset 18"},
		{"unknown-reduction", 18, []*tensor.Tensor{iota32(3), i64(sh(1, 1), 0), f32(sh(1), 1)}, []*onnx.Attribute{aString("reduction", "mean")}, "mean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, rtErr(tc.opset, "ScatterND", tc.in, tc.attrs...), tc.want)
		})
	}
}

func TestScatterElements(t *testing.T) {
	// The spec's examples.
	got := rtOne(t, 13, "ScatterElements", []*tensor.Tensor{tensor.New(tensor.Float32, 3, 3),
		i64(sh(2, 3), 1, 0, 2, 0, 2, 1), f32(sh(2, 3), 1, 1.1, 1.2, 2, 2.1, 2.2)})
	checkF(t, got, sh(3, 3), 2, 1.1, 0, 1, 0, 2.2, 0, 2.1, 1.2)
	got = rtOne(t, 13, "ScatterElements", []*tensor.Tensor{f32(sh(1, 5), 1, 2, 3, 4, 5), i64(sh(1, 2), 1, -2), f32(sh(1, 2), 1.1, 2.1)}, aInt("axis", 1))
	checkF(t, got, sh(1, 5), 1, 1.1, 3, 2.1, 5)
	got = rtOne(t, 16, "ScatterElements", []*tensor.Tensor{f32(sh(1, 5), 1, 2, 3, 4, 5), i64(sh(1, 2), 1, 1), f32(sh(1, 2), 1.1, 2.1)},
		aInt("axis", 1), aString("reduction", "add"))
	checkF(t, got, sh(1, 5), 1, 5.2, 3, 4, 5)
	got = rtOne(t, 18, "ScatterElements", []*tensor.Tensor{iota64(1, 3), i64(sh(1, 2), 2, 2), i64(sh(1, 2), 9, 1)},
		aInt("axis", 1), aString("reduction", "min"))
	checkI(t, got, tensor.Int64, sh(1, 3), 0, 1, 1)
	wantErr(t, rtErr(13, "ScatterElements", []*tensor.Tensor{iota32(3), i64(sh(1), 3), f32(sh(1), 1)}), "out of range")
	wantErr(t, rtErr(13, "ScatterElements", []*tensor.Tensor{iota32(3), i64(sh(2), 0, 1), f32(sh(1), 1)}), "indices' shape")
	wantErr(t, rtErr(13, "ScatterElements", []*tensor.Tensor{iota32(3), i64(sh(1), 0), f32(sh(1), 1)}, aString("reduction", "add")), "opset 16")
}

func TestTrilu(t *testing.T) {
	x := iota32(3, 4)
	got := rtOne(t, 14, "Trilu", []*tensor.Tensor{x})
	checkF(t, got, sh(3, 4), 1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12)
	got = rtOne(t, 14, "Trilu", []*tensor.Tensor{x, i64(sh(), 1)}, aInt("upper", 0))
	checkF(t, got, sh(3, 4), 1, 2, 0, 0, 5, 6, 7, 0, 9, 10, 11, 12)
	got = rtOne(t, 14, "Trilu", []*tensor.Tensor{x, i64(sh(), -1)})
	checkF(t, got, sh(3, 4), 1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 11, 12)
	// Batched, int64, k beyond the matrix: all zero.
	got = rtOne(t, 14, "Trilu", []*tensor.Tensor{iota64(2, 2, 2), i64(sh(), 5)})
	checkI(t, got, tensor.Int64, sh(2, 2, 2), 0, 0, 0, 0, 0, 0, 0, 0)
	// k need not be known ahead of time.
	out := rtMust(t, rtBuild(t, 14, "Trilu", aInt("upper", 0)), 1, 1, []*tensor.Tensor{iota32(2, 2), i64(sh(), 0)}, constAt(2, 0))
	checkF(t, out[0], sh(2, 2), 1, 0, 3, 4)
	wantErr(t, rtErr(14, "Trilu", []*tensor.Tensor{iota32(3)}), "two dimensions")
	wantErr(t, rtErr(14, "Trilu", []*tensor.Tensor{x, i64(sh(2), 1, 1)}), "one int64")
}
