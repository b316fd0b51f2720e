package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/qgemm"
	"github.com/int8cal/int8cal/core/tensor"
)

// Int8Capable is implemented by operators with an INT8 kernel. The planner
// first asks which inputs the kernel quantizes per tensor at run time
// (Int8Inputs, given which inputs are constants: weights are quantized per
// output channel when the kernel is prepared and need no calibrated range),
// looks up a calibrated scale for each, and only when all of them have one
// asks for the kernel (Int8).
type Int8Capable interface {
	// Int8Inputs returns the indices of the inputs that the INT8 kernel
	// quantizes per tensor, or false when no INT8 kernel covers this
	// instance (weights not constant, an attribute combination the kernel
	// does not cover).
	Int8Inputs(constant []bool) ([]int, bool)
	// Int8 returns the INT8 variant of the operator (keeping its fused
	// activation and residual) for inputs quantized per tensor with
	// scales[i] (amax/127) for each input i that Int8Inputs named; the
	// other entries are 0 and ignored. It returns false when a needed
	// scale is not a positive number.
	Int8(scales []float32) (Op, bool)
}

// scaleOf returns scales[i], or 0 when there is no such entry.
func scaleOf(scales []float32, i int) float32 {
	if i < len(scales) {
		return scales[i]
	}
	return 0
}

// constantAt reports whether input i is constant (false when there is no
// such entry).
func constantAt(constant []bool, i int) bool { return i < len(constant) && constant[i] }

// Int8Inputs: the input is quantized per tensor; the weights must be
// constant.
func (c *conv) Int8Inputs(constant []bool) ([]int, bool) {
	return []int{0}, constantAt(constant, 1)
}

// Int8 makes the convolution compute its products in integers: the input
// is quantized per tensor (round half to even, [-128,127]), the weights per
// output channel ([-127,127], scale max|w|/127), int8×int8 products are
// summed in int32 (core/qgemm) and the sums dequantized with the two
// scales, the float bias added and the activation applied in float32.
func (c *conv) Int8(scales []float32) (Op, bool) {
	inScale := scaleOf(scales, 0)
	if !(inScale > 0) {
		return nil, false
	}
	return &qconv{conv: *c, inScale: inScale}, true
}

// Int8Linker is implemented by INT8 operators that can pass activations
// to one another in int8. A plan links a tensor whose producer and every
// reader (each reading it as its input 0) are such operators: the producer
// quantizes its output with the readers' scale in its epilogue
// (qgemm.RequantizePlanes) and writes the bytes to the tensor's I8, and the
// readers take them as they are. The bytes are those the readers would
// have made of the float32 output, so the results do not change; the
// traffic of the tensor drops from 4 bytes a value written and read to 1.
type Int8Linker interface {
	// Int8InputScale returns the scale input 0 is quantized with.
	Int8InputScale() float32
	// LinkInt8 makes the operator read input 0 as int8 (in) and, for
	// outScale > 0, write its output as int8 quantized with outScale.
	LinkInt8(in bool, outScale float32)
}

// Int8Blocker is implemented by INT8 operators that can pass a linked
// tensor with its channels interleaved in blocks of four
// (qgemm.RequantizeBlocks' layout, NCHW4c). A plan blocks a linked tensor
// whose producer can write it so and whose readers, each reading it as
// its input 0, can all read it so: a 1×1 convolution's implicit GEMM
// reads its input in that layout, and then reads the tensor in place
// (Int8Slack) instead of interleaving its channels into a copy. The
// bytes are the same, only their order differs.
type Int8Blocker interface {
	// CanWriteBlocked reports whether the operator, given its inputs'
	// metas, can write its int8 output blocked.
	CanWriteBlocked(in []Meta) bool
	// CanReadBlocked reports whether it can read input 0 blocked.
	CanReadBlocked(in []Meta) bool
	// SetBlocked makes it read input 0 (in) and write its output (out)
	// blocked.
	SetBlocked(in, out bool)
}

// Int8Passer is implemented by operators that can pass an int8 tensor on
// at the same scale, giving the bytes quantizing their float32 output
// would give: those that move values (Reshape, Flatten) and max pooling.
// A plan links a chain producer → passers → INT8 readers through them.
type Int8Passer interface {
	// CanPassInt8 reports whether this instance can.
	CanPassInt8() bool
	// PassInt8 makes it read input 0 and write its output in int8.
	PassInt8()
}

