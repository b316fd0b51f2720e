package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/qgemm"
	"github.com/int8cal/int8cal/core/tensor"
)

// Int8Inputs: the input is quantized per tensor; the weights must be
// constant.
func (c *convTranspose) Int8Inputs(constant []bool) ([]int, bool) {
	return []int{0}, constantAt(constant, 1)
}

// Int8 makes the transposed convolution compute its products in integers:
// the input quantized per tensor, the weights per output channel, the
// int32 sums dequantized into the col matrix that col2im spreads in
// float32 as before (with the float bias).
func (c *convTranspose) Int8(scales []float32) (Op, bool) {
	inScale := scaleOf(scales, 0)
	if !(inScale > 0) {
		return nil, false
	}
	return &qconvTranspose{convTranspose: convTranspose{win: c.win, group: c.group, outPadding: c.outPadding, outputShape: c.outputShape}, inScale: inScale}, true
}

// qconvTranspose is the INT8 transposed convolution. Weights
// [C, M/g, kh, kw] get one scale per index of axis 1, over all input
// channels of every group: that is one scale per output channel when
// group = 1, and with groups the output channels of the same index in
// each group share one, which is what a per-axis DequantizeLinear on axis
// 1 (the Q/DQ export, and ONNX Runtime's and TensorRT's reading of it)
// can express.
type qconvTranspose struct {
	convTranspose
	inScale  float32
	qpacked  []*qgemm.PackedA // per group: Wᵀ (M/g·kh·kw × C/g), int8
	rowScale []float32        // per row of Wᵀ: inScale·its output channel's scale
	qscratch []qctScratch     // per scratch area (unitAreas)
}

type qctScratch struct {
	x   []int8    // the unit's quantized input channels
	b   []int8    // the same, packed
	acc []int32   // the integer products
	col []float32 // dequantized, for col2im
}

// Prepare quantizes the weights and packs them per group, transposed.
func (c *qconvTranspose) Prepare(consts []*tensor.Tensor) error {
	if len(consts) < 2 || consts[1] == nil {
		return fmt.Errorf("INT8 ConvTranspose needs constant weights")
	}
	w := consts[1]
	ch, cout := w.Shape[0], w.Shape[1]
	taps := tensor.NumElements(w.Shape[2:])
	cin := ch / c.group
	// Axis 1 first: row j holds w[:, j, taps...], so that QuantizeWeights'
	// rows are the channels of axis 1.
	byOut := make([]float32, len(w.F32))
	for ci := 0; ci < ch; ci++ {
		for j := 0; j < cout; j++ {
			copy(byOut[(j*ch+ci)*taps:(j*ch+ci+1)*taps], w.F32[(ci*cout+j)*taps:(ci*cout+j+1)*taps])
		}
	}
	q, scales := qgemm.QuantizeWeights(byOut, cout, ch*taps)
	rows := cout * taps
	c.rowScale = make([]float32, rows)
	for r := range c.rowScale {
		c.rowScale[r] = scales[r/taps] * c.inScale
	}
	c.qpacked = make([]*qgemm.PackedA, c.group)
	wt := make([]int8, rows*cin)
	for g := range c.qpacked {
		for j := 0; j < cout; j++ {
			for t := 0; t < taps; t++ {
				for ci := 0; ci < cin; ci++ {
					wt[(j*taps+t)*cin+ci] = q[(j*ch+g*cin+ci)*taps+t]
				}
			}
		}
		c.qpacked[g] = qgemm.PackA(rows, cin, wt, cin)
	}
	if len(consts) > 2 && consts[2] != nil {
		c.bias = consts[2].F32
	}
	return nil
}

// Memory counts the int8 weights packed with their scales, and the scratch
// areas Run keeps.
func (c *qconvTranspose) Memory(in []Meta, workers int) (prepared, working int64, err error) {
	g, col, err := c.sized(in[0].Shape, in[1].Shape)
	if err != nil {
		return 0, 0, err
	}
	rows := g.cout * g.kernel[0] * g.kernel[1]
	weights, err := bufferBytes(1, "the packed int8 weights", c.group, rows, qgemm.PaddedK(g.cin))
	if err != nil {
		return 0, 0, err
	}
	inPlane := g.in[0] * g.in[1]
	x, err := bufferBytes(1, "the quantized input", qgemm.PaddedK(g.cin), (inPlane+qgemm.NR-1)/qgemm.NR*qgemm.NR)
	if err != nil {
		return 0, 0, err
	}
	// Weights as int8 and int16 with row sums; per area the quantized
	// input and its packing, the int32 products and the float col.
	areas := int64(unitAreas(g.n*c.group, max(1, workers)))
	return 3*weights + 8*int64(c.group*rows), areas * (2*x + 8*int64(col)), nil
}

func (c *qconvTranspose) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	g, colLen, bias, err := c.resolve(in)
	if err != nil {
		return err
	}
	inPlane := g.in[0] * g.in[1]
	rows := g.cout * g.kernel[0] * g.kernel[1]
	workers := max(1, ctx.Workers)
	areas := unitAreas(g.n*c.group, workers)
	for len(c.qscratch) < areas {
		c.qscratch = append(c.qscratch, qctScratch{})
	}
	for i := 0; i < areas; i++ {
		sc := &c.qscratch[i]
		sc.x, sc.acc, sc.col = grow(sc.x, g.cin*inPlane), grow(sc.acc, colLen), grow(sc.col, colLen)
		if len(sc.b) < qgemm.PackedBSize(g.cin, inPlane) {
			sc.b = qgemm.MakePackedBBuffer(g.cin, inPlane)
		}
	}
	forUnits(g.n*c.group, workers, func(u, area, inner int) {
		img, grp := u/c.group, u%c.group
		sc := &c.qscratch[area]
		qgemm.Quantize(sc.x, g.unitInput(x, img, grp, c.group), c.inScale)
		qgemm.PackBInto(sc.b, g.cin, inPlane, sc.x, inPlane)
		// With fewer units than workers, the workers share the columns
		// (input pixels) of the product, whole packed panels each.
		panels := (inPlane + qgemm.NR - 1) / qgemm.NR
		parallel.For(panels, inner, 1, func(lo, hi int) {
			j0, j1 := lo*qgemm.NR, min(hi*qgemm.NR, inPlane)
			c.qpacked[grp].MulPackedBuf(j1-j0, sc.b[lo*qgemm.NR*qgemm.PaddedK(g.cin):], sc.acc[j0:], inPlane)
			qgemm.Dequantize(sc.acc[j0:], rows, j1-j0, inPlane, c.rowScale, nil, false, sc.col[j0:], inPlane)
		})
		g.scatter(sc.col, g.unitOutput(y, img, grp, c.group), bias, grp, inner)
	})
	return nil
}
