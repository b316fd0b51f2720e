package ops

import (
	"fmt"
	"math"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// refGemm computes alpha·A'·B' + beta·C in float64, C broadcast to [m,n].
func refGemm(a, b *tensor.Tensor, c *tensor.Tensor, alpha, beta float64, transA, transB bool) (m, n int, out []float64) {
	m, k := a.Shape[0], a.Shape[1]
	if transA {
		m, k = k, m
	}
	n = b.Shape[1]
	if transB {
		n = b.Shape[0]
	}
	at := func(i, p int) float64 {
		if transA {
			return float64(a.F32[p*a.Shape[1]+i])
		}
		return float64(a.F32[i*a.Shape[1]+p])
	}
	bt := func(p, j int) float64 {
		if transB {
			return float64(b.F32[j*b.Shape[1]+p])
		}
		return float64(b.F32[p*b.Shape[1]+j])
	}
	out = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for p := 0; p < k; p++ {
				s += at(i, p) * bt(p, j)
			}
			s *= alpha
			if c != nil {
				// Right-align C's shape on [m, n]; size-1 dims repeat.
				ci, cj := 0, 0
				switch len(c.Shape) {
				case 1:
					if c.Shape[0] != 1 {
						cj = j
					}
				case 2:
					if c.Shape[0] != 1 {
						ci = i
					}
					if c.Shape[1] != 1 {
						cj = j
					}
				}
				cols := 1
				if len(c.Shape) > 0 {
					cols = c.Shape[len(c.Shape)-1]
				}
				s += beta * float64(c.F32[ci*cols+cj])
			}
			out[i*n+j] = s
		}
	}
	return m, n, out
}

func TestGemmReference(t *testing.T) {
	type gc struct {
		name           string
		m, k, n        int
		alpha, beta    float32
		transA, transB bool
		cShape         []int // nil: no C
		noDefaults     bool  // write alpha/beta attributes even when 1
	}
	cases := []gc{
		{name: "plain", m: 3, k: 5, n: 4, alpha: 1, beta: 1},
		{name: "C[N]", m: 3, k: 5, n: 4, alpha: 1, beta: 1, cShape: []int{4}},
		{name: "C[M,N]", m: 3, k: 5, n: 4, alpha: 1, beta: 1, cShape: []int{3, 4}},
		{name: "C[1,N]", m: 3, k: 5, n: 4, alpha: 1, beta: 1, cShape: []int{1, 4}},
		{name: "C-scalar", m: 3, k: 5, n: 4, alpha: 1, beta: 1, cShape: []int{}},
		{name: "C[1]", m: 3, k: 5, n: 4, alpha: 1, beta: 1, cShape: []int{1}},
		{name: "C[1,1]", m: 3, k: 5, n: 4, alpha: 1, beta: 1, cShape: []int{1, 1}},
		{name: "C[M,1]", m: 3, k: 5, n: 4, alpha: 1, beta: 1, cShape: []int{3, 1}},
		{name: "alpha-beta", m: 4, k: 3, n: 5, alpha: 0.5, beta: -2, cShape: []int{4, 5}},
		{name: "beta0-ignores-C", m: 4, k: 3, n: 5, alpha: 2, beta: 0, cShape: []int{4, 5}},
		{name: "transB", m: 3, k: 5, n: 4, alpha: 1, beta: 1, transB: true, cShape: []int{4}},
		{name: "transA/square", m: 4, k: 4, n: 3, alpha: 1, beta: 1, transA: true, cShape: []int{3}},
		{name: "transA/m<k", m: 3, k: 5, n: 4, alpha: 1, beta: 1, transA: true, cShape: []int{4}},
		{name: "transA/m>k", m: 6, k: 2, n: 3, alpha: 1, beta: 1, transA: true},
		{name: "transA+transB", m: 3, k: 7, n: 5, alpha: 1.5, beta: 0.25, transA: true, transB: true, cShape: []int{3, 1}},
		{name: "fc-like/transB/C[N]", m: 2, k: 33, n: 17, alpha: 1, beta: 1, transB: true, cShape: []int{17}},
		{name: "tall/parallel", m: 70, k: 40, n: 37, alpha: 1, beta: 1, transB: true, cShape: []int{37}},
		{name: "1x1x1", m: 1, k: 1, n: 1, alpha: 3, beta: 2, cShape: []int{}, noDefaults: true},
	}
	r := rtRand(10)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			aShape := []int{tc.m, tc.k}
			if tc.transA {
				aShape = []int{tc.k, tc.m}
			}
			bShape := []int{tc.k, tc.n}
			if tc.transB {
				bShape = []int{tc.n, tc.k}
			}
			a, b := randT(r, aShape...), randT(r, bShape...)
			in := []*tensor.Tensor{a, b}
			var c *tensor.Tensor
			if tc.cShape != nil {
				c = randT(r, tc.cShape...)
				in = append(in, c)
			}
			var attrs []*onnx.Attribute
			if tc.alpha != 1 || tc.noDefaults {
				attrs = append(attrs, aFloat("alpha", tc.alpha))
			}
			if tc.beta != 1 || tc.noDefaults {
				attrs = append(attrs, aFloat("beta", tc.beta))
			}
			if tc.transA {
				attrs = append(attrs, aInt("transA", 1))
			}
			if tc.transB {
				attrs = append(attrs, aInt("transB", 1))
			}
			cRef := c
			if tc.beta == 0 {
				cRef = nil
			}
			m, n, want := refGemm(a, b, cRef, float64(tc.alpha), float64(tc.beta), tc.transA, tc.transB)
			for _, workers := range []int{1, 4} {
				for _, constB := range []bool{true, false} {
					for _, act := range []ActivationKind{NoActivation, ReluActivation} {
						name := fmt.Sprintf("workers=%d/constB=%v/relu=%v", workers, constB, act == ReluActivation)
						t.Run(name, func(t *testing.T) {
							op := rtBuild(t, 13, "Gemm", attrs...)
							w := want
							if act == ReluActivation {
								if !op.(Fusable).FuseActivation(Activation{Kind: act}) {
									t.Fatal("FuseActivation refused")
								}
								w = make([]float64, len(want))
								for i, v := range want {
									w[i] = math.Max(v, 0)
								}
							}
							constant := constAt(len(in), 0)
							if constB {
								for i := 1; i < len(in); i++ {
									constant[i] = true
								}
							}
							out := rtMust(t, op, workers, 1, in, constant)
							checkClose(t, out[0], sh(m, n), w, 1e-4)
						})
					}
				}
			}
		})
	}
}