// qconv is the INT8 convolution. Its output is float32, or int8 when a
// plan links it to the INT8 layers that read it (Int8Linker).
type qconv struct {
	conv
	inScale float32
	// int8In: input 0 is int8 (I8), quantized with inScale by its
	// producer. outScale > 0: the output is int8 (I8) quantized with it.
	// blockedIn, blockedOut: those int8 tensors are blocked (Int8Blocker).
	int8In                bool
	outScale              float32
	blockedIn, blockedOut bool
	qpacked               []*qgemm.PackedA // per group (nil for a depthwise convolution)
	dw                    []int32          // a depthwise convolution's weights (int8 values)
	// dwRows: the depthwise weights for the row kernel; once rowsMade,
	// rows is its layout for the input size rowsHW (nil where it does not
	// run).
	dwRows   *qgemm.DepthwiseWeights
	rows     *qgemm.DepthwiseRows
	rowsHW   [2]int
	rowsMade bool
	rowScale []float32 // per output channel (groups in a row): inScale·weight scale
	qscratch []qconvScratch
	// taps: qpacked holds the weights in the implicit GEMM's k order
	// (int8taps.go), and tapsGeo is the layout for the input size tapsHW.
	taps    bool
	tapsGeo tapsGeometry
	tapsHW  [2]int
}

type qconvScratch struct {
	x      []int8 // the image's quantized input planes
	padded []int8 // wide strategy: zero-padded planes; implicit GEMM: the interleaved image
	// laidOut is the input size padded was zeroed for (implicit GEMM: its
	// padding is never written, so it must be cleared when the size
	// changes).
	laidOut [2]int
	line    []int8  // qgemm.KGroup unfolded rows
	col     []int8  // the unfolded matrix, packed
	acc     []int32 // the integer products
}

// Prepare quantizes the weights and packs them for the GEMM, or keeps
// them as they are for the direct depthwise kernel.
func (c *qconv) Prepare(consts []*tensor.Tensor) error {
	if len(consts) < 2 || consts[1] == nil {
		return fmt.Errorf("INT8 convolution needs constant weights")
	}
	w := consts[1]
	m := w.Shape[0] / c.group
	k := tensor.NumElements(w.Shape[1:])
	depthwise := isDepthwise(w.Shape, c.group)
	c.qpacked = make([]*qgemm.PackedA, c.group)
	c.rowScale = make([]float32, 0, w.Shape[0])
	c.dw, c.dwRows, c.rows, c.rowsMade = nil, nil, nil, false
	var dwQ []int8
	cin, taps := w.Shape[1], tensor.NumElements(w.Shape[2:])
	c.taps = !depthwise && tapsWorthIt(cin, taps)
	c.tapsHW = [2]int{}
	for g := range c.qpacked {
		q, scales := qgemm.QuantizeWeights(w.F32[g*m*k:(g+1)*m*k], m, k)
		switch {
		case depthwise:
			c.dw = append(c.dw, dwWeights(q)...)
			dwQ = append(dwQ, q...)
		case c.taps:
			reordered, kt := tapsWeights(q, m, cin, taps)
			c.qpacked[g] = qgemm.PackTapsA(m, kt, reordered, kt)
		default:
			c.qpacked[g] = qgemm.PackA(m, k, q, k)
		}
		for i := range scales {
			scales[i] *= c.inScale
		}
		c.rowScale = append(c.rowScale, scales...)
	}
	if depthwise && (len(w.Shape) == 3 || len(w.Shape) == 4) {
		kh, kw := kernelHW(w.Shape)
		c.dwRows = qgemm.NewDepthwiseWeights(dwQ, w.Shape[0], kh, kw)
	}
	if len(consts) > 2 && consts[2] != nil {
		c.bias = consts[2].F32
	}
	return nil
}

// Int8InputScale returns the scale the input is quantized with.
func (c *qconv) Int8InputScale() float32 { return c.inScale }

// LinkInt8 sets what the convolution reads and writes in int8.
func (c *qconv) LinkInt8(in bool, outScale float32) { c.int8In, c.outScale = in, outScale }

// pointwiseBlocks reports whether the convolution, over inputs of metas
// in, is a 1×1 one of stride 1 without padding in one group, on the
// implicit GEMM: its interleaved input is the blocked layout itself, and
// its products' columns are the output positions. It returns the
// geometry.
func (c *qconv) pointwiseBlocks(in []Meta) (convGeometry, bool) {
	if len(in) < 2 || c.group != 1 || !c.taps {
		return convGeometry{}, false
	}
	geo, _, err := c.geometryOf(in[0].Shape, in[1].Shape)
	w := &geo.win
	return geo, err == nil && w.kernel == [2]int{1, 1} && w.stride == [2]int{1, 1} && w.padBegin == [2]int{} && w.padEnd == [2]int{}
}

