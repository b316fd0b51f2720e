package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	register("ConvTranspose", 1, buildConvTranspose,
		"auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides")
}

// convTranspose is a 2-D (or 1-D) transposed convolution, the gradient of
// Conv with respect to its input: per image and group, one matrix product
// col[M/g·KH·KW × H·W] = Wᵀ·x spreads every input pixel over a kernel's
// worth of outputs, and col2im adds those into the output at
// input·stride + tap·dilation − pad. Weights (C × M/g × KH × KW) are
// transposed and packed for the GEMM once, when the graph is prepared.
type convTranspose struct {
	win         *window
	group       int
	outPadding  []int // output_padding, spatial
	outputShape []int // output_shape, spatial (or with N and C in front)
	packed      []*gemm.PackedA
	bias        []float32
	scratch     [][]float32 // col per worker
}

func buildConvTranspose(n *onnx.Node, opset int64) (Op, error) {
	w, err := readWindow(n, false)
	if err != nil {
		return nil, err
	}
	g := int(attrInt(n, "group", 1))
	if g < 1 {
		return nil, fmt.Errorf("group %d must be positive", g)
	}
	c := &convTranspose{win: w, group: g, outPadding: attrInts(n, "output_padding"), outputShape: attrInts(n, "output_shape")}
	for _, v := range c.outPadding {
		if v < 0 || v > tensor.MaxElements {
			return nil, fmt.Errorf("output_padding %v must be non-negative and at most %d", c.outPadding, tensor.MaxElements)
		}
	}
	for _, v := range c.outputShape {
		if v < 0 || v > tensor.MaxElements {
			return nil, fmt.Errorf("output_shape %v must be non-negative and at most %d", c.outputShape, tensor.MaxElements)
		}
	}
	return c, nil
}

// ctGeometry is a transposed convolution resolved for one input shape:
// two spatial dimensions (height 1 for 1-D), channels per group.
type ctGeometry struct {
	in, out, kernel, stride, dilation, padBegin [2]int
	cin, cout                                   int // per group
	n                                           int // images
}

// spatial right-aligns a per-spatial-axis attribute (rank values, or
// rank+2 for output_shape given with N and C) onto two dimensions.
func spatialAttr(name string, v []int, rank int, withNC bool) ([2]int, error) {
	var out [2]int
	if withNC && len(v) == rank+2 {
		v = v[2:]
	}
	if len(v) != rank {
		return out, fmt.Errorf("%s %v has %d values for %d spatial dimensions", name, v, len(v), rank)
	}
	copy(out[2-rank:], v)
	return out, nil
}

func (c *convTranspose) geometry(x, w []int) (ctGeometry, error) {
	var g ctGeometry
	n, ch, hw, err := spatialDims(x)
	if err != nil {
		return g, err
	}
	rank := len(x) - 2
	if c.win.rank != 0 && c.win.rank != rank {
		return g, fmt.Errorf("window attributes are %d-D, the input %s is %d-D", c.win.rank, tensor.ShapeString(x), rank)
	}
	if len(w) != len(x) {
		return g, fmt.Errorf("weights %s and input %s differ in rank", tensor.ShapeString(w), tensor.ShapeString(x))
	}
	if w[0] != ch || ch%c.group != 0 {
		return g, fmt.Errorf("input channels %d, weights %s (C × M/group × kernel) and group %d do not agree", ch, tensor.ShapeString(w), c.group)
	}
	kernel := [2]int{1, w[len(w)-1]}
	if rank == 2 {
		kernel[0] = w[2]
	}
	if c.win.explicitK && c.win.kernel != kernel {
		return g, fmt.Errorf("kernel_shape %v disagrees with weights %s", c.win.kernel, tensor.ShapeString(w))
	}
	var outPad, outShape [2]int
	if c.outPadding != nil {
		if outPad, err = spatialAttr("output_padding", c.outPadding, rank, false); err != nil {
			return g, err
		}
	}
	if c.outputShape != nil {
		if outShape, err = spatialAttr("output_shape", c.outputShape, rank, true); err != nil {
			return g, err
		}
	}
	g = ctGeometry{in: hw, kernel: kernel, stride: c.win.stride, dilation: c.win.dilation, cin: ch / c.group, cout: w[1], n: n}
	for i := 2 - rank; i < 2; i++ {
		s, d := g.stride[i], g.dilation[i]
		if outPad[i] >= s && outPad[i] >= d {
			return g, fmt.Errorf("output_padding %v must be smaller than the stride or the dilation", c.outPadding)
		}
		// The full extent s·(in−1) + output_padding + (k−1)·d + 1, its
		// products checked like shapes' sizes; the sums of a few values
		// of at most tensor.MaxElements cannot overflow.
		spread, err1 := tensor.CheckShape([]int{s, max(0, hw[i]-1)})
		reach, err2 := tensor.CheckShape([]int{kernel[i] - 1, d})
		if err1 != nil || err2 != nil {
			return g, fmt.Errorf("input %s with strides, kernel and dilations %v, %v, %v is too large", tensor.ShapeString(x), g.stride, kernel, g.dilation)
		}
		full := spread + outPad[i] + reach + 1
		switch {
		case c.outputShape != nil || c.win.autoPad == "SAME_UPPER" || c.win.autoPad == "SAME_LOWER":
			out := outShape[i]
			if c.outputShape == nil {
				if _, err := tensor.CheckShape([]int{hw[i], s}); err != nil {
					return g, fmt.Errorf("input %s times strides %v: %w", tensor.ShapeString(x), g.stride, err)
				}
				out = hw[i] * s
			}
			// As ONNX Runtime: an output larger than the full extent
			// is padded with zeros (bias) at the end.
			total := max(0, full-out)
			if c.win.autoPad == "SAME_UPPER" {
				g.padBegin[i] = total / 2
			} else {
				g.padBegin[i] = total - total/2
			}
			g.out[i] = out
		case c.win.autoPad == "VALID":
			g.out[i] = full
		default:
			g.padBegin[i] = c.win.padBegin[i]
			g.out[i] = full - c.win.padBegin[i] - c.win.padEnd[i]
			if g.out[i] < 0 {
				return g, fmt.Errorf("pads %d and %d exceed the output's full extent %d", c.win.padBegin[i], c.win.padEnd[i], full)
			}
		}
	}
	if rank == 1 { // the height of a 1-D transposed convolution
		g.out[0] = 1
	}
	return g, nil
}

