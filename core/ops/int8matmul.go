package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/qgemm"
	"github.com/int8cal/int8cal/core/tensor"
)

// qlinear is the integer core of the INT8 products with constant weights
// (Gemm, and MatMul whose B is a constant matrix): rows of activations
// quantized per tensor times weights quantized per output feature (a
// column of the k×n weight matrix), packed once as the right operand, so
// that the output comes out row-major with no transposition.
type qlinear struct {
	inScale  float32
	k, n     int
	wPacked  []int8    // the k×n weights in qgemm's packed-B layout
	colScale []float32 // inScale·weight scale per output feature
	scratch  []qlinearScratch
}

// qlinearScratch is one worker's working memory for a block of rows.
type qlinearScratch struct {
	q   []int8
	a   qgemm.PackedA
	acc []int32
	f   []float32 // the float32 outputs, when they are requantized
}

// qlinearRows is the most rows one worker quantizes, packs and multiplies
// at a time: it bounds the scratch areas, and 256 rows keep the packed
// block in L2 for the k of transformer layers.
const qlinearRows = 256

// prepare quantizes the weights, given feature-major (n×k: row j holds the
// k weights of output feature j), and packs them.
func (l *qlinear) prepare(w []float32, k, n int) {
	q, scales := qgemm.QuantizeWeights(w, n, k)
	qt := make([]int8, k*n)
	for j := 0; j < n; j++ {
		for p := 0; p < k; p++ {
			qt[p*n+j] = q[j*k+p]
		}
	}
	l.wPacked = qgemm.PackB(k, n, qt, n)
	for i := range scales {
		scales[i] *= l.inScale
	}
	l.colScale, l.k, l.n = scales, k, n
}

// memory counts the packed weights with their scales, and the scratch
// areas of up to workers workers for m rows.
func (l *qlinear) memory(m, k, n, workers int) (prepared, working int64, err error) {
	// qgemm.PackedBSize(k, n): whole panels of padded depth.
	if prepared, err = bufferBytes(1, "the packed int8 weights", qgemm.PaddedK(k), (n+qgemm.NR-1)/qgemm.NR*qgemm.NR); err != nil {
		return 0, 0, err
	}
	rows := min(m, qlinearRows)
	// The quantized rows, their packing (int8, the int16 copy and the row
	// sums) and the int32 products.
	block, err := bufferBytes(1, "the quantized rows", rows, qgemm.PaddedK(k))
	if err != nil {
		return 0, 0, err
	}
	// The int32 products and, for an output linked as int8, the float32
	// values before requantizing.
	areas := int64(min(max(1, workers), max(1, m)))
	return prepared + 4*int64(n), areas * (4*block + 4*int64(rows) + 8*int64(rows)*int64(n)), nil
}

// run computes y (m×n) = dequantized (quantized x (m×k) · weights), plus
// bias per column (nil: none), then the activation: into y.F32, or for
// outScale > 0 quantized with it into y.I8 (a linked output, see
// Int8Linker). x's rows are quantized, or taken as they are when they
// are int8 already.
func (l *qlinear) run(ctx *Ctx, x int8Source, m int, y *tensor.Tensor, bias []float32, act Activation, outScale float32) {
	k, n := l.k, l.n
	if m == 0 {
		return
	}
	// Blocks of rows small enough that every worker gets one, but not
	// so small that starting a worker costs more than it saves (the
	// float MatMul's threshold: about 8192·64 multiply-adds).
	minRows := max(1, 8192/max(1, n*k/64))
	blocks := min(max(1, ctx.Workers), (m+minRows-1)/minRows)
	rows := min(qlinearRows, (m+blocks-1)/blocks)
	blocks = (m + rows - 1) / rows
	workers := min(max(1, ctx.Workers), blocks)
	for len(l.scratch) < workers {
		l.scratch = append(l.scratch, qlinearScratch{})
	}
	parallel.Each(blocks, workers, func(wk, lo, hi int) {
		sc := &l.scratch[wk]
		for b := lo; b < hi; b++ {
			r0 := b * rows
			nr := min(rows, m-r0)
			sc.acc = grow(sc.acc, nr*n)
			if x.q != nil {
				sc.a.Repack(nr, k, x.q[r0*k:(r0+nr)*k], k)
			} else {
				sc.q = grow(sc.q, nr*k)
				qgemm.Quantize(sc.q, x.f[r0*k:(r0+nr)*k], l.inScale)
				sc.a.Repack(nr, k, sc.q, k)
			}
			sc.a.MulPackedBuf(n, l.wPacked, sc.acc, n)
			if outScale > 0 {
				sc.f = grow(sc.f, nr*n)
				dequantizeCols(sc.acc, sc.f, n, l.colScale, bias, act)
				qgemm.Quantize(y.I8[r0*n:(r0+nr)*n], sc.f, outScale)
				continue
			}
			dequantizeCols(sc.acc, y.F32[r0*n:(r0+nr)*n], n, l.colScale, bias, act)
		}
	})
}