// CanReadBlocked: a pointwise convolution (pointwiseBlocks) whose input
// channels fill whole blocks.
func (c *qconv) CanReadBlocked(in []Meta) bool {
	geo, ok := c.pointwiseBlocks(in)
	return ok && geo.cin%qgemm.KGroup == 0
}

// CanWriteBlocked: without a residual, output channels in whole blocks,
// where RequantizeBlocks has a vector kernel; a pointwise convolution
// (pointwiseBlocks), or a depthwise one (one channel a group) that the
// row kernel runs, whose chunks of channels then come in whole blocks.
func (c *qconv) CanWriteBlocked(in []Meta) bool {
	if c.residual || !qgemm.BlocksVector() || len(in) < 2 || len(in[1].Shape) < 1 || in[1].Shape[0]%4 != 0 {
		return false
	}
	if _, ok := c.pointwiseBlocks(in); ok {
		return true
	}
	if !isDepthwise(in[1].Shape, c.group) || in[1].Shape[0] != c.group {
		return false
	}
	geo, _, err := c.geometryOf(in[0].Shape, in[1].Shape)
	if err != nil {
		return false
	}
	return geo.depthwiseRows() != nil
}

// SetBlocked sets which of its int8 tensors are blocked.
func (c *qconv) SetBlocked(in, out bool) { c.blockedIn, c.blockedOut = in, out }

// checkLinked reports a tensor linked as int8 (in, out) that does not
// hold the bytes of its shape: a plan bug, reported rather than read out
// of bounds.
func checkLinked(op string, in, out bool, x, y *tensor.Tensor) error {
	for _, t := range []struct {
		linked bool
		what   string
		t      *tensor.Tensor
	}{{in, "input", x}, {out, "output", y}} {
		if t.linked && len(t.t.I8) != t.t.Len() {
			return fmt.Errorf("%s: %s linked as int8 holds %d bytes for shape %v", op, t.what, len(t.t.I8), t.t.Shape)
		}
	}
	return nil
}

func (c *qconv) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	if err := checkLinked("INT8 convolution", c.int8In, c.outScale > 0, in[0], out[0]); err != nil {
		return err
	}
	if c.dw != nil {
		return c.runDepthwise(ctx, in, out)
	}
	geo, n, bias, err := c.geometryFor(in)
	if err != nil {
		return err
	}
	if c.taps {
		return c.runTaps(ctx, &geo, n, bias, in, out)
	}
	hw, win := geo.inHW, geo.win
	cols := geo.spatial
	if geo.wide {
		cols = geo.wideN
	}
	plane := hw[0] * hw[1]
	runUnit := func(u int, sc *qconvScratch) {
		g := u % c.group
		src, outAt, res := c.unitTensors(&geo, u, in)
		// The group's planes are quantized at once (rows of small planes
		// are shorter than a vector), then copied into the padded planes.
		x := src.q
		if x == nil {
			x = sc.x
			qgemm.Quantize(x, src.f, c.inScale)
		}
		if geo.wide {
			padPlanes(&geo, x, sc.padded, copyInt8)
		}
		// Rows of the unfolded matrix are built qgemm.KGroup at a time
		// into sc.line and packed together: the packed layout interleaves
		// that many rows, so single rows would be scattered byte by byte.
		kh, kw := win.kernel[0], win.kernel[1]
		for row0 := 0; row0 < geo.k; row0 += qgemm.KGroup {
			rows := min(qgemm.KGroup, geo.k-row0)
			for j := 0; j < rows; j++ {
				row := row0 + j
				ci, r := row/(kh*kw), row%(kh*kw)
				line := sc.line[j*cols : (j+1)*cols]
				if geo.wide {
					ph, pw := geo.padHW[0], geo.padHW[1]
					at := ci*ph*pw + (r/kw)*win.dilation[0]*pw + (r%kw)*win.dilation[1]
					copy(line, sc.padded[at:at+geo.wideN])
				} else {
					unfoldTap(&geo, x[ci*plane:(ci+1)*plane], line, r/kw, r%kw)
				}
			}
			qgemm.PackBRows(sc.col, geo.k, cols, row0, rows, sc.line, cols)
		}
		c.qpacked[g].MulPackedBuf(cols, sc.col, sc.acc, cols)
		oh, ow, ldc := 1, geo.spatial, cols
		if geo.wide {
			oh, ow, ldc = geo.outHW[0], geo.outHW[1], geo.padHW[1]
		}
		c.dequantize(&geo, g, sc.acc, cols, 0, oh, ow, ldc, bias, res, out[0], outAt)
	}
	sizes, err := geo.int8ScratchSizes()
	if err != nil {
		return err
	}
	units := n * c.group
	areas := c.areas(ctx.Workers, units)
	for i := range areas {
		sc := &areas[i]
		if !c.int8In {
			sc.x = grow(sc.x, sizes.x)
		}
		sc.line = grow(sc.line, sizes.line)
		if len(sc.col) < sizes.col {
			sc.col = qgemm.MakePackedBBuffer(geo.k, cols)
		}
		sc.acc = grow(sc.acc, sizes.acc)
		if geo.wide {
			sc.padded = grow(sc.padded, sizes.padded)
		}
	}
	parallel.Each(units, len(areas), func(wk, lo, hi int) {
		for u := lo; u < hi; u++ {
			runUnit(u, &areas[wk])
		}
	})
	return nil
}