func (c *convTranspose) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 3); err != nil {
		return nil, err
	}
	x, w := in[0], in[1]
	if x.DType != tensor.Float32 || w.DType != tensor.Float32 {
		return nil, fmt.Errorf("input and weights must be float32, got %v and %v", x.DType, w.DType)
	}
	g, err := c.geometry(x.Shape, w.Shape)
	if err != nil {
		return nil, err
	}
	m, err := tensor.CheckShape([]int{g.cout, c.group})
	if err != nil {
		return nil, fmt.Errorf("output channels: %w", err)
	}
	if len(in) > 2 && in[2].DType != tensor.Undefined && (len(in[2].Shape) != 1 || in[2].Shape[0] != m) {
		return nil, fmt.Errorf("bias shape %s, want [%d]", tensor.ShapeString(in[2].Shape), m)
	}
	return one(tensor.Float32, spatialShape(g.n, m, g.out, len(x.Shape))), nil
}

// pack returns the weights of each group transposed (M/g·KH·KW × C/g)
// and packed for the GEMM.
func (c *convTranspose) pack(w *tensor.Tensor) []*gemm.PackedA {
	cin := w.Shape[0] / c.group
	rows := tensor.NumElements(w.Shape[1:]) // M/g·KH·KW
	packed := make([]*gemm.PackedA, c.group)
	for g := range packed {
		t := transpose2D(w.F32[g*cin*rows:(g+1)*cin*rows], cin, rows)
		packed[g] = gemm.PackA(rows, cin, t, cin)
	}
	return packed
}

// Prepare packs constant weights.
func (c *convTranspose) Prepare(consts []*tensor.Tensor) error {
	if len(consts) < 2 || consts[1] == nil {
		return nil
	}
	c.packed = c.pack(consts[1])
	if len(consts) > 2 && consts[2] != nil {
		c.bias = consts[2].F32
	}
	return nil
}

// colSize is the floats of one unit's col matrix.
func (g *ctGeometry) colSize() (int, error) {
	return tensor.CheckShape([]int{g.cout, g.kernel[0], g.kernel[1], g.in[0], g.in[1]})
}

// Memory counts the packed weights (as many floats as the weights) and one
// col matrix per worker that Run uses.
func (c *convTranspose) Memory(in []Meta, workers int) (prepared, working int64, err error) {
	g, col, err := c.sized(in[0].Shape, in[1].Shape)
	if err != nil {
		return 0, 0, err
	}
	areas := unitAreas(g.n*c.group, max(1, workers))
	return 4 * int64(tensor.NumElements(in[1].Shape)), 4 * int64(areas) * int64(col), nil
}

// sized returns the geometry for input and weight shapes x and w, and the
// size of one col matrix.
func (c *convTranspose) sized(x, w []int) (g ctGeometry, colLen int, err error) {
	if g, err = c.geometry(x, w); err != nil {
		return g, 0, err
	}
	if colLen, err = g.colSize(); err != nil {
		return g, 0, fmt.Errorf("unfolded output: %w", err)
	}
	return g, colLen, nil
}

// resolve returns the geometry for the inputs of a run, the size of one
// col matrix and the bias (the prepared one, else input 2).
func (c *convTranspose) resolve(in []*tensor.Tensor) (g ctGeometry, colLen int, bias []float32, err error) {
	if g, colLen, err = c.sized(in[0].Shape, in[1].Shape); err != nil {
		return g, 0, nil, err
	}
	bias = c.bias
	if bias == nil && len(in) > 2 && in[2] != nil {
		bias = in[2].F32
	}
	return g, colLen, bias, nil
}