// dequantizeCols turns rows of integer products into float32 with one
// scale (and bias) per column, then applies the activation row by row.
func dequantizeCols(acc []int32, y []float32, n int, colScale, bias []float32, act Activation) {
	rows := len(acc) / n
	qgemm.DequantizeCols(acc, rows, n, n, colScale, bias, y, n)
	if act.Kind != NoActivation {
		for r := 0; r < rows; r++ {
			act.apply(y[r*n : (r+1)*n])
		}
	}
}

// Int8Inputs: the fully connected layer (Gemm with constant weights B, no
// transposed A, alpha = 1, beta = 1) quantizes A.
func (g *gemmOp) Int8Inputs(constant []bool) ([]int, bool) {
	return []int{0}, constantAt(constant, 1) && !g.transA && g.alpha == 1 && g.beta == 1
}

// Int8 gives the fully connected layer an INT8 kernel: Y = A·B' in
// integers, A quantized per tensor, B' per output feature.
func (g *gemmOp) Int8(scales []float32) (Op, bool) {
	inScale := scaleOf(scales, 0)
	if !(inScale > 0) {
		return nil, false
	}
	return &qgemmOp{gemmOp: *g, lin: qlinear{inScale: inScale}}, true
}

// qgemmOp is the INT8 fully connected layer. A plan may link its input
// and output as int8 (Int8Linker).
type qgemmOp struct {
	gemmOp
	lin      qlinear
	bias     []float32
	int8In   bool
	outScale float32
}

// Int8InputScale returns the scale A is quantized with.
func (g *qgemmOp) Int8InputScale() float32 { return g.lin.inScale }

// LinkInt8 sets what the layer reads and writes in int8.
func (g *qgemmOp) LinkInt8(in bool, outScale float32) { g.int8In, g.outScale = in, outScale }

// Memory counts the int8 weights packed with their scales, and the
// scratch areas Run keeps.
func (g *qgemmOp) Memory(in []Meta, workers int) (prepared, working int64, err error) {
	m, k, n, err := g.dims(in[0].Shape, in[1].Shape)
	if err != nil {
		return 0, 0, err
	}
	return g.lin.memory(m, k, n, workers)
}

func (g *qgemmOp) Prepare(consts []*tensor.Tensor) error {
	if len(consts) < 2 || consts[1] == nil {
		return fmt.Errorf("INT8 Gemm needs constant weights")
	}
	b := consts[1]
	k, n := b.Shape[0], b.Shape[1]
	w := b.F32
	if g.transB {
		k, n = n, k
	} else {
		w = transpose2D(b.F32, k, n) // rows are output features
	}
	if len(consts) > 2 && consts[2] != nil {
		if consts[2].Len() != n {
			return fmt.Errorf("INT8 Gemm: bias %s, want [%d]", tensor.ShapeString(consts[2].Shape), n)
		}
		g.bias = consts[2].F32
	}
	g.lin.prepare(w, k, n)
	return nil
}

func (g *qgemmOp) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	a, y := in[0], out[0]
	bias := g.bias
	if bias == nil && len(in) > 2 && in[2] != nil {
		if in[2].Len() != g.lin.n {
			return fmt.Errorf("INT8 Gemm: C must be a bias vector of %d", g.lin.n)
		}
		bias = in[2].F32
	}
	if err := checkLinked("INT8 Gemm", g.int8In, g.outScale > 0, a, y); err != nil {
		return err
	}
	x := int8Source{f: a.F32}
	if g.int8In {
		x = int8Source{q: a.I8}
	}
	g.lin.run(ctx, x, a.Shape[0], y, bias, g.act, g.outScale)
	return nil
}

// Int8Inputs: with a constant B (one matrix) the kernel quantizes A per
// tensor and B per column; with two activations (attention's Q·Kᵀ and
// weights·V) it quantizes both per tensor. A constant A times an
// activation has no kernel.
func (mm *matMul) Int8Inputs(constant []bool) ([]int, bool) {
	switch {
	case constantAt(constant, 0):
		return nil, false
	case constantAt(constant, 1):
		return []int{0}, true
	}
	return []int{0, 1}, true
}

// Int8 returns the INT8 MatMul: with constant weights when Prepare gets
// B, else the product of two activations, which needs both scales.
func (mm *matMul) Int8(scales []float32) (Op, bool) {
	sa, sb := scaleOf(scales, 0), scaleOf(scales, 1)
	if !(sa > 0) {
		return nil, false
	}
	return &qmatMul{lin: qlinear{inScale: sa}, bScale: sb, bias: mm.bias}, true
}

