package ops

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/qgemm"
	"github.com/int8cal/int8cal/core/tensor"
)

func randomTensor(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.F32 {
		t.F32[i] = float32(rng.NormFloat64())
	}
	return t
}

// clipScale is a per-tensor scale for x at which some values clip at ±128,
// as a calibrator that cuts outliers chooses.
func clipScale(x *tensor.Tensor) float32 {
	var amax float32
	for _, v := range x.F32 {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	return amax * 0.8 / 127
}

// runInt8Everywhere runs op on every qgemm implementation with 1 and 3
// workers and checks each result against want: bit for bit when tol is
// nil, else within tol[i].
func runInt8Everywhere(t *testing.T, op Op, in []*tensor.Tensor, shape []int, want, tol []float32) {
	t.Helper()
	for _, impl := range qgemm.Available() {
		prev, err := qgemm.SetImpl(impl)
		if err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{1, 3} {
			got := tensor.New(tensor.Float32, shape...)
			if err := op.Run(&Ctx{Workers: workers}, in, []*tensor.Tensor{got}); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				same := math.Float32bits(got.F32[i]) == math.Float32bits(want[i])
				if tol != nil {
					same = math.Abs(float64(got.F32[i]-want[i])) <= float64(tol[i])
				}
				if !same {
					qgemm.SetImpl(prev)
					t.Fatalf("%v, workers %d: value %d = %v, reference %v", impl, workers, i, got.F32[i], want[i])
				}
			}
		}
		qgemm.SetImpl(prev)
	}
}

// int8MatMul builds a MatMul for the given inputs and returns its INT8
// variant, prepared with consts.
func int8MatMul(t *testing.T, a, b *tensor.Tensor, consts []*tensor.Tensor, scales []float32) (Op, []int) {
	t.Helper()
	op, err := Build(&onnx.Node{Name: "mm", OpType: "MatMul"}, 13)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := op.Infer([]Meta{{tensor.Float32, a.Shape}, {tensor.Float32, b.Shape}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	need, ok := op.(Int8Capable).Int8Inputs([]bool{consts[0] != nil, consts[1] != nil})
	if !ok {
		t.Fatal("no INT8 kernel")
	}
	for i := range scales {
		if scales[i] != 0 && !slices.Contains(need, i) {
			t.Fatalf("scale given for input %d, Int8Inputs %v", i, need)
		}
	}
	q, ok := op.(Int8Capable).Int8(scales)
	if !ok {
		t.Fatal("no INT8 variant")
	}
	if err := q.(Preparer).Prepare(consts); err != nil {
		t.Fatal(err)
	}
	return q, ms[0].Shape
}

// The INT8 MatMul with constant weights (B per column, A per tensor)
// against the plain computation on the same quantized values: exact
// integer sums, dequantized as the kernel does, bit for bit. The shapes
// are those transformers export ([B,S,K]×[K,N]), a vector, odd sizes and
// more rows than one worker's block.
func TestInt8MatMulWeightsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(21))
	for _, tc := range []struct{ a, b []int }{
		{[]int{2, 9, 33}, []int{33, 7}},
		{[]int{33}, []int{33, 5}},
		{[]int{2, 3, 4, 40}, []int{40, 19}},
		{[]int{600, 20}, []int{20, 9}},
		{[]int{1, 1}, []int{1, 1}},
		{[]int{3, 64}, []int{64, 48}},
	} {
		t.Run(fmt.Sprint(tc.a, tc.b), func(t *testing.T) {
			a, b := randomTensor(rng, tc.a...), randomTensor(rng, tc.b...)
			sa := clipScale(a)
			q, shape := int8MatMul(t, a, b, []*tensor.Tensor{nil, b}, []float32{sa})
			k, n := tc.b[0], tc.b[1]
			m := a.Len() / k
			aq := make([]int8, a.Len())
			qgemm.Quantize(aq, a.F32, sa)
			wq, ws := qgemm.QuantizeWeights(transpose2D(b.F32, k, n), n, k)
			want := make([]float32, m*n)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var acc int64
					for p := 0; p < k; p++ {
						acc += int64(aq[i*k+p]) * int64(wq[j*k+p])
					}
					want[i*n+j] = float32(int32(acc)) * (ws[j] * sa)
				}
			}
			runInt8Everywhere(t, q, []*tensor.Tensor{a, b}, shape, want, nil)
		})
	}
}

