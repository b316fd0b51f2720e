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
	win      *window
	group    int
	act      Activation
	residual bool            // input 3 is added before the activation
	packed   []*gemm.PackedA // per group, nil until Prepare (and for a depthwise convolution)
	bias     []float32
	scratch  []convScratch   // per worker
	rowOff   []int           // B's row offsets of the in-place strategies (rowOffsets)
	phases   *dwPlan         // the phase layout (depthwise and phased strategies), per input size
	winoU    []*gemm.PackedA // the Winograd strategy's transformed weights (winograd.go), nil until Prepare
	wino     *winoPlan       // the Winograd tiling, per batch and input size
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

// FuseResidual makes the convolution add input 3 (a tensor of the
// output's shape) before the activation, as a ResNet block's Add.
func (c *conv) FuseResidual() bool {
	if c.act.Kind != NoActivation || c.residual {
		return false
	}
	c.residual = true
	return true
}

func (c *conv) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	maxIn := 3
	if c.residual {
		maxIn = 4
	}
	if err := wantInputs(in, 2, maxIn); err != nil {
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
	if c.win.rank != 0 && c.win.rank != len(x.Shape)-2 {
		return nil, fmt.Errorf("window attributes are %d-D, the input %s is %d-D", c.win.rank, tensor.ShapeString(x.Shape), len(x.Shape)-2)
	}
	if len(w.Shape) != len(x.Shape) {
		return nil, fmt.Errorf("weights %s and input %s differ in rank", tensor.ShapeString(w.Shape), tensor.ShapeString(x.Shape))
	}
	m := w.Shape[0]
	if ch%c.group != 0 || m%c.group != 0 || w.Shape[1]*c.group != ch {
		return nil, fmt.Errorf("input channels %d, weights %s and group %d do not agree", ch, tensor.ShapeString(w.Shape), c.group)
	}
	kh, kw := kernelHW(w.Shape)
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

// Prepare packs constant weights for the GEMM kernel (a depthwise
// convolution's kernel reads them as they are).
func (c *conv) Prepare(consts []*tensor.Tensor) error {
	if len(consts) < 2 || consts[1] == nil {
		return nil
	}
	w := consts[1]
	if !isDepthwiseF32(w.Shape, c.group) {
		c.packed = packWeights(w, c.group)
	}
	if c.winogradWeights(w.Shape) {
		c.winoU = winoTransformWeights(w.F32, w.Shape[0], w.Shape[1])
	}
	if len(consts) > 2 && consts[2] != nil {
		c.bias = consts[2].F32
	}
	return nil
}

// geometryOf resolves the convolution of an input of shape x by weights of
// shape w: the geometry of one image and group, and the batch size.
func (c *conv) geometryOf(x, w []int) (geo convGeometry, n int, err error) {
	n, ch, hw, _ := spatialDims(x)
	win, ohw, err := c.win.geometry(hw)
	if err != nil {
		return geo, 0, err
	}
	geo = convGeometry{win: win, inHW: hw, outHW: ohw, cin: ch / c.group, cout: w[0] / c.group}
	geo.k = geo.cin * win.kernel[0] * win.kernel[1]
	geo.spatial = ohw[0] * ohw[1]
	geo.pointwise = win.kernel == [2]int{1, 1} && win.stride == [2]int{1, 1} &&
		win.padBegin == [2]int{} && win.padEnd == [2]int{}
	geo.planWide()
	geo.planGrid()
	geo.planPhased()
	return geo, n, nil
}

// geometryFor is geometryOf for input x and weights w, with the bias (the
// prepared one, else input 2).
func (c *conv) geometryFor(in []*tensor.Tensor) (geo convGeometry, n int, bias []float32, err error) {
	geo, n, err = c.geometryOf(in[0].Shape, in[1].Shape)
	if err != nil {
		return geo, 0, nil, err
	}
	bias = c.bias
	if bias == nil && len(in) > 2 && in[2] != nil {
		bias = in[2].F32
	}
	return geo, n, bias, nil
}

// Memory counts the packed weights (as many floats as the weights) and
// the scratch areas Run keeps: one per worker when the batch has at least
// as many images × groups as there are workers, else one. Like Run, it
// follows Infer, which takes the kernel size from the weights.
func (c *conv) Memory(in []Meta, workers int) (prepared, working int64, err error) {
	geo, n, err := c.geometryOf(in[0].Shape, in[1].Shape)
	if err != nil {
		return 0, 0, err
	}
	if isDepthwiseF32(in[1].Shape, c.group) {
		one, err := geo.depthwiseWorking()
		return 4 * int64(tensor.NumElements(in[1].Shape)), int64(min(max(1, workers), n*c.group)) * one, err
	}
	prepared = 4 * int64(tensor.NumElements(in[1].Shape))
	if c.winogradWeights(in[1].Shape) {
		prepared *= 1 + 36/9
	}
	if c.winograd(&geo) {
		return c.winoMemory(&geo, n, workers, prepared)
	}
	sizes, err := geo.scratchSizes()
	if err != nil {
		return 0, 0, err
	}
	areas := 1
	if n*c.group >= max(1, workers) {
		areas = max(1, workers)
	}
	return prepared, 4 * int64(areas) * int64(sizes.col+sizes.padded+sizes.out), nil
}

// packWeights packs each group's weights for the GEMM kernel.
func packWeights(w *tensor.Tensor, group int) []*gemm.PackedA {
	m := w.Shape[0] / group
	k := tensor.NumElements(w.Shape[1:])
	packed := make([]*gemm.PackedA, group)
	for g := range packed {
		packed[g] = gemm.PackA(m, k, w.F32[g*m*k:], k)
	}
	return packed
}

// actEpilogue is the GEMM epilogue that applies activation a.
func actEpilogue(a Activation) gemm.Epilogue {
	switch a.Kind {
	case ReluActivation:
		return gemm.Epilogue{ReLU: true}
	case ClipActivation:
		return gemm.Epilogue{Clip: true, Lo: a.Min, Hi: a.Max}
	}
	return gemm.Epilogue{}
}

func (c *conv) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	return c.RunProgress(ctx, in, out, nil)
}

