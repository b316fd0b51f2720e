package cuda

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/stats"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/loader/cublaslt"
	"github.com/int8cal/int8cal/loader/cudadriver"
)

// devTensor is a tensor in device memory (float32, dense).
type devTensor struct {
	ptr   cudadriver.Ptr
	shape []int
}

// scratch is the space every product of a plan shares (the products run
// one after another on one stream): the input in the operand type, the
// unfolded input, the product, and cuBLASLt's workspace.
type scratch struct {
	in, col, acc, ws cudadriver.Ptr
}

// plan is an engine lowered for fixed input shapes.
type plan struct {
	b         *Backend
	e         *Engine
	precision precision.Precision
	half      bool
	scales    map[string]float32

	tensors  map[string]*devTensor
	shown    []string // the tensors RunObserved shows, in order
	inputs   []string
	outputs  []string
	builds   []func(*scratch)
	ops      []op
	owned    []cudadriver.Ptr
	matmuls  []*cublaslt.Matmul
	host     map[string]*tensor.Tensor
	scratch  scratch
	inBytes  int // a product's input converted to its operand type
	colBytes int
	accBytes int
	wsBytes  int

	int8Layers int
	noRange    map[string]bool
	excluded   []string        // the products Options.Exclude kept in FP32, with why
	observed   bool            // every tensor is shown: nothing is fused or skipped
	floatRead  map[string]bool // tensors something reads as float32
	// gathers read only by another gather or only as a fused residual,
	// and those waiting for their reader
	gatherFeedsGather   map[string]bool
	gatherFeedsResidual map[string]bool
	deferred            map[string]*deferredGather
	int8Inputs          map[string]float32        // tensors INT8 products read, with their scales
	flattened           map[string]string         // a tensor → its [N, rest] view an INT8 Gemm reads
	quantized           map[string]cudadriver.Ptr // those a product writes quantized beside the float values

	// graph replays ops with one launch once recorded (see replay);
	// noGraph is set when recording failed, and the ops are then
	// launched one by one.
	graph   *cudadriver.Graph
	noGraph bool
	// Run's transfers (see run): the inputs and outputs staged in
	// page-locked memory, their byte offsets there, and the graph that
	// copies them in, runs ops and copies the outputs back.
	stagedIn, stagedOut   *cudadriver.HostBuffer
	inOffsets, outOffsets []int
	runGraph              *cudadriver.Graph
	noStaging             bool // page-locked memory or its graph failed once: Run uses execute

	// the tactic timing's scratch buffers while lowering (tuneScratch)
	scratchTune [scratchSlots]tuneBuffer

	// statistics buffers (RunStatistics)
	recs, counts cudadriver.Ptr
	slots        int
}

// tuneBuffer is one of the tactic timing's scratch buffers.
type tuneBuffer struct {
	ptr   cudadriver.Ptr
	bytes int
}