func (c *convTranspose) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, w, y := in[0], in[1], out[0]
	g, colLen, bias, err := c.resolve(in)
	if err != nil {
		return err
	}
	packed := c.packed
	if packed == nil { // weights computed at run time
		packed = c.pack(w)
	}
	inPlane := g.in[0] * g.in[1]
	workers := max(1, ctx.Workers)
	c.growScratch(unitAreas(g.n*c.group, workers), colLen)
	forUnits(g.n*c.group, workers, func(u, wk, inner int) {
		img, grp := u/c.group, u%c.group
		col := c.scratch[wk]
		packed[grp].MulEx(inPlane, g.unitInput(x, img, grp, c.group), inPlane, col, inPlane, false, nil, inner)
		g.scatter(col, g.unitOutput(y, img, grp, c.group), bias, grp, inner)
	})
	return nil
}

// unitAreas is how many scratch areas forUnits uses: one per worker when
// there are at least as many units (image × group) as workers, else one.
func unitAreas(units, workers int) int {
	if units >= workers {
		return workers
	}
	return 1
}

// forUnits calls unit(u, area, inner) for every unit (image × group) u:
// spread over the workers, each unit on one (inner = 1), when there are
// enough units, else one unit after another, each split over all workers
// (inner = workers). area indexes the scratch areas (unitAreas).
func forUnits(units, workers int, unit func(u, area, inner int)) {
	if units >= workers {
		parallel.Each(units, workers, func(wk, lo, hi int) {
			for u := lo; u < hi; u++ {
				unit(u, wk, 1)
			}
		})
		return
	}
	for u := 0; u < units; u++ {
		unit(u, 0, workers)
	}
}

// unitInput returns the input channels of group grp of image img.
func (g *ctGeometry) unitInput(x *tensor.Tensor, img, grp, groups int) []float32 {
	inPlane := g.in[0] * g.in[1]
	at := (img*groups + grp) * g.cin * inPlane
	return x.F32[at : at+g.cin*inPlane]
}

// unitOutput returns the output channels of group grp of image img.
func (g *ctGeometry) unitOutput(y *tensor.Tensor, img, grp, groups int) []float32 {
	outPlane := g.out[0] * g.out[1]
	at := (img*groups + grp) * g.cout * outPlane
	return y.F32[at : at+g.cout*outPlane]
}

// scatter writes one unit's output channels (dst) from its col matrix:
// each plane starts from the channel's bias and gets its taps added
// (col2im), the channels split over workers.
func (g *ctGeometry) scatter(col, dst, bias []float32, grp, workers int) {
	outPlane := g.out[0] * g.out[1]
	taps := g.kernel[0] * g.kernel[1] * g.in[0] * g.in[1]
	parallel.For(g.cout, workers, 1, func(lo, hi int) {
		for co := lo; co < hi; co++ {
			plane := dst[co*outPlane : (co+1)*outPlane]
			b := float32(0)
			if bias != nil {
				b = bias[grp*g.cout+co]
			}
			for i := range plane {
				plane[i] = b
			}
			g.col2im(col[co*taps:], plane)
		}
	})
}

func (c *convTranspose) growScratch(workers, n int) {
	for len(c.scratch) < workers {
		c.scratch = append(c.scratch, nil)
	}
	for i := 0; i < workers; i++ {
		c.scratch[i] = grow(c.scratch[i], n)
	}
}

// col2im adds one output channel's taps (col: KH·KW rows of H·W) into its
// output plane, each input pixel (iy, ix) landing at
// (iy·stride + ky·dilation − pad) per axis when that lies inside.
func (g *ctGeometry) col2im(col, plane []float32) {
	inPlane := g.in[0] * g.in[1]
	ow := g.out[1]
	for ky := 0; ky < g.kernel[0]; ky++ {
		y0, yLo, yHi := g.span(0, ky)
		for kx := 0; kx < g.kernel[1]; kx++ {
			x0, xLo, xHi := g.span(1, kx)
			row := col[(ky*g.kernel[1]+kx)*inPlane:]
			for iy := yLo; iy < yHi; iy++ {
				oy := iy*g.stride[0] + y0
				src := row[iy*g.in[1] : (iy+1)*g.in[1]]
				dst := plane[oy*ow : (oy+1)*ow]
				for ix := xLo; ix < xHi; ix++ {
					dst[ix*g.stride[1]+x0] += src[ix]
				}
			}
		}
	}
}

// span returns, for tap k of axis a, the output offset of input index 0
// (k·dilation − pad) and the input indices [lo, hi) that land inside the
// output.
func (g *ctGeometry) span(a, k int) (off, lo, hi int) {
	s := g.stride[a]
	off = k*g.dilation[a] - g.padBegin[a]
	// i·s + off ≥ 0 and i·s + off ≤ out−1.
	if off < 0 {
		lo = (-off + s - 1) / s
	}
	last := g.out[a] - 1 - off
	if last < 0 {
		return off, 0, 0
	}
	hi = min(g.in[a], last/s+1)
	return off, lo, max(lo, hi)
}
