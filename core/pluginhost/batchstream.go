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
// calibration code consumes it unchanged. It is not safe for concurrent
// use.
type BatchStream struct {
	Found
	Info dataset.Info
	// Protocol is the negotiated protocol version.
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
	rpc     *batchstreamrpc.Client
	region  *batchstreamrpc.Region
	opened  bool
	cur     *batches
	scratch []int32
}

// batches is the Batches or SharedBatches call being read: Read continues
// it while the caller asks for the batches that follow, so the plugin
// prepares the next batch while the caller works on this one.
type batches struct {
	r           *batchstreamrpc.Reader
	cancel      context.CancelFunc
	next, batch int
}

// StartBatchStream starts the plugin program and asks for its Info, which
// must carry the name f was found under. Its log lines arrive in log,
// named after the plugin. On Linux the program is handed a shared memory
// region at start, which Open may choose to use.
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
	in, raw, err := launch(f, log, batchstreamrpc.Handshake, batchstreamrpc.Plugins(nil, region), batchstreamrpc.DialOptions(),
		batchstreamrpc.PluginName, attach)
	if err != nil {
		region.Close()
		return nil, b.errorf("start", "%v", err)
	}
	b.in, b.rpc = in, raw.(*batchstreamrpc.Client)
	fail := func(err error) (*BatchStream, error) {
		in.close()
		region.Close()
		return nil, err
	}
	b.Protocol = in.client.NegotiatedVersion()
	ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
	defer cancel()
	if b.Info, err = b.rpc.Info(ctx); err != nil {
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
	opened, err := b.rpc.Open(ctx, options)
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
	b.log.Debug("data set opened", "plugin", b.Name, "samples", b.Meta.Samples, "shape", b.Meta.SampleShape, "shared_memory", b.Shared)
	return b.Meta, nil
}

// Len returns the number of samples (0 before Open).
func (b *BatchStream) Len() int { return b.Meta.Samples }

// SampleShape returns the shape of one sample.
func (b *BatchStream) SampleShape() []int { return slices.Clone(b.Meta.SampleShape) }

// Read writes samples [first, first+n) into images (n×SampleShape,
// row-major) and their class indices into labels; -1 when the data set has
// no labels. It checks what the plugin sends: the batch asked for, labels
// within the announced classes.
func (b *BatchStream) Read(first, n int, images []float32, labels []int) error {
	if !b.opened {
		return b.errorf("Read", "the data set is not open")
	}
	elems := b.Meta.SampleElements()
	switch {
	case first < 0 || n < 0 || first > b.Meta.Samples-n:
		return b.errorf("Read", "samples [%d, %d) requested; the data set has %d", first, first+n, b.Meta.Samples)
	case len(images) < n*elems || len(labels) < n:
		return b.errorf("Read", "buffers of %d values and %d labels for %d samples of %d values", len(images), len(labels), n, elems)
	}
	// A Read beyond what one batch may hold takes several.
	for limit := batchstreamrpc.BatchLimit(b.Meta); n > 0; {
		m := min(n, limit)
		if err := b.read(first, m, images[:m*elems], labels[:m]); err != nil {
			return err
		}
		first, n, images, labels = first+m, n-m, images[m*elems:], labels[m:]
	}
	return nil
}

// read reads one batch, continuing the call under way when it holds it.
func (b *BatchStream) read(first, n int, images []float32, labels []int) error {
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
	_, got, err := b.cur.r.Next(images, b.scratch[:n])
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
	var r *batchstreamrpc.Reader
	var err error
	if b.Shared {
		r, err = b.rpc.SharedBatches(ctx, b.Meta, first, b.Meta.Samples-first, n, 0)
	} else {
		r, err = b.rpc.Batches(ctx, b.Meta, first, b.Meta.Samples-first, n)
	}
	if err != nil {
		cancel()
		return b.wrap("Read", err, 0)
	}
	b.cur = &batches{r: r, cancel: cancel, next: first, batch: n}
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
		if err := b.rpc.Close(ctx); err != nil {
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