func TestGemmHand(t *testing.T) {
	// A = [[1 2] [3 4]], B = [[5 6] [7 8]].
	a := f32(sh(2, 2), 1, 2, 3, 4)
	b := f32(sh(2, 2), 5, 6, 7, 8)
	for _, tc := range []struct {
		name  string
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
		shape []int
		want  []float32
	}{
		// A·B = [[19 22] [43 50]].
		{"A·B", []*tensor.Tensor{a, b}, nil, sh(2, 2), []float32{19, 22, 43, 50}},
		// Aᵀ·B = [[1 3] [2 4]]·B = [[26 30] [38 44]].
		{"Aᵀ·B/square", []*tensor.Tensor{a, b}, []*onnx.Attribute{aInt("transA", 1)}, sh(2, 2), []float32{26, 30, 38, 44}},
		// A·Bᵀ = [[17 23] [39 53]], times 2, plus 10·[1 -1].
		{"2·A·Bᵀ+10·C", []*tensor.Tensor{a, b, f32(sh(2), 1, -1)},
			[]*onnx.Attribute{aInt("transB", 1), aFloat("alpha", 2), aFloat("beta", 10)}, sh(2, 2), []float32{44, 36, 88, 96}},
		// C [2,1] adds per row: A·B + [[100] [200]].
		{"C[M,1]", []*tensor.Tensor{a, b, f32(sh(2, 1), 100, 200)}, nil, sh(2, 2), []float32{119, 122, 243, 250}},
		// A is [3,1] = [1 2 3]ᵀ, so Aᵀ = [1 2 3] (1×3); B = [1 1 1]ᵀ:
		// Aᵀ·B = [[6]].
		{"Aᵀ·B/A[3,1]", []*tensor.Tensor{f32(sh(3, 1), 1, 2, 3), f32(sh(3, 1), 1, 1, 1)}, []*onnx.Attribute{aInt("transA", 1)}, sh(1, 1), []float32{6}},
		// A = [[1 2 3] [4 5 6]] (2×3), Aᵀ is 3×2, B = [[1] [1]]: the row
		// sums of Aᵀ, [5 7 9].
		{"Aᵀ·B/A[2,3]", []*tensor.Tensor{f32(sh(2, 3), 1, 2, 3, 4, 5, 6), f32(sh(2, 1), 1, 1)}, []*onnx.Attribute{aInt("transA", 1)}, sh(3, 1), []float32{5, 7, 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkF(t, rtOne(t, 13, "Gemm", tc.in, tc.attrs...), tc.shape, tc.want...)
		})
	}
}