// RunProgress reports each image's (and group's) output as it is
// computed when the workers share out the images (eachTask; depthwise
// convolutions: always), each Winograd block's (winoPlan.doneBlock), and
// the whole output at the end when the workers share each image or
// block.
func (c *conv) RunProgress(ctx *Ctx, in, out []*tensor.Tensor, done func(worker, lo, hi int)) error {
	if isDepthwiseF32(in[1].Shape, c.group) {
		return c.runDepthwise(ctx, in, out, done)
	}
	x, w, y := in[0], in[1], out[0]
	geo, n, bias, err := c.geometryFor(in)
	if err != nil {
		return err
	}
	if c.winograd(&geo) {
		return c.runWinograd(ctx, in, out, &geo, n, bias, done)
	}
	ch, hw := x.Shape[1], geo.inHW
	var phases *dwPlan
	if geo.phased {
		if phases, err = c.plan(&geo); err != nil {
			return err
		}
	}
	packed := c.packed
	if packed == nil { // weights computed at run time: pack per call
		packed = packWeights(w, c.group)
	}
	units := n * c.group
	imgIn, imgOut := ch*hw[0]*hw[1], w.Shape[0]*geo.spatial
	runUnit := func(u int, sc *convScratch, workers int) {
		img, g := u/c.group, u%c.group
		src := x.F32[img*imgIn+g*geo.cin*hw[0]*hw[1]:]
		dst := y.F32[img*imgOut+g*geo.cout*geo.spatial : img*imgOut+(g+1)*geo.cout*geo.spatial]
		ep := actEpilogue(c.act)
		if bias != nil {
			ep.RowBias = bias[g*geo.cout : (g+1)*geo.cout]
		}
		// A fused residual is added before the activation: the wide path
		// adds it while narrowing; the others have the epilogue add it
		// where an accumulating product adds C's old values.
		var res []float32
		if c.residual {
			res = in[3].F32[img*imgOut+g*geo.cout*geo.spatial : img*imgOut+(g+1)*geo.cout*geo.spatial]
			ep.Residual = res
		}
		switch {
		case geo.phased:
			phases.ready(sc, (geo.cin-1)*phases.planes+phases.n)
			plane := hw[0] * hw[1]
			for ci := 0; ci < geo.cin; ci++ {
				phases.fill(&geo, sc.padded[ci*phases.planes:], src[ci*plane:(ci+1)*plane])
			}
			packed[g].MulGridEx(geo.outHW[0], geo.outHW[1], sc.padded, c.rowOff, phases.d.sub[1], dst, geo.spatial, geo.outHW[1], false, &ep, workers)
		case geo.grid:
			geo.fillPadded(sc, src)
			packed[g].MulGridEx(geo.outHW[0], geo.outHW[1], sc.padded, c.rowOff, geo.padHW[1], dst, geo.spatial, geo.outHW[1], false, &ep, workers)
		case geo.wide:
			if res != nil { // narrow adds it, then applies the activation
				ep.ReLU, ep.Clip, ep.Residual = false, false, nil
			}
			geo.fillPadded(sc, src)
			packed[g].MulRowsEx(geo.wideN, sc.padded, c.rowOff, sc.out, geo.wideN, false, &ep, workers)
			geo.narrow(sc.out, dst, res, c.act)
		case geo.pointwise:
			// B is the input planes; packed per call, not read in place:
			// measured faster on MobileNetV2 and ResNet-50 (their rows are
			// pages apart, the packed panels stream).
			packed[g].MulEx(geo.spatial, src, geo.spatial, dst, geo.spatial, false, &ep, workers)
		default:
			geo.im2colPacked(src, sc.col, workers)
			packed[g].MulPackedBufEx(geo.spatial, sc.col, dst, geo.spatial, false, &ep, workers)
		}
	}
	workers := max(1, ctx.Workers)
	sizes, err := geo.scratchSizes()
	if err != nil {
		return err
	}
	c.rowOff = geo.rowOffsets(c.rowOff[:0], phases)
	if units >= workers {
		c.growScratch(workers, sizes)
		unitOut := geo.cout * geo.spatial
		eachTask(units, workers, func(w, u int) {
			runUnit(u, &c.scratch[w], 1)
			if done != nil {
				at := u/c.group*imgOut + u%c.group*unitOut
				done(w, at, at+unitOut)
			}
		})
		return nil
	}
	c.growScratch(1, sizes)
	for u := 0; u < units; u++ {
		runUnit(u, &c.scratch[0], workers)
	}
	doneAll(done, len(y.F32), workers)
	return nil
}

