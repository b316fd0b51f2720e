package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/internal/batchstreamrpc"
)

// BatchStreamKind is the kind of data set plugins, programs named
// int8cal-batchstream-<name>.
const BatchStreamKind Kind = "batchstream"

// Deadlines for data set plugin calls, besides CallTimeout for Info and
// Close. Open may load or index the data; each batch of Read has its own.
const (
	OpenTimeout  = 2 * time.Minute
	BatchTimeout = time.Minute
)

// Transport is the way batches travel from a data set plugin.
type Transport int

const (
	// TransportAuto uses shared memory when the host and the plugin both
	// can, and streams otherwise.
	TransportAuto Transport = iota
	// TransportStream always streams batches over gRPC.
	TransportStream
	// TransportShared requires shared memory; Open fails without.
	TransportShared
)

func (t Transport) String() string {
	switch t {
	case TransportAuto:
		return "auto"
	case TransportStream:
		return "stream"
	case TransportShared:
		return "shared"
	}
	return fmt.Sprintf("transport(%d)", int(t))
}

// BatchStream is a running data set plugin. Once opened it reads like an
// in-process source (Len, SampleShape, Read), so the scoring and
// calibration code consumes it unchanged; a plugin of named inputs
// (int8cal.batchstream.v2) describes them (Inputs) and reads them
// (ReadTensors). It is not safe for concurrent use.
type BatchStream struct {
	Found
	Info dataset.Info
	// Protocol is the negotiated protocol version: 1
	// (batchstreamrpc.ProtocolVersion, float32 samples) or 2
	// (batchstreamrpc.TensorsProtocolVersion, named inputs).
	Protocol int
	// Meta describes the data set once Open succeeded.
	Meta dataset.Meta
	// Transport chooses how batches travel; set it before Open.
	Transport Transport
	// Shared reports whether batches come through shared memory; Open
	// sets it.
	Shared bool
	// OpenTimeout and BatchTimeout bound Open and each batch of Read; 0
	// means the package default.
	OpenTimeout, BatchTimeout time.Duration

	log     hclog.Logger
	in      *instance
	rpc     *batchstreamrpc.Client       // v1
	trpc    *batchstreamrpc.TensorClient // v2
	region  *batchstreamrpc.Region
	opened  bool
	cur     *batches
	scratch []int32
}

// batches is the Batches or SharedBatches call being read: Read continues
// it while the caller asks for the batches that follow, so the plugin
// prepares the next batch while the caller works on this one.
type batches struct {
	r           *batchstreamrpc.Reader       // v1
	t           *batchstreamrpc.TensorReader // v2
	cancel      context.CancelFunc
	next, batch int
}

// StartBatchStream starts the plugin program and asks for its Info, which
// must carry the name f was found under. Its log lines arrive in log,
// named after the plugin. The host offers protocol versions 2 and 1, and
// go-plugin settles on the highest the plugin serves. On Linux the program
// is handed a shared memory region at start, which Open may choose to use.
func StartBatchStream(f Found, log hclog.Logger) (*BatchStream, error) {
	region, err := batchstreamrpc.NewRegion()
	if err != nil {
		log.Debug("batches will be streamed", "plugin", f.Name, "reason", err)
		region = nil
	}
	b := &BatchStream{Found: f, log: log, region: region}
	var attach func(*exec.Cmd)
	if region != nil {
		attach = region.Attach
	}
	in, raw, err := launch(f, log, batchstreamrpc.Handshake, batchstreamrpc.HostPlugins(region), batchstreamrpc.DialOptions(),
		batchstreamrpc.PluginName, attach)
	if err != nil {
		region.Close()
		return nil, b.errorf("start", "%v", err)
	}
	b.in = in
	b.rpc, _ = raw.(*batchstreamrpc.Client)
	b.trpc, _ = raw.(*batchstreamrpc.TensorClient)
	fail := func(err error) (*BatchStream, error) {
		in.close()
		region.Close()
		return nil, err
	}
	b.Protocol = in.client.NegotiatedVersion()
	ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
	defer cancel()
	if b.trpc != nil {
		b.Info, err = b.trpc.Info(ctx)
	} else {
		b.Info, err = b.rpc.Info(ctx)
	}
	if err != nil {
		return fail(b.wrap("Info", err, CallTimeout))
	}
	if err := checkName(b.Info.Name, f); err != nil {
		return fail(b.errorf("Info", "%v", err))
	}
	b.Info.Version = Clean(b.Info.Version, 256)
	b.Info.Description = Clean(b.Info.Description, MaxErrorText)
	for k := range b.Info.Options {
		o := &b.Info.Options[k]
		o.Default, o.Description = Clean(o.Default, MaxErrorText), Clean(o.Description, MaxErrorText)
	}
	return b, nil
}