// The INT8 MatMul of two activations (attention's Q·Kᵀ and weights·V),
// both per tensor, against the plain computation, with batch
// broadcasting and vector operands.
func TestInt8MatMulActivationsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(22))
	for _, tc := range []struct{ a, b []int }{
		{[]int{2, 3, 5, 7}, []int{2, 3, 7, 6}}, // [B,H,S,D]×[B,H,D,S]
		{[]int{2, 1, 5, 7}, []int{3, 7, 6}},    // broadcast both ways
		{[]int{5, 7}, []int{4, 7, 6}},          // A shared by the batch
		{[]int{4, 5, 7}, []int{7}},             // B a vector
		{[]int{7}, []int{3, 7, 2}},             // A a vector
		{[]int{6, 17, 33}, []int{6, 33, 17}},   // odd sizes
		{[]int{2, 40, 16}, []int{1, 16, 40}},   // S×D × D×S
		{[]int{1, 0, 5}, []int{1, 5, 3}},       // no rows
		{[]int{2, 3, 0}, []int{2, 0, 4}},       // k = 0
		{[]int{3, 1, 300}, []int{3, 300, 1}},   // deep
	} {
		t.Run(fmt.Sprint(tc.a, tc.b), func(t *testing.T) {
			a, b := randomTensor(rng, tc.a...), randomTensor(rng, tc.b...)
			sa, sb := clipScale(a), clipScale(b)
			if a.Len() == 0 || b.Len() == 0 {
				sa, sb = 0.1, 0.1
			}
			q, shape := int8MatMul(t, a, b, []*tensor.Tensor{nil, nil}, []float32{sa, sb})
			_, pa, pb, err := matMulShapes(a.Shape, b.Shape)
			if err != nil {
				t.Fatal(err)
			}
			m, k, n := pa[len(pa)-2], pa[len(pa)-1], pb[len(pb)-1]
			aq, bq := make([]int8, a.Len()), make([]int8, b.Len())
			qgemm.Quantize(aq, a.F32, sa)
			qgemm.Quantize(bq, b.F32, sb)
			batch, _ := broadcastShape(pa[:len(pa)-2], pb[:len(pb)-2])
			sta, stb := expandStrides(pa[:len(pa)-2], len(batch)), expandStrides(pb[:len(pb)-2], len(batch))
			want := make([]float32, tensor.NumElements(shape))
			for bi := 0; bi < tensor.NumElements(batch); bi++ {
				ao, bo := batchOffsets(bi, batch, sta, stb)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						var acc int64
						for p := 0; p < k; p++ {
							acc += int64(aq[ao*m*k+i*k+p]) * int64(bq[bo*k*n+p*n+j])
						}
						want[bi*m*n+i*n+j] = float32(int32(acc)) * (sa * sb)
					}
				}
			}
			runInt8Everywhere(t, q, []*tensor.Tensor{a, b}, shape, want, nil)
		})
	}
}

// Which inputs the MatMul quantizes follows which are constant; a missing
// scale of a quantized input gives no kernel.
func TestInt8MatMulInputs(t *testing.T) {
	op, err := Build(&onnx.Node{Name: "mm", OpType: "MatMul"}, 13)
	if err != nil {
		t.Fatal(err)
	}
	q := op.(Int8Capable)
	for _, tc := range []struct {
		constant []bool
		want     []int
		ok       bool
	}{
		{[]bool{false, true}, []int{0}, true},
		{[]bool{false, false}, []int{0, 1}, true},
		{[]bool{true, false}, nil, false},
	} {
		got, ok := q.Int8Inputs(tc.constant)
		if ok != tc.ok || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("Int8Inputs(%v) = %v, %v; want %v, %v", tc.constant, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := q.Int8([]float32{0, 0.1}); ok {
		t.Error("INT8 MatMul without A's scale")
	}
	q8, ok := q.Int8([]float32{0.1})
	if !ok {
		t.Fatal("no INT8 MatMul for A's scale")
	}
	// Two activations but only A's scale: Prepare refuses, naming B.
	if err := q8.(Preparer).Prepare([]*tensor.Tensor{nil, nil}); err == nil {
		t.Error("INT8 MatMul of two activations prepared without B's scale")
	}
}