// convScratch is one worker's working memory: the unfolded input in the
// packed-B layout and, for the wide strategy, the padded input planes and
// the wide output; for a depthwise convolution, the phase planes in
// padded, whose layout dw records (dwconv.go); for the Winograd strategy,
// a block's transformed input in col, its products in out and its staged
// tiles in padded (winograd.go).
type convScratch struct {
	col, padded, out []float32
	dw               dwKey
	tmp              [256]float32 // the Winograd output transform's (winoOutArgs)
}

// scratchSizes are the floats of one convScratch.
type scratchSizes struct{ col, padded, out int }

// scratchSizes returns what one scratch area needs for this geometry,
// each size checked like a tensor's (the unfolded input has k times as
// many values as an output channel, and neither bounds the other).
func (g *convGeometry) scratchSizes() (scratchSizes, error) {
	var s scratchSizes
	n := g.spatial
	if g.wide {
		n = g.wideN
	}
	if !g.pointwise {
		// gemm.PackedBSize(k, n): n rounded up to whole panels. The wide
		// strategy reads its rows in place, but the unfolded matrix's
		// size still bounds the offsets and the work, so it is checked.
		col, err := tensor.CheckShape([]int{g.k, (n + gemm.NR - 1) / gemm.NR * gemm.NR})
		if err != nil {
			return s, fmt.Errorf("the unfolded input of %d×%d values: %w", g.k, n, err)
		}
		if !g.wide && !g.phased {
			s.col = col
		}
	}
	if g.phased {
		p, err := g.dwPlan()
		if err != nil {
			return s, err
		}
		if s.padded, err = tensor.CheckShape([]int{g.cin - 1, p.planes}); err != nil {
			return s, fmt.Errorf("the phase planes: %w", err)
		}
		s.padded += p.n
		return s, nil
	}
	var err error
	if g.wide {
		if s.padded, err = tensor.CheckShape([]int{g.cin, g.padHW[0], g.padHW[1]}); err != nil {
			return s, fmt.Errorf("the padded input: %w", err)
		}
		if g.grid { // computed straight into the output
			return s, nil
		}
		if s.out, err = tensor.CheckShape([]int{g.cout, g.wideN}); err != nil {
			return s, fmt.Errorf("the wide output: %w", err)
		}
	}
	return s, nil
}