// Open checks the options against the plugin's Info, then has the plugin
// open the data set, and chooses the transport. It may be called again to
// open other data.
func (b *BatchStream) Open(options map[string]string) (dataset.Meta, error) {
	b.stop()
	b.opened, b.Meta, b.Shared = false, dataset.Meta{}, false
	var names []string
	for _, o := range b.Info.Options {
		names = append(names, o.Name)
	}
	sort.Strings(names)
	keys := slices.Sorted(maps.Keys(options))
	for _, k := range keys {
		if !slices.Contains(names, k) {
			list := "none"
			if len(names) > 0 {
				list = strings.Join(names, ", ")
			}
			return dataset.Meta{}, b.errorf("Open", "unknown option %q (options: %s)", k, list)
		}
	}
	timeout := orDefault(b.OpenTimeout, OpenTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var opened batchstreamrpc.Opened
	var err error
	if b.trpc != nil {
		opened, err = b.trpc.Open(ctx, options)
	} else {
		opened, err = b.rpc.Open(ctx, options)
	}
	if err != nil {
		return dataset.Meta{}, b.wrap("Open", err, timeout)
	}
	switch b.Transport {
	case TransportStream:
		b.Shared = false
	case TransportShared:
		if !opened.Shared {
			return dataset.Meta{}, b.errorf("Open", "shared memory was required, and the host or the plugin cannot use it")
		}
		b.Shared = true
	default:
		b.Shared = opened.Shared
	}
	b.Meta = opened.Meta
	b.opened = true
	b.log.Debug("data set opened", "plugin", b.Name, "protocol", b.Protocol, "samples", b.Meta.Samples, "shape", b.Meta.SampleShape, "inputs", b.Meta.Inputs, "shared_memory", b.Shared)
	return b.Meta, nil
}

// Len returns the number of samples (0 before Open).
func (b *BatchStream) Len() int { return b.Meta.Samples }

// SampleShape returns the shape of one sample: under v2, that of a single
// float32 input (nil otherwise: see Inputs).
func (b *BatchStream) SampleShape() []int {
	if in, ok := b.singleFloat32(); ok {
		return slices.Clone(in.Shape)
	}
	return slices.Clone(b.Meta.SampleShape)
}

// Inputs returns the named inputs of a v2 data set; nil under v1, whose
// samples are SampleShape float32 values.
func (b *BatchStream) Inputs() []dataset.Input {
	out := slices.Clone(b.Meta.Inputs)
	for i := range out {
		out[i].Shape = slices.Clone(out[i].Shape)
	}
	return out
}

// singleFloat32 returns the input of a v2 data set of one float32 input,
// which Read serves too.
func (b *BatchStream) singleFloat32() (dataset.Input, bool) {
	if len(b.Meta.Inputs) == 1 && b.Meta.Inputs[0].Type == dataset.Float32 {
		return b.Meta.Inputs[0], true
	}
	return dataset.Input{}, false
}

// Read writes samples [first, first+n) into images (n×SampleShape,
// row-major) and their class indices into labels; -1 when the data set has
// no labels. It checks what the plugin sends: the batch asked for, labels
// within the announced classes. A v2 data set is read through ReadTensors
// unless it has a single float32 input.
func (b *BatchStream) Read(first, n int, images []float32, labels []int) error {
	if b.opened && b.trpc != nil {
		if _, ok := b.singleFloat32(); !ok {
			return b.errorf("Read", "the data set has named inputs (%s), not float32 samples; read it with ReadTensors", describeInputs(b.Meta.Inputs))
		}
		return b.ReadTensors(first, n, []dataset.Tensor{dataset.Float32Tensor(images)}, labels)
	}
	if err := b.checkRead(first, n, len(labels)); err != nil {
		return err
	}
	elems := b.Meta.SampleElements()
	if len(images) < n*elems {
		return b.errorf("Read", "buffers of %d values and %d labels for %d samples of %d values", len(images), len(labels), n, elems)
	}
	// A Read beyond what one batch may hold takes several.
	for limit := batchstreamrpc.BatchLimit(b.Meta); n > 0; {
		m := min(n, limit)
		err := b.read(first, m, labels[:m], func(r *batches, lbl []int32) (int, error) {
			_, got, err := r.r.Next(images[:m*elems], lbl)
			return got, err
		})
		if err != nil {
			return err
		}
		first, n, images, labels = first+m, n-m, images[m*elems:], labels[m:]
	}
	return nil
}

// ReadTensors writes samples [first, first+n) of a v2 data set into
// inputs, one per Inputs entry, of its type and with room for n samples,
// and their class indices into labels (-1 without labels), checked as Read
// checks them.
func (b *BatchStream) ReadTensors(first, n int, inputs []dataset.Tensor, labels []int) error {
	if err := b.checkRead(first, n, len(labels)); err != nil {
		return err
	}
	if b.trpc == nil {
		return b.errorf("ReadTensors", "the plugin speaks protocol %d: float32 samples, read with Read", b.Protocol)
	}
	ins := b.Meta.Inputs
	if len(inputs) != len(ins) {
		return b.errorf("ReadTensors", "%d buffers for the %d inputs %s", len(inputs), len(ins), describeInputs(ins))
	}
	for i, in := range ins {
		if inputs[i].Type != in.Type || inputs[i].Len() < n*in.Elements() {
			return b.errorf("ReadTensors", "input %q: a buffer of %d %v values for %d samples of %d %v values", in.Name, inputs[i].Len(), inputs[i].Type, n, in.Elements(), in.Type)
		}
	}
	rest, part := slices.Clone(inputs), make([]dataset.Tensor, len(ins))
	for limit := batchstreamrpc.BatchLimit(b.Meta); n > 0; {
		m := min(n, limit)
		for i, in := range ins {
			part[i] = dataset.Tensor{Type: in.Type, Data: rest[i].Data[:m*in.Elements()*in.Type.Size()]}
		}
		err := b.read(first, m, labels[:m], func(r *batches, lbl []int32) (int, error) {
			_, got, err := r.t.Next(part, lbl)
			return got, err
		})
		if err != nil {
			return err
		}
		for i, in := range ins {
			rest[i].Data = rest[i].Data[m*in.Elements()*in.Type.Size():]
		}
		first, n, labels = first+m, n-m, labels[m:]
	}
	return nil
}

// describeInputs lists inputs as "name (type [shape])".
func describeInputs(ins []dataset.Input) string {
	parts := make([]string, len(ins))
	for i, in := range ins {
		parts[i] = fmt.Sprintf("%q (%v %v)", in.Name, in.Type, in.Shape)
	}
	return strings.Join(parts, ", ")
}

// checkRead checks a read against the opened data set.
func (b *BatchStream) checkRead(first, n, labels int) error {
	switch {
	case !b.opened:
		return b.errorf("Read", "the data set is not open")
	case first < 0 || n < 0 || first > b.Meta.Samples-n:
		return b.errorf("Read", "samples [%d, %d) requested; the data set has %d", first, first+n, b.Meta.Samples)
	case labels < n:
		return b.errorf("Read", "%d labels for %d samples", labels, n)
	}
	return nil
}

// read reads one batch through next, continuing the call under way when
// it holds it.
func (b *BatchStream) read(first, n int, labels []int, next func(r *batches, labels []int32) (int, error)) error {
	if b.cur == nil || b.cur.next != first || b.cur.batch != n {
		if err := b.start(first, n); err != nil {
			return err
		}
	}
	if cap(b.scratch) < n {
		b.scratch = make([]int32, n)
	}
	timeout := orDefault(b.BatchTimeout, BatchTimeout)
	var late atomic.Bool
	cancel := b.cur.cancel
	timer := time.AfterFunc(timeout, func() { late.Store(true); cancel() })
	got, err := next(b.cur, b.scratch[:n])
	timer.Stop()
	if err == nil && got != n {
		err = fmt.Errorf("a batch of %d samples where %d were asked", got, n)
	}
	if err != nil {
		b.stop()
		if late.Load() {
			b.in.close()
			return b.errorf("Read", "no batch within %v; the plugin is hung or too slow (it was stopped)", timeout)
		}
		return b.wrap("Read", err, timeout)
	}
	b.cur.next += n
	if !b.Meta.Labels {
		for i := range labels {
			labels[i] = -1
		}
		return nil
	}
	for i, l := range b.scratch[:n] {
		if l < 0 || (b.Meta.Classes > 0 && int(l) >= b.Meta.Classes) {
			b.stop()
			return b.errorf("Read", "sample %d: label %d outside the %d classes announced", first+i, l, b.Meta.Classes)
		}
		labels[i] = int(l)
	}
	return nil
}

// start begins a call for the batches of n from first to the end of the
// data set (the last may be shorter), ending the one before.
func (b *BatchStream) start(first, n int) error {
	b.stop()
	ctx, cancel := context.WithCancel(context.Background())
	cur := &batches{cancel: cancel, next: first, batch: n}
	var err error
	switch count := b.Meta.Samples - first; {
	case b.trpc != nil && b.Shared:
		cur.t, err = b.trpc.SharedBatches(ctx, b.Meta, first, count, n, 0)
	case b.trpc != nil:
		cur.t, err = b.trpc.Batches(ctx, b.Meta, first, count, n)
	case b.Shared:
		cur.r, err = b.rpc.SharedBatches(ctx, b.Meta, first, count, n, 0)
	default:
		cur.r, err = b.rpc.Batches(ctx, b.Meta, first, count, n)
	}
	if err != nil {
		cancel()
		return b.wrap("Read", err, 0)
	}
	b.cur = cur
	return nil
}

// stop ends the call being read, if any.
func (b *BatchStream) stop() {
	if b.cur != nil {
		b.cur.cancel()
		b.cur = nil
	}
}

// Close asks the plugin to release the data set, then stops the process.
func (b *BatchStream) Close() {
	b.stop()
	if b.opened && !b.in.client.Exited() {
		ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
		var err error
		if b.trpc != nil {
			err = b.trpc.Close(ctx)
		} else {
			err = b.rpc.Close(ctx)
		}
		if err != nil {
			b.log.Warn("data set plugin did not close cleanly", "plugin", b.Name, "error", b.wrap("Close", err, CallTimeout))
		}
		cancel()
	}
	b.opened = false
	b.in.close()
	b.region.Close()
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func (b *BatchStream) errorf(call, format string, args ...any) error {
	return fmt.Errorf("data set plugin %q (%s): %s: %s", b.Name, b.Path, call, fmt.Sprintf(format, args...))
}

// wrap explains an RPC failure: a deadline, a plugin that died, or the
// plugin's own error.
func (b *BatchStream) wrap(call string, err error, timeout time.Duration) error {
	s, ok := status.FromError(err)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || s.Code() == codes.DeadlineExceeded:
		return b.errorf(call, "no answer within %v; the plugin is hung or too slow", timeout)
	case b.in.client.Exited() || s.Code() == codes.Unavailable:
		return b.errorf(call, "the plugin process exited or broke the connection (crashed?): %v%s", Clean(s.Message(), MaxErrorText), b.in.proc.exitNote(exitWait))
	case !ok:
		return b.errorf(call, "%v", Clean(err.Error(), MaxErrorText)) // the client's own checks
	}
	return b.errorf(call, "%s", Clean(s.Message(), MaxErrorText))
}
