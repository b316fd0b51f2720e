package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	register("Conv", 1, buildConv, "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides")
}

// conv is a 2-D (or 1-D) convolution computed as one matrix product per
// image and group: out[M/g × OH·OW] = W[M/g × C/g·KH·KW] · col, where col is
// the im2col unfolding of the input. Weights are packed for the GEMM kernel
// once, when the graph is prepared.
type conv struct {
	win    *window
	group  int
	act    Activation
	packed []*gemm.PackedA // per group, nil until Prepare
	bias   []float32
}

func buildConv(n *onnx.Node, opset int64) (Op, error) {
	w, err := readWindow(n, false)
	if err != nil {
		return nil, err
	}
	g := int(attrInt(n, "group", 1))
	if g < 1 {
		return nil, fmt.Errorf("group %d must be positive", g)
	}
	return &conv{win: w, group: g}, nil
}

func (c *conv) FuseActivation(a Activation) bool {
	if c.act.Kind != NoActivation {
		return false
	}
	c.act = a
	return true
}

func (c *conv) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 3); err != nil {
		return nil, err
	}
	x, w := in[0], in[1]
	if x.DType != tensor.Float32 || w.DType != tensor.Float32 {
		return nil, fmt.Errorf("input and weights must be float32, got %v and %v", x.DType, w.DType)
	}
	n, ch, hw, err := spatialDims(x.Shape)
	if err != nil {
		return nil, err
	}
	if len(w.Shape) != len(x.Shape) {
		return nil, fmt.Errorf("weights %s and input %s differ in rank", tensor.ShapeString(w.Shape), tensor.ShapeString(x.Shape))
	}
	m := w.Shape[0]
	if ch%c.group != 0 || m%c.group != 0 || w.Shape[1]*c.group != ch {
		return nil, fmt.Errorf("input channels %d, weights %s and group %d do not agree", ch, tensor.ShapeString(w.Shape), c.group)
	}
	kh, kw := 1, w.Shape[len(w.Shape)-1]
	if len(w.Shape) == 4 {
		kh = w.Shape[2]
	}
	if c.win.explicitK && (c.win.kernel[0] != kh || c.win.kernel[1] != kw) {
		return nil, fmt.Errorf("kernel_shape %v disagrees with weights %s", c.win.kernel, tensor.ShapeString(w.Shape))
	}
	c.win.kernel = [2]int{kh, kw}
	if len(in) > 2 && in[2].DType != tensor.Undefined && (len(in[2].Shape) != 1 || in[2].Shape[0] != m) {
		return nil, fmt.Errorf("bias shape %s, want [%d]", tensor.ShapeString(in[2].Shape), m)
	}
	_, out, err := c.win.geometry(hw)
	if err != nil {
		return nil, err
	}
	return one(tensor.Float32, spatialShape(n, m, out, len(x.Shape))), nil
}

// Prepare packs constant weights for the GEMM kernel.
func (c *conv) Prepare(consts []*tensor.Tensor) error {
	if len(consts) < 2 || consts[1] == nil {
		return nil
	}
	w := consts[1]
	m := w.Shape[0] / c.group
	k := tensor.NumElements(w.Shape[1:])
	c.packed = make([]*gemm.PackedA, c.group)
	for g := range c.packed {
		c.packed[g] = gemm.PackA(m, k, w.F32[g*m*k:], k)
	}
	if len(consts) > 2 && consts[2] != nil {
		c.bias = consts[2].F32
	}
	return nil
}

