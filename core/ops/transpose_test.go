package ops

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/int8cal/int8cal/core/tensor"
)

// refTranspose permutes src, of shape, naively: the output's element at
// multi-index idx is the input's at idx read through perm.
func refTranspose[T any](src []T, shape, perm []int) []T {
	out := make([]int, len(perm))
	for i, p := range perm {
		out[i] = shape[p]
	}
	inStride := tensor.Strides(shape)
	dst := make([]T, len(src))
	idx := make([]int, len(out))
	for o := range dst {
		s := 0
		for i, p := range perm {
			s += idx[i] * inStride[p]
		}
		dst[o] = src[s]
		for d := len(out) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < out[d] {
				break
			}
			idx[d] = 0
		}
	}
	return dst
}

// TestTransposeMatchesDefinition runs the transposes of the models we
// import (attention's head split and Kᵀ, sequence/batch swaps, depth to
// space) and random ones, unit dimensions included, on every element
// type, with one worker and with several, against refTranspose.
func TestTransposeMatchesDefinition(t *testing.T) {
	cases := []struct{ shape, perm []int }{
		{[]int{2, 768, 196}, []int{0, 2, 1}},
		{[]int{197, 2, 768}, []int{1, 0, 2}},
		{[]int{197, 2, 12, 3, 64}, []int{3, 1, 2, 0, 4}},
		{[]int{2, 12, 197, 64}, []int{0, 1, 3, 2}},
		{[]int{197, 2, 12, 64}, []int{2, 0, 1, 3}},
		{[]int{1, 3, 2, 2, 5, 7}, []int{0, 3, 4, 1, 5, 2}},
		{[]int{5}, []int{0}},
		{[]int{1, 1, 1}, []int{2, 0, 1}},
		{[]int{3, 1, 4}, []int{2, 1, 0}},
		{[]int{64, 300}, []int{1, 0}}, // several tiles of gemm's kernel
	}
	r := rand.New(rand.NewSource(1))
	for len(cases) < 60 {
		rank := 1 + r.Intn(5)
		shape := make([]int, rank)
		for i := range shape {
			shape[i] = 1 + r.Intn(6)
			if r.Intn(4) == 0 {
				shape[i] = 1
			}
		}
		cases = append(cases, struct{ shape, perm []int }{shape, r.Perm(rank)})
	}
	for _, c := range cases {
		n := tensor.NumElements(c.shape)
		f := make([]float32, n)
		l := make([]int64, n)
		b := make([]int8, n)
		for i := range f {
			f[i], l[i], b[i] = float32(i), int64(i)<<20, int8(i)
		}
		for _, workers := range []int{1, 3} {
			name := fmt.Sprintf("%v/%v/workers%d", c.shape, c.perm, workers)
			x := &tensor.Tensor{DType: tensor.Float32, Shape: c.shape, F32: f}
			y := &tensor.Tensor{F32: make([]float32, n)}
			transposeTensor(x, y, c.perm, workers)
			if want := refTranspose(f, c.shape, c.perm); !slices.Equal(y.F32, want) {
				t.Errorf("%s float32: got %v, want %v", name, y.F32, want)
			}
			x = &tensor.Tensor{DType: tensor.Int64, Shape: c.shape, I64: l}
			y = &tensor.Tensor{I64: make([]int64, n)}
			transposeTensor(x, y, c.perm, workers)
			if want := refTranspose(l, c.shape, c.perm); !slices.Equal(y.I64, want) {
				t.Errorf("%s int64: got %v, want %v", name, y.I64, want)
			}
			x = &tensor.Tensor{DType: tensor.Int8, Shape: c.shape, I8: b}
			y = &tensor.Tensor{I8: make([]int8, n)}
			transposeTensor(x, y, c.perm, workers)
			if want := refTranspose(b, c.shape, c.perm); !slices.Equal(y.I8, want) {
				t.Errorf("%s int8: got %v, want %v", name, y.I8, want)
			}
		}
	}
}

// TestPermuteLayout checks the simplification on hand-worked cases.
func TestPermuteLayout(t *testing.T) {
	for _, c := range []struct {
		shape, perm       []int
		wantShape, wantTo []int
	}{
		{[]int{2, 3, 4}, []int{0, 1, 2}, []int{24}, []int{0}},
		{[]int{197, 2, 12, 3, 64}, []int{3, 1, 2, 0, 4}, []int{197, 24, 3, 64}, []int{2, 1, 0, 3}},
		{[]int{2, 12, 197, 64}, []int{0, 1, 3, 2}, []int{24, 197, 64}, []int{0, 2, 1}},
		{[]int{1, 5, 1, 7}, []int{3, 2, 1, 0}, []int{5, 7}, []int{1, 0}},
		{[]int{1, 1}, []int{1, 0}, []int{}, []int{}},
	} {
		p := permuteLayout(c.shape, c.perm)
		if !slices.Equal(p.shape, c.wantShape) || !slices.Equal(p.perm, c.wantTo) {
			t.Errorf("permuteLayout(%v, %v) = %v, %v; want %v, %v", c.shape, c.perm, p.shape, p.perm, c.wantShape, c.wantTo)
		}
	}
}

// BenchmarkTranspose measures ViT-B/16's attention transposes (batch 2).
func BenchmarkTranspose(b *testing.B) {
	for _, c := range []struct {
		name        string
		shape, perm []int
	}{
		{"heads", []int{197, 2, 12, 3, 64}, []int{3, 1, 2, 0, 4}},
		{"keys", []int{2, 12, 197, 64}, []int{0, 1, 3, 2}},
		{"seq-batch", []int{197, 2, 768}, []int{1, 0, 2}},
	} {
		n := tensor.NumElements(c.shape)
		x := &tensor.Tensor{DType: tensor.Float32, Shape: c.shape, F32: make([]float32, n)}
		y := &tensor.Tensor{F32: make([]float32, n)}
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				transposeTensor(x, y, c.perm, 2)
			}
			b.ReportMetric(float64(8*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}