// newPlan lowers the engine's graph for the given input shapes; observed
// plans fuse nothing, so that every tensor exists.
func (e *Engine) newPlan(shapes map[string][]int, observed bool) (p *plan, err error) {
	half := e.opts.Precision == precision.FP16
	sc, err := e.cpu.Schedule(shapes, half)
	if err != nil {
		return nil, err
	}
	p = &plan{b: e.b, e: e, precision: e.opts.Precision, half: half, scales: e.opts.Int8Scales,
		tensors: map[string]*devTensor{}, host: map[string]*tensor.Tensor{}, noRange: map[string]bool{},
		int8Inputs: map[string]float32{}, flattened: map[string]string{}, quantized: map[string]cudadriver.Ptr{}, floatRead: map[string]bool{}, observed: observed,
		gatherFeedsGather: map[string]bool{}, gatherFeedsResidual: map[string]bool{}, deferred: map[string]*deferredGather{}}
	// The plan is freed through its own variable: returning nil, err sets
	// the named result p to nil before deferred calls run.
	building := p
	defer func() {
		if err != nil {
			building.free()
		}
	}()
	var wrongType []string
	for _, in := range sc.Inputs {
		if m := sc.Metas[in.Name]; m.DType != tensor.Float32 {
			wrongType = append(wrongType, fmt.Sprintf("input %q is %s; the cuda backend takes float32 inputs", in.Name, m.DType))
		}
	}
	if wrongType != nil {
		return nil, &UnsupportedError{Inputs: wrongType}
	}
	for _, in := range sc.Inputs {
		m := sc.Metas[in.Name]
		if err := fitsIndex(int64(tensor.NumElements(m.Shape))); err != nil {
			return nil, fmt.Errorf("input %q: %w", in.Name, err)
		}
		if _, err := p.alloc(in.Name, m.Shape); err != nil {
			return nil, err
		}
		p.inputs = append(p.inputs, in.Name)
	}
	err = p.lower(sc, fuseSteps(sc, !observed && !e.opts.NoFusion))
	p.freeTuneScratch()
	if err != nil {
		return nil, err
	}
	for _, st := range sc.Steps {
		p.shown = append(p.shown, st.Node.Outputs[0])
	}
	for _, o := range sc.Outputs {
		t := p.tensors[o]
		if t == nil {
			return nil, fmt.Errorf("graph output %q is a constant; the cuda backend returns computed outputs only", o)
		}
		p.outputs = append(p.outputs, o)
		p.host[o] = tensor.New(tensor.Float32, t.shape...)
	}
	if p.scratch.in, err = p.own(p.b.Driver.Alloc(p.inBytes)); err != nil {
		return nil, err
	}
	if p.scratch.col, err = p.own(p.b.Driver.Alloc(p.colBytes)); err != nil {
		return nil, err
	}
	if p.scratch.acc, err = p.own(p.b.Driver.Alloc(p.accBytes)); err != nil {
		return nil, err
	}
	if p.scratch.ws, err = p.own(p.b.Driver.Alloc(p.wsBytes)); err != nil {
		return nil, err
	}
	for _, build := range p.builds {
		build(&p.scratch)
	}
	p.builds = nil
	if p.precision == precision.INT8 && e.opts.Log != nil {
		var missing []string
		for name := range p.noRange {
			missing = append(missing, name)
		}
		sort.Strings(missing)
		args := []any{"int8_layers", p.int8Layers, "fp32_no_calibrated_range", strings.Join(missing, ", ")}
		if !e.opts.Exclude.Empty() {
			args = append(args, "fp32_excluded", strings.Join(p.excluded, ", "))
		}
		e.opts.Log.Info("INT8 plan (cuda)", args...)
	}
	return p, nil
}

// own records device memory the plan frees, passing an allocation's
// result through.
func (p *plan) own(ptr cudadriver.Ptr, err error) (cudadriver.Ptr, error) {
	if err == nil && ptr != 0 {
		p.owned = append(p.owned, ptr)
	}
	return ptr, err
}

// disown forgets device memory freed before the plan is.
func (p *plan) disown(ptrs ...cudadriver.Ptr) {
	for _, ptr := range ptrs {
		for i, o := range p.owned {
			if o == ptr {
				p.owned = append(p.owned[:i], p.owned[i+1:]...)
				break
			}
		}
	}
}

// alloc gives tensor name its own device buffer.
func (p *plan) alloc(name string, shape []int) (cudadriver.Ptr, error) {
	ptr, err := p.own(p.b.Driver.Alloc(4 * tensor.NumElements(shape)))
	if err != nil {
		return 0, fmt.Errorf("tensor %q %s: %w", name, tensor.ShapeString(shape), err)
	}
	p.tensors[name] = &devTensor{ptr: ptr, shape: shape}
	return ptr, nil
}

// op is one queued operation, labelled for profiles (the kernel's name,
// or "matmul").
type op struct {
	label string
	run   func() error
}

// queue appends a kernel launch to the plan's operations.
func (p *plan) queue(l *launch) {
	p.ops = append(p.ops, op{label: l.name, run: func() error { return p.b.run(l) }})
}

func (p *plan) free() {
	for _, g := range []**cudadriver.Graph{&p.graph, &p.runGraph} {
		if *g != nil {
			p.b.Driver.DestroyGraph(*g)
			*g = nil
		}
	}
	p.b.Driver.FreeHost(p.stagedIn)
	p.b.Driver.FreeHost(p.stagedOut)
	p.stagedIn, p.stagedOut = nil, nil
	for _, m := range p.matmuls {
		m.Destroy()
	}
	for _, ptr := range p.owned {
		p.b.Driver.Free(ptr)
	}
	for _, ptr := range []cudadriver.Ptr{p.recs, p.counts} {
		if ptr != 0 {
			p.b.Driver.Free(ptr)
		}
	}
	p.owned, p.matmuls, p.recs, p.counts = nil, nil, 0, 0
}