func (c *conv) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, w, y := in[0], in[1], out[0]
	n, ch, hw, _ := spatialDims(x.Shape)
	win, ohw, err := c.win.geometry(hw)
	if err != nil {
		return err
	}
	packed, bias := c.packed, c.bias
	if packed == nil { // weights computed at run time: pack per call
		m := w.Shape[0] / c.group
		k := tensor.NumElements(w.Shape[1:])
		packed = make([]*gemm.PackedA, c.group)
		for g := range packed {
			packed[g] = gemm.PackA(m, k, w.F32[g*m*k:], k)
		}
	}
	if bias == nil && len(in) > 2 && in[2] != nil {
		bias = in[2].F32
	}
	geo := convGeometry{
		win: win, inHW: hw, outHW: ohw,
		cin: ch / c.group, cout: w.Shape[0] / c.group,
	}
	geo.k = geo.cin * win.kernel[0] * win.kernel[1]
	geo.spatial = ohw[0] * ohw[1]
	geo.pointwise = win.kernel == [2]int{1, 1} && win.stride == [2]int{1, 1} &&
		win.padBegin == [2]int{} && win.padEnd == [2]int{}

	units := n * c.group
	imgIn, imgOut := ch*hw[0]*hw[1], w.Shape[0]*geo.spatial
	runUnit := func(u int, col []float32, workers int) {
		img, g := u/c.group, u%c.group
		src := x.F32[img*imgIn+g*geo.cin*hw[0]*hw[1]:]
		dst := y.F32[img*imgOut+g*geo.cout*geo.spatial : img*imgOut+(g+1)*geo.cout*geo.spatial]
		b := src
		if !geo.pointwise {
			geo.im2col(src, col, workers)
			b = col
		}
		parallel.For(geo.spatial, workers, 64, func(lo, hi int) {
			packed[g].Mul(hi-lo, b[lo:], geo.spatial, dst[lo:], geo.spatial, false)
		})
		var gb []float32
		if bias != nil {
			gb = bias[g*geo.cout : (g+1)*geo.cout]
		}
		finishRows(dst, geo.cout, geo.spatial, gb, c.act)
	}
	colSize := 0
	if !geo.pointwise {
		colSize = geo.k * geo.spatial
	}
	workers := max(1, ctx.Workers)
	if units >= workers {
		parallel.Each(units, workers, func(_, lo, hi int) {
			col := make([]float32, colSize)
			for u := lo; u < hi; u++ {
				runUnit(u, col, 1)
			}
		})
		return nil
	}
	col := make([]float32, colSize)
	for u := 0; u < units; u++ {
		runUnit(u, col, workers)
	}
	return nil
}

// finishRows adds a per-row bias and applies the activation to a rows×cols
// block.
func finishRows(dst []float32, rows, cols int, bias []float32, act Activation) {
	for r := 0; r < rows; r++ {
		row := dst[r*cols : (r+1)*cols]
		if bias != nil {
			b := bias[r]
			for i := range row {
				row[i] += b
			}
		}
		act.apply(row)
	}
}

type convGeometry struct {
	win          window
	inHW, outHW  [2]int
	cin, cout, k int
	spatial      int
	pointwise    bool
}

// im2col unfolds one image's group of input channels into col[k × OH·OW],
// row (c·KH + kh)·KW + kw holding the input value each output position sees
// through that kernel tap (0 in the padding).
func (g *convGeometry) im2col(src, col []float32, workers int) {
	kh, kw := g.win.kernel[0], g.win.kernel[1]
	ih, iw := g.inHW[0], g.inHW[1]
	oh, ow := g.outHW[0], g.outHW[1]
	sh, sw := g.win.stride[0], g.win.stride[1]
	dh, dw := g.win.dilation[0], g.win.dilation[1]
	ph, pw := g.win.padBegin[0], g.win.padBegin[1]
	parallel.For(g.k, workers, 8, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			c, r := row/(kh*kw), row%(kh*kw)
			ky, kx := r/kw, r%kw
			plane := src[c*ih*iw : (c+1)*ih*iw]
			dst := col[row*g.spatial : (row+1)*g.spatial]
			// Output columns whose input column is inside the image.
			x0 := ceilDiv(pw-kx*dw, sw)
			x1 := ceilDiv(iw+pw-kx*dw, sw)
			x0, x1 = clamp(x0, 0, ow), clamp(x1, 0, ow)
			for oy := 0; oy < oh; oy++ {
				line := dst[oy*ow : (oy+1)*ow]
				y := oy*sh - ph + ky*dh
				if y < 0 || y >= ih || x0 >= x1 {
					clear(line)
					continue
				}
				clear(line[:x0])
				clear(line[x1:])
				in := plane[y*iw:]
				xs := x0*sw - pw + kx*dw
				if sw == 1 {
					copy(line[x0:x1], in[xs:xs+x1-x0])
					continue
				}
				for ox := x0; ox < x1; ox++ {
					line[ox] = in[xs]
					xs += sw
				}
			}
		}
	})
}

func ceilDiv(a, b int) int {
	if a <= 0 {
		return -((-a) / b)
	}
	return (a + b - 1) / b
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