// int8Source is an INT8 layer's input planes: float32 values to quantize
// (f), or bytes its producer already quantized with the layer's scale (q).
type int8Source struct {
	f []float32
	q []int8
}

// sourceOf returns elements [lo, hi) of x as an int8Source: its bytes
// when the input is linked as int8, else its floats.
func (c *qconv) sourceOf(x *tensor.Tensor, lo, hi int) int8Source {
	if c.int8In {
		return int8Source{q: x.I8[lo:hi]}
	}
	return int8Source{f: x.F32[lo:hi]}
}

// unitTensors returns the input planes, where the output planes start
// (an element offset into out[0]) and the residual planes (nil without a
// residual) of unit u: image u / group, group u mod group.
func (c *qconv) unitTensors(geo *convGeometry, u int, in []*tensor.Tensor) (src int8Source, outAt int, res []float32) {
	img, g := u/c.group, u%c.group
	plane := geo.inHW[0] * geo.inHW[1]
	imgIn, imgOut := in[0].Shape[1]*plane, in[1].Shape[0]*geo.spatial
	src = c.sourceOf(in[0], img*imgIn+g*geo.cin*plane, img*imgIn+(g+1)*geo.cin*plane)
	outAt = img*imgOut + g*geo.cout*geo.spatial
	if c.residual {
		res = in[3].F32[outAt : outAt+geo.cout*geo.spatial]
	}
	return src, outAt, res
}

// dequantize converts output rows [y0, y0+rows) of group g from the
// integer products acc (output channel oc's at oc·plane, rows at stride
// ldc: a wide product's valid columns are read straight out of its padded
// rows) into the group's output planes, from element outAt of y on:
// scale, bias, residual (res: the group's planes), activation. Products
// whose channels are rows·ldc apart go in one call, every channel's rows
// where its output plane has them (a call per channel cost more than the
// work on small planes and short chunks); others one per output channel.
func (c *qconv) dequantize(geo *convGeometry, g int, acc []int32, plane, y0, rows, ow, ldc int, bias, res []float32, y *tensor.Tensor, outAt int) {
	var b []float32
	if bias != nil {
		b = bias[g*geo.cout : (g+1)*geo.cout]
	}
	scales := c.rowScale[g*geo.cout : (g+1)*geo.cout]
	if c.blockedOut { // one group, columns the output positions (CanWriteBlocked)
		qgemm.RequantizeBlocks(acc, geo.cout, rows*ow, plane, scales, b, c.act.int8Epilogue(), c.outScale, y.I8[outAt:], y0*ow, geo.spatial)
		return
	}
	if plane == rows*ldc {
		var r []float32
		if res != nil {
			r = res[y0*ow:]
		}
		c.epilogue(acc, geo.cout, rows, ow, ldc, scales, b, r, y, outAt+y0*ow, geo.spatial)
		return
	}
	for oc := 0; oc < geo.cout; oc++ {
		var bo, r []float32
		if b != nil {
			bo = b[oc : oc+1]
		}
		at := oc*geo.spatial + y0*ow
		if res != nil {
			r = res[at : at+rows*ow]
		}
		c.epilogue(acc[oc*plane:], 1, rows, ow, ldc, scales[oc:oc+1], bo, r, y, outAt+at, rows*ow)
	}
}