func TestGemmErrors(t *testing.T) {
	a, b := tensor.New(tensor.Float32, 3, 4), tensor.New(tensor.Float32, 4, 5)
	for _, tc := range []struct {
		name string
		in   []*tensor.Tensor
	}{
		{"inner-mismatch", []*tensor.Tensor{a, tensor.New(tensor.Float32, 5, 5)}},
		{"A-not-2D", []*tensor.Tensor{tensor.New(tensor.Float32, 12), b}},
		{"C-wrong-cols", []*tensor.Tensor{a, b, tensor.New(tensor.Float32, 4)}},
		{"C-rank3", []*tensor.Tensor{a, b, tensor.New(tensor.Float32, 1, 3, 5)}},
		// Gemm's C broadcasts unidirectionally to [M,N]: a C with more rows
		// than A' cannot.
		{"C-larger-than-output", []*tensor.Tensor{tensor.New(tensor.Float32, 1, 4), b, tensor.New(tensor.Float32, 3, 5)}},
		{"int64-A", []*tensor.Tensor{tensor.New(tensor.Int64, 3, 4), b}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := rtErr(13, "Gemm", tc.in); err == nil {
				t.Error("got no error")
			}
		})
	}
}

// refMatMul is numpy matmul in float64.
func refMatMul(a, b *tensor.Tensor) ([]int, []float64) {
	as, bs := append([]int(nil), a.Shape...), append([]int(nil), b.Shape...)
	a1, b1 := len(as) == 1, len(bs) == 1
	if a1 {
		as = []int{1, as[0]}
	}
	if b1 {
		bs = []int{bs[0], 1}
	}
	m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	ab, bb := as[:len(as)-2], bs[:len(bs)-2]
	rank := max(len(ab), len(bb))
	pad := func(s []int) []int {
		p := make([]int, rank)
		for i := range p {
			p[i] = 1
		}
		copy(p[rank-len(s):], s)
		return p
	}
	ab, bb = pad(ab), pad(bb)
	batch := make([]int, rank)
	for i := range batch {
		batch[i] = max(ab[i], bb[i])
	}
	count := tensor.NumElements(batch)
	out := make([]float64, count*m*n)
	for bi := 0; bi < count; bi++ {
		idx := unravel(bi, batch)
		ao, bo := 0, 0
		for d := 0; d < rank; d++ {
			ai, bj := idx[d], idx[d]
			if ab[d] == 1 {
				ai = 0
			}
			if bb[d] == 1 {
				bj = 0
			}
			ao = ao*ab[d] + ai
			bo = bo*bb[d] + bj
		}
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				s := 0.0
				for p := 0; p < k; p++ {
					s += float64(a.F32[ao*m*k+i*k+p]) * float64(b.F32[bo*k*n+p*n+j])
				}
				out[bi*m*n+i*n+j] = s
			}
		}
	}
	shape := append(append([]int(nil), batch...), m, n)
	if a1 {
		shape = append(shape[:len(shape)-2], n)
	}
	if b1 {
		shape = shape[:len(shape)-1]
	}
	return shape, out
}

func TestMatMulReference(t *testing.T) {
	cases := []struct {
		name      string
		a, b      []int
		wantShape []int
	}{
		{"2D", []int{3, 5}, []int{5, 4}, []int{3, 4}},
		{"2D/odd", []int{7, 13}, []int{13, 11}, []int{7, 11}},
		{"3D-batched", []int{2, 3, 4}, []int{2, 4, 5}, []int{2, 3, 5}},
		{"3D×2D", []int{4, 3, 5}, []int{5, 6}, []int{4, 3, 6}},
		{"2D×3D", []int{3, 5}, []int{4, 5, 2}, []int{4, 3, 2}},
		{"4D-broadcast-both", []int{2, 1, 3, 4}, []int{1, 5, 4, 6}, []int{2, 5, 3, 6}},
		{"4D×3D", []int{2, 3, 2, 4}, []int{3, 4, 5}, []int{2, 3, 2, 5}},
		{"4D-batch1-in-b", []int{2, 3, 5, 4}, []int{2, 1, 4, 3}, []int{2, 3, 5, 3}},
		// Attention scores Q·Kᵀ and their product with V: [B,H,S,D]×[B,H,D,S].
		{"4D-attention-QK", []int{2, 3, 7, 4}, []int{2, 3, 4, 7}, []int{2, 3, 7, 7}},
		{"4D-attention-PV", []int{2, 3, 7, 7}, []int{2, 3, 7, 4}, []int{2, 3, 7, 4}},
		{"1D×2D", []int{5}, []int{5, 3}, []int{3}},
		{"2D×1D", []int{3, 5}, []int{5}, []int{3}},
		{"1D×3D", []int{4}, []int{2, 4, 3}, []int{2, 3}},
		{"3D×1D", []int{2, 3, 4}, []int{4}, []int{2, 3}},
		{"1D×1D", []int{6}, []int{6}, []int{}},
		{"tall/parallel", []int{3, 40, 33}, []int{33, 29}, []int{3, 40, 29}},
	}
	r := rtRand(11)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := randT(r, tc.a...), randT(r, tc.b...)
			shape, want := refMatMul(a, b)
			if !tensor.EqualShape(shape, tc.wantShape) {
				t.Fatalf("reference shape %v, table says %v", shape, tc.wantShape)
			}
			for _, workers := range []int{1, 4} {
				for _, constB := range []bool{true, false} {
					t.Run(fmt.Sprintf("workers=%d/constB=%v", workers, constB), func(t *testing.T) {
						op := rtBuild(t, 13, "MatMul")
						constant := constAt(2, 0)
						constant[1] = constB
						out := rtMust(t, op, workers, 1, []*tensor.Tensor{a, b}, constant)
						checkClose(t, out[0], tc.wantShape, want, 1e-4)
					})
				}
			}
		})
	}
}