// checkInputs refuses inputs that are missing or not of the plan's
// shapes.
func (p *plan) checkInputs(inputs map[string]*tensor.Tensor) error {
	for _, name := range p.inputs {
		t, ok := inputs[name]
		if !ok {
			return fmt.Errorf("no value for model input %q", name)
		}
		d := p.tensors[name]
		if tensor.ShapeString(t.Shape) != tensor.ShapeString(d.shape) || t.DType != tensor.Float32 || len(t.F32) != tensor.NumElements(d.shape) {
			return fmt.Errorf("input %q is %s%s, the plan was made for float32%s", name, t.DType, tensor.ShapeString(t.Shape), tensor.ShapeString(d.shape))
		}
	}
	return nil
}

// execute uploads the inputs and queues every operation (the caller is
// inside the context and synchronizes).
func (p *plan) execute(inputs map[string]*tensor.Tensor) error {
	if err := p.checkInputs(inputs); err != nil {
		return err
	}
	for _, name := range p.inputs {
		t, d := inputs[name], p.tensors[name]
		if len(t.F32) > 0 {
			if err := p.b.Driver.CopyToDevice(d.ptr, unsafe.Pointer(&t.F32[0]), 4*len(t.F32)); err != nil {
				return fmt.Errorf("input %q: %w", name, err)
			}
		}
		if err := p.roundInput(name); err != nil {
			return err
		}
	}
	return p.replay()
}

// roundInput rounds an FP16 plan's uploaded input to half precision, as
// the CPU engine does.
func (p *plan) roundInput(name string) error {
	if !p.half {
		return nil
	}
	d := p.tensors[name]
	n := tensor.NumElements(d.shape)
	return p.b.run(p.b.kernel("round_half_inplace", n, d.ptr, int32(n)))
}

// run is Run's path: the inputs are copied into page-locked buffers, and
// one graph launch copies them to the GPU, runs the plan and copies the
// outputs back, followed by one wait; the outputs are then copied out of
// the page-locked buffer. Against execute's synchronous copies from Go
// memory this saves the driver's staging of pageable memory and two
// synchronizations per batch. Where page-locked memory or the graph
// cannot be had, it falls back to execute.
func (p *plan) run(inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	if err := p.checkInputs(inputs); err != nil {
		return nil, err
	}
	if p.noStaging || !p.staged() {
		if err := p.execute(inputs); err != nil {
			return nil, err
		}
		return p.outputsToHost()
	}
	in := p.stagedIn.Bytes()
	for i, name := range p.inputs {
		// An input read straight into its staging buffer (inputBuffer)
		// is there already.
		if dst, src := floats(in[p.inOffsets[i]:]), inputs[name].F32; len(src) > 0 && &dst[0] != &src[0] {
			copy(dst, src)
		}
	}
	if err := p.b.Driver.LaunchGraph(p.runGraph, p.b.stream); err != nil {
		return nil, err
	}
	if err := p.b.Driver.SyncStream(p.b.stream); err != nil {
		return nil, err
	}
	out := p.stagedOut.Bytes()
	res := make(map[string]*tensor.Tensor, len(p.outputs))
	for i, name := range p.outputs {
		h := p.host[name]
		copy(h.F32, floats(out[p.outOffsets[i]:]))
		res[name] = h
	}
	return res, nil
}

// staged reports whether runs go through the page-locked buffers,
// staging them the first time (the caller is inside the context).
func (p *plan) staged() bool {
	if !p.noStaging && p.runGraph == nil {
		if err := p.stage(); err != nil {
			p.noStaging = true
			p.e.log().Debug("Run stages no transfers in page-locked memory; copying from Go memory", "error", err)
		}
	}
	return !p.noStaging
}

// inputBuffer returns input name's part of the page-locked input buffer,
// staging it first; nil when there is none (the caller is inside the
// context).
func (p *plan) inputBuffer(name string) []float32 {
	i := slices.Index(p.inputs, name)
	if i < 0 || !p.staged() {
		return nil
	}
	return floats(p.stagedIn.Bytes()[p.inOffsets[i]:])[:tensor.NumElements(p.tensors[name].shape)]
}