// epilogue turns planes output channels' products (rows×cols each, at
// stride ldc, a plane's rows one after the other) into rows×cols of
// output planes pitch apart, from element at of y on: float32
// (qgemm.DequantizePlanes), or int8 requantized with outScale when the
// output is linked (qgemm.RequantizePlanes). res, when not nil, is laid
// out as the output.
func (c *qconv) epilogue(acc []int32, planes, rows, cols, ldc int, scales, bias, res []float32, y *tensor.Tensor, at, pitch int) {
	act := c.act.int8Epilogue()
	n := (planes-1)*pitch + rows*cols
	if c.outScale > 0 {
		qgemm.RequantizePlanes(acc, planes, rows, cols, ldc, scales, bias, res, act, c.outScale, y.I8[at:at+n], cols, pitch)
		return
	}
	qgemm.DequantizePlanes(acc, planes, rows, cols, ldc, scales, bias, res, act, y.F32[at:at+n], cols, pitch)
}

// int8Epilogue is the activation as the INT8 epilogue applies it.
func (a Activation) int8Epilogue() qgemm.Activation {
	switch a.Kind {
	case ReluActivation:
		return qgemm.Activation{ReLU: true}
	case ClipActivation:
		return qgemm.Activation{Clip: true, Lo: a.Min, Hi: a.Max}
	}
	return qgemm.Activation{}
}

// areas returns one scratch area per worker, at most one per unit
// (image × group), making those that are missing.
func (c *qconv) areas(workers, units int) []qconvScratch {
	n := min(max(1, workers), units)
	for len(c.qscratch) < n {
		c.qscratch = append(c.qscratch, qconvScratch{})
	}
	return c.qscratch[:n]
}

// int8ScratchSizes are the elements of one qconvScratch's buffers.
type int8ScratchSizes struct{ x, padded, line, col, acc int }

// int8ScratchSizes returns what one INT8 scratch area needs for this
// geometry, each size checked like a tensor's.
func (g *convGeometry) int8ScratchSizes() (int8ScratchSizes, error) {
	cols := g.spatial
	if g.wide {
		cols = g.wideN
	}
	var s int8ScratchSizes
	for _, b := range []struct {
		n     *int
		what  string
		shape []int
	}{
		{&s.x, "the quantized input", []int{g.cin, g.inHW[0], g.inHW[1]}},
		{&s.line, "the unfolded rows", []int{qgemm.KGroup, cols}},
		// qgemm.PackedBSize(k, cols): whole panels of padded depth.
		{&s.col, "the unfolded input", []int{qgemm.PaddedK(g.k), (cols + qgemm.NR - 1) / qgemm.NR * qgemm.NR}},
		{&s.acc, "the integer products", []int{g.cout, cols}},
	} {
		n, err := tensor.CheckShape(b.shape)
		if err != nil {
			return s, fmt.Errorf("%s: %w", b.what, err)
		}
		*b.n = n
	}
	if g.wide {
		n, err := tensor.CheckShape([]int{g.cin, g.padHW[0], g.padHW[1]})
		if err != nil {
			return s, fmt.Errorf("the padded input: %w", err)
		}
		s.padded = n
	}
	return s, nil
}

// Memory counts the int8 weights packed with their row sums and scales,
// and the scratch areas Run keeps (one per worker, at most one per image
// × group). The float packing the convolution it was made from holds is
// counted with that one.
func (c *qconv) Memory(in []Meta, workers int) (prepared, working int64, err error) {
	geo, n, err := c.geometryOf(in[0].Shape, in[1].Shape)
	if err != nil {
		return 0, 0, err
	}
	if isDepthwise(in[1].Shape, c.group) {
		return c.depthwiseMemory(&geo, n, in[1].Shape, workers)
	}
	if tapsWorthIt(in[1].Shape[1], tensor.NumElements(in[1].Shape[2:])) {
		return c.tapsMemory(&geo, n, in[1].Shape, workers)
	}
	sizes, err := geo.int8ScratchSizes()
	if err != nil {
		return 0, 0, err
	}
	m := int64(in[1].Shape[0])
	weights, err := bufferBytes(1, "the packed int8 weights", int(m), qgemm.PaddedK(geo.k))
	if err != nil {
		return 0, 0, err
	}
	areas := int64(min(max(1, workers), n*c.group))
	per := int64(sizes.x+sizes.padded+sizes.line+sizes.col) + 4*int64(sizes.acc)
	return weights + 8*m, areas * per, nil
}

// layOut returns buf sized n for layout want, zeroed when the layout
// changed (*have records the last one, and becomes want): zero padding
// that is never written (phase planes, the implicit GEMM's interleaved
// image) must be cleared once for each layout, and only then.
func layOut[T any, K comparable](buf []T, n int, have *K, want K) []T {
	if len(buf) == n && *have == want {
		return buf
	}
	buf = grow(buf, n)
	clear(buf)
	*have = want
	return buf
}

func copyInt8(dst, src []int8) { copy(dst, src) }