// qmatMul is the INT8 MatMul. With a constant B (weights) it is the
// fully connected product of qlinear over all of A's rows. Otherwise each
// matrix of the broadcast batch is a product of two activations quantized
// per tensor: A packed as the left operand and B as the right one per
// matrix, the int32 sums scaled by aScale·bScale.
type qmatMul struct {
	lin     qlinear
	weights bool      // B is constant: lin holds it
	bias    []float32 // the float MatMul's fused bias (constant B only)
	bScale  float32
	scratch []qmatMulScratch // per worker, for two activations
}

type qmatMulScratch struct {
	qa, qb []int8
	a      qgemm.PackedA
	b      []int8 // B packed
	acc    []int32
}

func (mm *qmatMul) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	return (&matMul{}).Infer(in, consts)
}

func (mm *qmatMul) Prepare(consts []*tensor.Tensor) error {
	if len(consts) > 1 && consts[1] != nil {
		b := consts[1]
		if len(b.Shape) != 2 {
			return fmt.Errorf("INT8 MatMul: constant B %s is not one matrix", tensor.ShapeString(b.Shape))
		}
		k, n := b.Shape[0], b.Shape[1]
		mm.lin.prepare(transpose2D(b.F32, k, n), k, n)
		mm.weights = true
		return nil
	}
	if !(mm.bScale > 0) {
		return fmt.Errorf("INT8 MatMul: B is neither constant nor calibrated")
	}
	return nil
}

// Memory counts the packed weights and the scratch areas, per worker:
// for constant weights those of qlinear; for two activations both
// operands of one matrix quantized and packed, and its products.
func (mm *qmatMul) Memory(in []Meta, workers int) (prepared, working int64, err error) {
	out, pa, pb, err := matMulShapes(in[0].Shape, in[1].Shape)
	if err != nil {
		return 0, 0, err
	}
	m, k, n := pa[len(pa)-2], pa[len(pa)-1], pb[len(pb)-1]
	if mm.weights {
		return mm.lin.memory(tensor.NumElements(in[0].Shape)/max(1, k), k, n, workers)
	}
	kp, np := qgemm.PaddedK(k), (n+qgemm.NR-1)/qgemm.NR*qgemm.NR
	a, err := bufferBytes(1, "the quantized A", m, kp)
	if err != nil {
		return 0, 0, err
	}
	b, err := bufferBytes(1, "the quantized B", kp, np)
	if err != nil {
		return 0, 0, err
	}
	// A quantized and packed (int8, the int16 copy and the row sums), B
	// quantized and packed, the int32 products.
	areas := int64(min(max(1, workers), max(1, tensor.NumElements(out)/max(1, m*n))))
	return 0, areas * (4*a + 4*int64(m) + 2*b + 4*int64(m)*int64(n)), nil
}

func (mm *qmatMul) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	a, b, y := in[0], in[1], out[0]
	_, pa, pb, err := matMulShapes(a.Shape, b.Shape)
	if err != nil {
		return err
	}
	m, k, n := pa[len(pa)-2], pa[len(pa)-1], pb[len(pb)-1]
	if mm.weights {
		mm.lin.run(ctx, int8Source{f: a.F32}, len(a.F32)/max(1, k), y, mm.bias, Activation{}, 0)
		return nil
	}
	batch, _ := broadcastShape(pa[:len(pa)-2], pb[:len(pb)-2])
	count := tensor.NumElements(batch)
	sa := expandStrides(pa[:len(pa)-2], len(batch))
	sb := expandStrides(pb[:len(pb)-2], len(batch))
	workers := min(max(1, ctx.Workers), count)
	for len(mm.scratch) < workers {
		mm.scratch = append(mm.scratch, qmatMulScratch{})
	}
	scale := []float32{mm.lin.inScale * mm.bScale}
	parallel.Each(count, workers, func(wk, lo, hi int) {
		sc := &mm.scratch[wk]
		sc.qa, sc.qb, sc.acc = grow(sc.qa, m*k), grow(sc.qb, k*n), grow(sc.acc, m*n)
		if len(sc.b) < qgemm.PackedBSize(k, n) {
			sc.b = qgemm.MakePackedBBuffer(k, n)
		}
		for bi := lo; bi < hi; bi++ {
			ao, bo := batchOffsets(bi, batch, sa, sb)
			qgemm.Quantize(sc.qa, a.F32[ao*m*k:(ao+1)*m*k], mm.lin.inScale)
			qgemm.Quantize(sc.qb, b.F32[bo*k*n:(bo+1)*k*n], mm.bScale)
			sc.a.Repack(m, k, sc.qa, k)
			qgemm.PackBInto(sc.b, k, n, sc.qb, n)
			sc.a.MulPackedBuf(n, sc.b, sc.acc, n)
			qgemm.Dequantize(sc.acc, 1, m*n, m*n, scale, nil, false, y.F32[bi*m*n:(bi+1)*m*n], m*n)
		}
	})
	return nil
}