// growScratch makes sure the first workers scratch areas are large enough.
// They live as long as the operator (one per plan, and plans are not run
// concurrently), so steady-state runs allocate nothing.
func (c *conv) growScratch(workers int, sizes scratchSizes) {
	for len(c.scratch) < workers {
		c.scratch = append(c.scratch, convScratch{})
	}
	for w := 0; w < workers; w++ {
		sc := &c.scratch[w]
		if len(sc.col) < sizes.col {
			sc.col = gemm.MakePackedBBuffer(sizes.col/gemm.NR, gemm.NR)
		}
		sc.col = sc.col[:sizes.col]
		if sizes.padded > 0 || sizes.out > 0 {
			sc.padded = grow(sc.padded, sizes.padded)
			sc.out = grow(sc.out, sizes.out)
		}
	}
}

// grow returns buf with length n, reallocated only when its capacity is
// short (the contents are not kept then).
func grow[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

// kernelHW returns the kernel's rows and columns of weights of shape w,
// [M, C/group, kH, kW] or, 1-D, [M, C/group, kW].
func kernelHW(w []int) (kh, kw int) {
	if len(w) == 4 {
		return w[2], w[3]
	}
	return 1, w[len(w)-1]
}

type convGeometry struct {
	win          window
	inHW, outHW  [2]int
	cin, cout, k int
	spatial      int
	pointwise    bool

	// The wide strategy, for stride-1 convolutions: the input is first
	// copied into zero-padded planes of padHW, so that every row of the
	// unfolded matrix becomes one contiguous run of the padded planes
	// (no edge handling, one vector copy into the packed layout). The
	// price is computing wideN = (OH-1)·PW + OW output columns instead of
	// OH·OW, the extra ones falling on the padding columns; they are
	// dropped when the result is narrowed to the output.
	wide  bool
	padHW [2]int
	wideN int

	// grid refines the wide strategy for the float GEMM: the same padded
	// planes and row offsets, but the GEMM's columns are the output rows
	// (gemm.MulGridEx), computed straight into the output, so neither the
	// padding columns nor the narrowing pass cost anything; the price is
	// a partial tile at the end of each output row.
	grid bool
	// phased: a strided convolution's input in phase planes (planPhased).
	phased bool
}

// planPhased decides whether a strided convolution reads its input in
// place from phase planes (each channel split into stride×stride planes,
// dwGeometry's layout, where every tap of an output row reads a
// contiguous run) through gemm.MulGridEx, instead of unfolding it: when
// its output rows fill the GEMM's 16-column tiles at least three
// quarters full (MobileNet's and ResNet-50's stride-2 layers down to 14
// wide; 8- and 7-wide rows stay unfolded).
func (g *convGeometry) planPhased() {
	if g.pointwise || g.wide || g.win.stride == [2]int{1, 1} {
		return
	}
	ow := g.outHW[1]
	g.phased = 4*ow >= 3*((ow+gemm.NR-1)/gemm.NR*gemm.NR)
}

// planGrid decides whether a wide convolution computes output rows
// (grid) rather than one run of padded rows: when the GEMM tiles (16
// columns) it fills are no less busy, counting the narrowing pass the
// grid saves as 15% (ResNet-20's 32- and 16-wide rows and ResNet-50's
// 56-, 28- and 14-wide ones run as grids; 8- and 7-wide rows, half a tile
// each, stay wide).
func (g *convGeometry) planGrid() {
	if !g.wide {
		return
	}
	tiles := func(n int) float64 { return float64((n + gemm.NR - 1) / gemm.NR * gemm.NR) }
	oh, ow := float64(g.outHW[0]), float64(g.outHW[1])
	g.grid = 1.15*ow/tiles(g.outHW[1]) >= oh*ow/tiles(g.wideN)
}

// planWide decides whether the wide strategy pays: only for stride 1, and
// only when it adds at most half as many GEMM columns again (LeNet's conv2,
// 64 outputs computed as 92, measured faster wide than unfolded).
func (g *convGeometry) planWide() {
	w := &g.win
	if g.pointwise || w.stride != [2]int{1, 1} {
		return
	}
	g.padHW = [2]int{g.inHW[0] + w.padBegin[0] + w.padEnd[0], g.inHW[1] + w.padBegin[1] + w.padEnd[1]}
	// (OH-1)·PW, checked: with padding much wider than the output it
	// could overflow, and the wide strategy would not pay then anyway.
	rows, err := tensor.CheckShape([]int{g.outHW[0] - 1, g.padHW[1]})
	if err != nil {
		return
	}
	g.wideN = rows + g.outHW[1]
	g.wide = g.wideN*2 <= g.spatial*3
}

// padPlanes writes the group's input planes into zero-padded planes,
// each row converted by fill: a copy for float32, quantization for INT8.
func padPlanes[S, D any](g *convGeometry, src []S, padded []D, fill func(dst []D, src []S)) {
	ih, iw := g.inHW[0], g.inHW[1]
	ph, pw := g.padHW[0], g.padHW[1]
	top, left := g.win.padBegin[0], g.win.padBegin[1]
	for c := 0; c < g.cin; c++ {
		plane := padded[c*ph*pw : (c+1)*ph*pw]
		in := src[c*ih*iw : (c+1)*ih*iw]
		clear(plane[:top*pw])
		for y := 0; y < ih; y++ {
			row := plane[(top+y)*pw : (top+y+1)*pw]
			zeroEdges(row, left, left+iw)
			fill(row[left:left+iw], in[y*iw:(y+1)*iw])
		}
		clear(plane[(top+ih)*pw:])
	}
}

// fillPadded copies the group's input planes into sc.padded, zero-padded
// planes of padHW. As the phase planes (dwPlan.ready), the padding is
// zeroed only when the planes are made for this layout: the rows written
// are the same every time.
func (g *convGeometry) fillPadded(sc *convScratch, src []float32) {
	key := dwKey{in: g.inHW, pad: g.win.padBegin, stride: [2]int{1, 1}, sub: g.padHW}
	if sc.dw != key {
		clear(sc.padded)
		sc.dw = key
	}
	ih, iw := g.inHW[0], g.inHW[1]
	ph, pw := g.padHW[0], g.padHW[1]
	at := g.win.padBegin[0]*pw + g.win.padBegin[1]
	for c := 0; c < g.cin; c++ {
		copyRows(sc.padded[c*ph*pw+at:], src[c*ih*iw:(c+1)*ih*iw], ih, iw, pw, iw)
	}
}

// rowOffsets appends to dst the offsets of the rows of the GEMM's right
// operand where the strategy reads them in place (gemm.MulRowsEx,
// MulGridEx): for the wide and grid strategies, row (c·KH + ky)·KW + kx is
// the run of the padded planes starting where tap (ky, kx) sees output
// position 0; for the phased one, the same in channel c's phase planes
// (phases). Other strategies have none.
func (g *convGeometry) rowOffsets(dst []int, phases *dwPlan) []int {
	switch {
	case g.phased:
		for ci := 0; ci < g.cin; ci++ {
			for _, o := range phases.d.off {
				dst = append(dst, ci*phases.planes+o)
			}
		}
	case g.wide:
		kh, kw := g.win.kernel[0], g.win.kernel[1]
		ph, pw := g.padHW[0], g.padHW[1]
		for row := 0; row < g.k; row++ {
			c, r := row/(kh*kw), row%(kh*kw)
			dst = append(dst, c*ph*pw+(r/kw)*g.win.dilation[0]*pw+(r%kw)*g.win.dilation[1])
		}
	}
	return dst
}

// narrow copies the valid columns of the wide result into the output;
// with a residual res (not nil) it adds it and then applies act.
func (g *convGeometry) narrow(wide, dst, res []float32, act Activation) {
	oh, ow, pw := g.outHW[0], g.outHW[1], g.padHW[1]
	for c := 0; c < g.cout; c++ {
		src := wide[c*g.wideN:]
		for y := 0; y < oh; y++ {
			at := (c*oh + y) * ow
			out, row := dst[at:at+ow], src[y*pw:y*pw+ow]
			if res == nil {
				copy(out, row)
				continue
			}
			r := res[at : at+ow]
			if act.Kind == ReluActivation { // one pass (ResNet blocks)
				for i, v := range row {
					out[i] = max(v+r[i], 0)
				}
				continue
			}
			for i, v := range row {
				out[i] = v + r[i]
			}
			act.apply(out)
		}
	}
}

// im2colPacked unfolds one image's group of input channels into the
// matrix col[k × OH·OW] whose row (c·KH + kh)·KW + kw holds the input value
// each output position sees through that kernel tap (0 in the padding).
// The matrix is written straight into the GEMM kernel's packed-B layout
// (panels of gemm.NR columns), which saves a full pass over it: each row is
// unfolded into a small buffer that stays in L1, then dealt out to the
// panels.
func (g *convGeometry) im2colPacked(src, col []float32, workers int) {
	kh, kw := g.win.kernel[0], g.win.kernel[1]
	n := g.spatial
	parallel.For(g.k, workers, 8, func(lo, hi int) {
		var buf [4096]float32 // one unfolded row; on the stack for outputs up to 64×64
		line := buf[:0]
		if n <= len(buf) {
			line = buf[:n]
		} else {
			line = make([]float32, n)
		}
		for row := lo; row < hi; row++ {
			c, r := row/(kh*kw), row%(kh*kw)
			plane := src[c*g.inHW[0]*g.inHW[1] : (c+1)*g.inHW[0]*g.inHW[1]]
			unfoldTap(g, plane, line, r/kw, r%kw)
			gemm.PackBRow(col, g.k, row, line)
		}
	})
}

// unfoldTap writes the OH×OW values kernel tap (ky, kx) sees in one input
// plane (float32, or int8 for the INT8 kernels).
func unfoldTap[T float32 | int8](g *convGeometry, plane, dst []T, ky, kx int) {
	ih, iw := g.inHW[0], g.inHW[1]
	oh, ow := g.outHW[0], g.outHW[1]
	sh, sw := g.win.stride[0], g.win.stride[1]
	dy := ky*g.win.dilation[0] - g.win.padBegin[0] // input row of output row 0
	dx := kx*g.win.dilation[1] - g.win.padBegin[1] // input column of output column 0
	// Output columns [x0,x1) read inside the image; likewise rows [y0,y1).
	x0, x1 := clamp(ceilDiv(-dx, sw), 0, ow), clamp(ceilDiv(iw-dx, sw), 0, ow)
	y0, y1 := clamp(ceilDiv(-dy, sh), 0, oh), clamp(ceilDiv(ih-dy, sh), 0, oh)
	if x0 >= x1 || y0 >= y1 {
		clear(dst)
		return
	}
	clear(dst[:y0*ow])
	clear(dst[y1*ow:])
	if sw == 1 && sh == 1 && ow == iw {
		// Output and input rows have the same length, so the whole block
		// of valid rows is one contiguous run of the input shifted by dx:
		// copy it at once, then zero the columns that wrapped around.
		start := y0*ow + x0
		n := (y1-y0-1)*ow + (x1 - x0)
		from := (y0+dy)*iw + x0 + dx
		copy(dst[start:start+n], plane[from:from+n])
		for oy := y0; oy < y1; oy++ {
			zeroEdges(dst[oy*ow:(oy+1)*ow], x0, x1)
		}
		return
	}
	for oy := y0; oy < y1; oy++ {
		line := dst[oy*ow : (oy+1)*ow]
		zeroEdges(line, x0, x1)
		in := plane[(oy*sh+dy)*iw:]
		xs := x0*sw + dx
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

// zeroEdges clears line outside [x0,x1): at most a padding's width on each
// side, so a plain loop beats a call to memclr.
func zeroEdges[T any](line []T, x0, x1 int) {
	var zero T
	for i := 0; i < x0; i++ {
		line[i] = zero
	}
	for i := x1; i < len(line); i++ {
		line[i] = zero
	}
}

// floorDiv is a/b rounded down (b > 0), where Go's division rounds a
// negative quotient up.
func floorDiv(a, b int) int {
	if a < 0 {
		return -ceilDiv(-a, b)
	}
	return a / b
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