// stage allocates the page-locked buffers and records runGraph.
func (p *plan) stage() error {
	d := p.b.Driver
	offsets := func(names []string) ([]int, int) {
		var offs []int
		at := 0
		for _, name := range names {
			offs = append(offs, at)
			at += roundUp(4*tensor.NumElements(p.tensors[name].shape), 256)
		}
		return offs, at
	}
	var inBytes, outBytes int
	p.inOffsets, inBytes = offsets(p.inputs)
	p.outOffsets, outBytes = offsets(p.outputs)
	var err error
	if p.stagedIn, err = d.AllocHost(inBytes); err != nil {
		return err
	}
	if p.stagedOut, err = d.AllocHost(outBytes); err != nil {
		return err
	}
	p.runGraph, err = d.Capture(p.b.stream, func() error {
		for i, name := range p.inputs {
			t := p.tensors[name]
			if err := d.CopyToDeviceAsync(t.ptr, p.stagedIn, p.inOffsets[i], 4*tensor.NumElements(t.shape), p.b.stream); err != nil {
				return err
			}
			if err := p.roundInput(name); err != nil {
				return err
			}
		}
		if err := p.launchAll(); err != nil {
			return err
		}
		for i, name := range p.outputs {
			t := p.tensors[name]
			if err := d.CopyToHostAsync(p.stagedOut, p.outOffsets[i], t.ptr, 4*tensor.NumElements(t.shape), p.b.stream); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// floats views page-locked bytes (4-byte aligned) as float32 values.
func floats(b []byte) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
}

// replay queues the plan's operations on device-resident inputs: the
// first time it records them into a CUDA graph, then it launches the
// graph, so that a run costs one launch instead of one per kernel (what
// makes small networks like LeNet fast). Should recording fail, the
// operations are launched one by one.
func (p *plan) replay() error {
	if p.graph == nil && !p.noGraph {
		g, err := p.b.Driver.Capture(p.b.stream, p.launchAll)
		if err != nil {
			p.noGraph = true
			p.e.log().Warn("CUDA graph not recorded; launching kernels one by one", "error", err)
		} else {
			p.graph = g
		}
	}
	if p.graph != nil {
		return p.b.Driver.LaunchGraph(p.graph, p.b.stream)
	}
	return p.launchAll()
}

func (p *plan) launchAll() error {
	for _, o := range p.ops {
		if err := o.run(); err != nil {
			return err
		}
	}
	return nil
}

// profile runs each operation n times in turn, synchronizing around it,
// and sums the time per run by label.
func (p *plan) profile(n int) (map[string]time.Duration, error) {
	times := map[string]time.Duration{}
	for _, o := range p.ops {
		took, err := timeIt(p.b.Driver, n, o.run)
		if err != nil {
			return nil, err
		}
		times[o.label] += took
	}
	return times, nil
}

// fetch copies a tensor to its host buffer (made on first use).
func (p *plan) fetch(name string) (*tensor.Tensor, error) {
	d := p.tensors[name]
	h := p.host[name]
	if h == nil {
		h = tensor.New(tensor.Float32, d.shape...)
		p.host[name] = h
	}
	if err := download(p.b, h.F32, d.ptr); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", name, err)
	}
	return h, nil
}

// outputsToHost copies the graph outputs back (synchronizing).
func (p *plan) outputsToHost() (map[string]*tensor.Tensor, error) {
	res := make(map[string]*tensor.Tensor, len(p.outputs))
	for _, name := range p.outputs {
		t, err := p.fetch(name)
		if err != nil {
			return nil, err
		}
		res[name] = t
	}
	return res, nil
}

// statsRecord is the layout of one tensor's record written by the stats
// kernel: min key, max key, zeros, NaNs, +Inf, -Inf.
const statsRecord = 6

// statistics gathers every shown tensor's statistics over the batch just
// run (see stats.Runner).
func (p *plan) statistics(need calib.Info, emit func(stats.Tensor) error) error {
	names := append(append([]string(nil), p.inputs...), p.shown...)
	d := p.b.Driver
	if p.recs == 0 {
		var err error
		if p.recs, err = d.Alloc(8 * statsRecord * len(names)); err != nil {
			return err
		}
	}
	init := make([]int64, statsRecord*len(names))
	for i := range names {
		init[i*statsRecord], init[i*statsRecord+1] = math.MaxInt32, math.MinInt32
	}
	if err := d.CopyToDevice(p.recs, unsafe.Pointer(&init[0]), 8*len(init)); err != nil {
		return err
	}
	for i, name := range names {
		t := p.tensors[name]
		n := tensor.NumElements(t.shape)
		blocks := min(max((n+threadsPerBlock-1)/threadsPerBlock, 1), 1024)
		if err := p.b.run(p.b.kernelGrid("stats", blocks, threadsPerBlock, 0, t.ptr, int32(n), p.recs+cudadriver.Ptr(8*statsRecord*i))); err != nil {
			return err
		}
	}
	recs := make([]int64, len(init))
	if err := download(p.b, recs, p.recs); err != nil {
		return err
	}
	batch := make([]stats.Tensor, len(names))
	for i, name := range names {
		r := recs[i*statsRecord : (i+1)*statsRecord]
		n := uint64(tensor.NumElements(p.tensors[name].shape))
		s := stats.Tensor{Name: name, Count: n, NaN: uint64(r[3]), Inf: uint64(r[4] + r[5])}
		if n > s.NaN+s.Inf {
			s.Min, s.Max = unkey(int32(r[0])), unkey(int32(r[1]))
		}
		batch[i] = s
	}
	if need.Statistics == calib.AbsHistogram || need.Statistics == calib.SignedHistogram {
		if err := p.histograms(need, names, recs, batch); err != nil {
			return err
		}
	}
	for _, s := range batch {
		if err := emit(s); err != nil {
			return err
		}
	}
	return nil
}

// histograms fills batch[i].Histogram with the GPU's binning of each
// tensor over the range its extremes call for.
func (p *plan) histograms(need calib.Info, names []string, recs []int64, batch []stats.Tensor) error {
	cfg := stats.HistogramConfig(need)
	bins, side := cfg.Bins, 0
	slots := bins + 1
	if cfg.Signed {
		bins /= 2
		side = bins + 1
		slots = 2 * (bins + 1)
	}
	d := p.b.Driver
	if p.counts == 0 || p.slots != slots {
		if p.counts != 0 {
			d.Free(p.counts)
		}
		var err error
		if p.counts, err = d.Alloc(8 * slots * len(names)); err != nil {
			return err
		}
		p.slots = slots
	}
	if err := d.Zero(p.counts, 8*slots*len(names)); err != nil {
		return err
	}
	exps := make([]int, len(names))
	shared := int32(0)
	sharedBytes := 4 * slots
	if sharedBytes <= 48<<10 {
		shared = 1
	} else {
		sharedBytes = 0
	}
	for i, name := range names {
		s := batch[i]
		var scale float64
		if maxAbs := max(abs32(s.Min), abs32(s.Max)); s.Count > s.NaN+s.Inf && maxAbs > 0 {
			exps[i] = histogram.RangeExp(maxAbs)
			scale = math.Ldexp(float64(bins), -exps[i])
		}
		t := p.tensors[name]
		n := tensor.NumElements(t.shape)
		blocks := min(max((n+threadsPerBlock*8-1)/(threadsPerBlock*8), 1), 1024)
		l := p.b.kernelGrid("histogram", blocks, threadsPerBlock, uint32(sharedBytes), t.ptr, int32(n),
			p.counts+cudadriver.Ptr(8*slots*i), scale, int32(side), int32(slots), shared)
		if err := p.b.run(l); err != nil {
			return err
		}
	}
	counts := make([]uint64, slots*len(names))
	if err := download(p.b, counts, p.counts); err != nil {
		return err
	}
	for i := range names {
		s := &batch[i]
		rec := recs[i*statsRecord : (i+1)*statsRecord]
		h, err := histogram.FromParts(histogram.Parts{
			Config: cfg, Exp: exps[i], Counts: counts[i*slots : (i+1)*slots],
			Count: s.Count - s.NaN - s.Inf, Zeros: uint64(rec[2]), NaN: s.NaN, PosInf: uint64(rec[4]), NegInf: uint64(rec[5]),
			Min: s.Min, Max: s.Max,
		})
		if err != nil {
			return fmt.Errorf("tensor %q: GPU histogram: %w", names[i], err)
		}
		s.Histogram = h
	}
	return nil
}

// unkey inverts the stats kernel's order-preserving key (histogram.key).
func unkey(k int32) float32 {
	return math.Float32frombits(uint32(k ^ (k >> 31 & 0x7fffffff)))
}

func abs32(v float32) float32 { return float32(math.Abs(float64(v))) }

// timeReplays runs the plan's operations n times on the inputs already on
// the device and returns the time per run.
func (p *plan) timeReplays(n int) (time.Duration, error) {
	began := time.Now()
	for i := 0; i < n; i++ {
		if err := p.replay(); err != nil {
			return 0, err
		}
	}
	if err := p.b.Driver.Synchronize(); err != nil {
		return 0, err
	}
	return time.Since(began) / time.Duration(n), nil
}