func TestMatMulHand(t *testing.T) {
	a := f32(sh(2, 2), 1, 2, 3, 4)
	b := f32(sh(2, 2), 5, 6, 7, 8)
	checkF(t, rtOne(t, 13, "MatMul", []*tensor.Tensor{a, b}), sh(2, 2), 19, 22, 43, 50)
	// [1 2]·B = [19 22]; B·[1 2]ᵀ = [17 23]; [1 2]·[3 4] = 11.
	checkF(t, rtOne(t, 13, "MatMul", []*tensor.Tensor{f32(sh(2), 1, 2), b}), sh(2), 19, 22)
	checkF(t, rtOne(t, 13, "MatMul", []*tensor.Tensor{b, f32(sh(2), 1, 2)}), sh(2), 17, 23)
	checkF(t, rtOne(t, 13, "MatMul", []*tensor.Tensor{f32(sh(2), 1, 2), f32(sh(2), 3, 4)}), sh(), 11)
	// Batch of two A's against one B: identity and 2·identity.
	id := f32(sh(2, 2, 2), 1, 0, 0, 1, 2, 0, 0, 2)
	checkF(t, rtOne(t, 13, "MatMul", []*tensor.Tensor{id, b}), sh(2, 2, 2), 5, 6, 7, 8, 10, 12, 14, 16)
}

func TestMatMulErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []int
	}{
		{"inner-mismatch", []int{3, 4}, []int{5, 6}},
		{"batch-mismatch", []int{2, 3, 4}, []int{3, 4, 5}},
		{"scalar", []int{}, []int{3}},
		{"1D-mismatch", []int{3}, []int{4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := rtErr(13, "MatMul", []*tensor.Tensor{tensor.New(tensor.Float32, tc.a...), tensor.New(tensor.Float32, tc.b...)})
			if err == nil {
				t.Error("got no error")
			}
		})
	}
}

// A bias fused into MatMul (FP32, and the INT8 MatMul made from it) gives
// the bits of the product followed by Add of the bias.
func TestMatMulFusedBiasSameAsAdd(t *testing.T) {
	r := rtRand(7)
	a, b, bias := randT(r, 2, 5, 37), randT(r, 37, 19), randT(r, 19)
	run := func(op Op, in ...*tensor.Tensor) *tensor.Tensor {
		t.Helper()
		y := &tensor.Tensor{DType: tensor.Float32, Shape: []int{2, 5, 19}, F32: make([]float32, 2*5*19)}
		if err := op.Run(&Ctx{Workers: 2}, in, []*tensor.Tensor{y}); err != nil {
			t.Fatal(err)
		}
		return y
	}
	for _, quantized := range []bool{false, true} {
		build := func(fuse bool) Op {
			mm := &matMul{}
			if err := mm.Prepare([]*tensor.Tensor{nil, b}); err != nil {
				t.Fatal(err)
			}
			if fuse && !mm.FuseBias(bias.F32) {
				t.Fatal("FuseBias refused a bias of B's columns")
			}
			if !quantized {
				return mm
			}
			q, ok := mm.Int8([]float32{0.05})
			if !ok {
				t.Fatal("no INT8 MatMul")
			}
			if err := q.(Preparer).Prepare([]*tensor.Tensor{nil, b}); err != nil {
				t.Fatal(err)
			}
			return q
		}
		fused := run(build(true), a, b)
		plain := run(build(false), a, b)
		want := run(&binary{kind: "Add"}, plain, bias)
		for i := range want.F32 {
			if math.Float32bits(fused.F32[i]) != math.Float32bits(want.F32[i]) {
				t.Fatalf("INT8 %v: value %d = %g fused, %g as MatMul then Add", quantized, i, fused.F32[i], want.F32[i])
			}
		}
	}
	if (&matMul{}).FuseBias(bias.F32) {
		t.Error("FuseBias took a bias without constant weights")
	}
}
