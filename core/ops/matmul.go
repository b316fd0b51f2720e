package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	register("Gemm", 1, buildGemm, "alpha", "beta", "transA", "transB", "broadcast")
	register("MatMul", 1, func(n *onnx.Node, opset int64) (Op, error) { return &matMul{}, nil })
}

// gemmOp is ONNX Gemm: Y = alpha·A'·B' + beta·C with A' = A or Aᵀ and
// B' = B or Bᵀ, C broadcast to Y. A constant B (the usual fully connected
// weights) is packed once.
type gemmOp struct {
	alpha, beta    float32
	transA, transB bool
	act            Activation
	packed         *gemm.PackedB
}

func buildGemm(n *onnx.Node, opset int64) (Op, error) {
	if opset < 7 && attrInt(n, "broadcast", 0) == 0 && n.Attr("broadcast") != nil {
		return nil, fmt.Errorf("broadcast=0 not supported")
	}
	return &gemmOp{
		alpha:  attrFloat(n, "alpha", 1),
		beta:   attrFloat(n, "beta", 1),
		transA: attrInt(n, "transA", 0) != 0,
		transB: attrInt(n, "transB", 0) != 0,
	}, nil
}

func (g *gemmOp) FuseActivation(a Activation) bool {
	if g.act.Kind != NoActivation {
		return false
	}
	g.act = a
	return true
}

func (g *gemmOp) dims(a, b []int) (m, k, n int, err error) {
	if len(a) != 2 || len(b) != 2 {
		return 0, 0, 0, fmt.Errorf("A %s and B %s must be 2-D", tensor.ShapeString(a), tensor.ShapeString(b))
	}
	m, k = a[0], a[1]
	if g.transA {
		m, k = k, m
	}
	kb, n := b[0], b[1]
	if g.transB {
		kb, n = n, kb
	}
	if k != kb {
		return 0, 0, 0, fmt.Errorf("inner dimensions differ: A' is %d×%d, B' is %d×%d", m, k, kb, n)
	}
	return m, k, n, nil
}

func (g *gemmOp) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 3); err != nil {
		return nil, err
	}
	if in[0].DType != tensor.Float32 || in[1].DType != tensor.Float32 {
		return nil, fmt.Errorf("A and B must be float32, got %v and %v", in[0].DType, in[1].DType)
	}
	m, _, n, err := g.dims(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	if len(in) > 2 && in[2].DType != tensor.Undefined {
		if s, err := broadcastShape([]int{m, n}, in[2].Shape); err != nil || len(in[2].Shape) > 2 || !tensor.EqualShape(s, []int{m, n}) {
			return nil, fmt.Errorf("C %s does not broadcast to [%d,%d]", tensor.ShapeString(in[2].Shape), m, n)
		}
	}
	return one(tensor.Float32, []int{m, n}), nil
}

// Memory counts B packed (its columns rounded up to whole panels; packed
// per run when B is not constant) and, with transA, the transposed copy
// of A each run makes.
func (g *gemmOp) Memory(in []Meta, _ int) (prepared, working int64, err error) {
	m, k, n, err := g.dims(in[0].Shape, in[1].Shape)
	if err != nil {
		return 0, 0, err
	}
	if prepared, err = packedBBytes(k, n); err != nil {
		return 0, 0, err
	}
	if g.transA {
		working = 4 * int64(m) * int64(k)
	}
	return prepared, working, nil
}

// packedBBytes is the size of gemm's packed-B layout of a k×n operand
// (gemm.PackedBSize floats), checked like a tensor's.
func packedBBytes(k, n int) (int64, error) {
	return bufferBytes(4, "the packed weights", k, (n+gemm.NR-1)/gemm.NR*gemm.NR)
}

func (g *gemmOp) Prepare(consts []*tensor.Tensor) error {
	if len(consts) > 1 && consts[1] != nil {
		b := consts[1]
		k, n := b.Shape[0], b.Shape[1]
		if g.transB {
			k, n = n, k
		}
		g.packed = gemm.PackB(k, n, b.F32, b.Shape[1], g.transB)
	}
	return nil
}

func (g *gemmOp) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	a, b, y := in[0], in[1], out[0]
	m, k, n, err := g.dims(a.Shape, b.Shape)
	if err != nil {
		return err
	}
	av, lda := a.F32, a.Shape[1]
	if g.transA {
		av, lda = transpose2D(a.F32, a.Shape[0], a.Shape[1]), k
	}
	packed := g.packed
	if packed == nil {
		packed = gemm.PackB(k, n, b.F32, b.Shape[1], g.transB)
	}
	var c *tensor.Tensor
	if len(in) > 2 && in[2] != nil && g.beta != 0 {
		c = in[2]
	}
	parallel.For(m, ctx.Workers, max(1, 8192/max(1, n*k/64)), func(lo, hi int) {
		rows := y.F32[lo*n : hi*n]
		gemm.MulPackedB(hi-lo, av[lo*lda:], lda, packed, rows, n, false)
		for r := lo; r < hi; r++ {
			row := y.F32[r*n : (r+1)*n]
			if g.alpha != 1 {
				for i := range row {
					row[i] *= g.alpha
				}
			}
			if c != nil {
				addBroadcastRow(row, c, r, g.beta)
			}
			g.act.apply(row)
		}
	})
	return nil
}

// addBroadcastRow adds beta·C[r,:] (C broadcast to the output) to row.
func addBroadcastRow(row []float32, c *tensor.Tensor, r int, beta float32) {
	n := len(row)
	var src []float32
	step := 1
	switch {
	case c.Len() == 1:
		src, step = c.F32, 0
	case len(c.Shape) == 1 || c.Shape[0] == 1:
		src = c.F32
		if c.Shape[len(c.Shape)-1] == 1 {
			step = 0
		}
	default: // [M,N] or [M,1]
		if c.Shape[1] == 1 {
			src, step = c.F32[r:], 0
		} else {
			src = c.F32[r*n:]
		}
	}
	for i := range row {
		row[i] += beta * src[i*step]
	}
}

func transpose2D(x []float32, rows, cols int) []float32 {
	t := make([]float32, len(x))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			t[c*rows+r] = x[r*cols+c]
		}
	}
	return t
}

// matMul is numpy-style matrix multiplication with batch broadcasting.
type matMul struct {
	packed *gemm.PackedB // set when B is a constant 2-D matrix
	// bias, added to each output row (FuseBias: B constant only), and ep,
	// the GEMM epilogue that adds it (nil: none).
	bias []float32
	ep   *gemm.Epilogue
}

// FuseBias adds bias to every row of the product, in the GEMM's epilogue
// (the sum, then one rounded addition, as Add does); only where B is one
// constant matrix, whose columns bias must match.
func (mm *matMul) FuseBias(bias []float32) bool {
	if mm.packed == nil || mm.bias != nil || len(bias) != mm.packed.N() {
		return false
	}
	mm.bias, mm.ep = bias, &gemm.Epilogue{ColBias: bias}
	return true
}

// matMulShapes returns the output shape and the promoted operand shapes.
func matMulShapes(a, b []int) (out, pa, pb []int, err error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, nil, nil, fmt.Errorf("scalar operands are not allowed")
	}
	pa, pb = append([]int(nil), a...), append([]int(nil), b...)
	if len(pa) == 1 {
		pa = []int{1, pa[0]}
	}
	if len(pb) == 1 {
		pb = []int{pb[0], 1}
	}
	ka, kb := pa[len(pa)-1], pb[len(pb)-2]
	if ka != kb {
		return nil, nil, nil, fmt.Errorf("inner dimensions differ: %s × %s", tensor.ShapeString(a), tensor.ShapeString(b))
	}
	batch, err := broadcastShape(pa[:len(pa)-2], pb[:len(pb)-2])
	if err != nil {
		return nil, nil, nil, err
	}
	out = append(batch, pa[len(pa)-2], pb[len(pb)-1])
	// Drop the promoted dimensions again, as numpy does.
	if len(a) == 1 {
		out = append(out[:len(out)-2], out[len(out)-1])
	}
	if len(b) == 1 {
		out = out[:len(out)-1]
	}
	return out, pa, pb, nil
}

func (mm *matMul) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	if in[0].DType != tensor.Float32 || in[1].DType != tensor.Float32 {
		return nil, fmt.Errorf("operands must be float32, got %v and %v", in[0].DType, in[1].DType)
	}
	out, _, _, err := matMulShapes(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	return one(tensor.Float32, out), nil
}

// Memory counts B packed when it is one matrix (Prepare packs it when it
// is constant).
func (mm *matMul) Memory(in []Meta, _ int) (prepared, working int64, err error) {
	if b := in[1].Shape; len(b) == 2 {
		prepared, err = packedBBytes(b[0], b[1])
	}
	return prepared, 0, err
}

func (mm *matMul) Prepare(consts []*tensor.Tensor) error {
	if len(consts) > 1 && consts[1] != nil && len(consts[1].Shape) == 2 {
		b := consts[1]
		mm.packed = gemm.PackB(b.Shape[0], b.Shape[1], b.F32, b.Shape[1], false)
	}
	return nil
}

func (mm *matMul) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	a, b, y := in[0], in[1], out[0]
	_, pa, pb, err := matMulShapes(a.Shape, b.Shape)
	if err != nil {
		return err
	}
	m, k, n := pa[len(pa)-2], pa[len(pa)-1], pb[len(pb)-1]
	if mm.packed != nil {
		// B is one matrix: all of A's batch rows form one tall product.
		rows := len(a.F32) / k
		parallel.For(rows, ctx.Workers, max(1, 8192/max(1, n*k/64)), func(lo, hi int) {
			gemm.MulPackedBEx(hi-lo, a.F32[lo*k:], k, mm.packed, y.F32[lo*n:hi*n], n, false, mm.ep, 1)
		})
		return nil
	}
	batch, _ := broadcastShape(pa[:len(pa)-2], pb[:len(pb)-2])
	count := tensor.NumElements(batch)
	sa := expandStrides(pa[:len(pa)-2], len(batch))
	sb := expandStrides(pb[:len(pb)-2], len(batch))
	parallel.For(count, ctx.Workers, 1, func(lo, hi int) {
		for bi := lo; bi < hi; bi++ {
			ao, bo := batchOffsets(bi, batch, sa, sb)
			gemm.Sgemm(m, n, k, a.F32[ao*m*k:], k, b.F32[bo*k*n:], n, y.F32[bi*m*n:(bi+1)*m*n], n, false)
		}
	})
	return nil
}

// batchOffsets returns the matrices of A and B (their indices in the
// broadcast operands, with strides sa and sb over the batch dimensions)
// that make matrix bi of the output batch.
func batchOffsets(bi int, batch, sa, sb []int) (ao, bo int) {
	for d := len(batch) - 1; d >= 0; d-- {
		i := bi % batch[d]
		bi /= batch[d]
		ao += i * sa[d]
		bo += i * sb[d]
	}
	return ao, bo
}
