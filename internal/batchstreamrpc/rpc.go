package batchstreamrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/int8cal/int8cal/datasets/dataset"
	pb "github.com/int8cal/int8cal/internal/proto/batchstreamv1"
)

// ProtocolVersion is the go-plugin protocol version of
// int8cal.batchstream.v1.
const ProtocolVersion = 1

// PluginName is the name under which the batch stream is dispensed.
const PluginName = "batchstream"

// Handshake is shared by host and plugins. The cookie keeps a plugin binary
// from being run by hand by mistake (it then says so and exits), and keeps
// a calibrator from being started as a data set or the other way round.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "INT8CAL_PLUGIN_COOKIE",
	MagicCookieValue: "int8cal-batchstream-5eed",
}

// ShmFDEnv names the environment variable through which the host tells a
// plugin process the descriptor of its shared memory region.
const ShmFDEnv = "INT8CAL_BATCHSTREAM_SHM_FD"

// MaxMessageSize bounds one gRPC message on both sides. Chunking keeps real
// messages near ChunkBytes; the bound only has to exceed gRPC's 4 MiB
// default with a margin.
const MaxMessageSize = 64 << 20

// ChunkBytes is the most image and label data in one streamed chunk, and
// ChunkValues the same counted in float32 or int32 values (4 bytes each).
const (
	ChunkBytes  = 1 << 20
	ChunkValues = ChunkBytes / 4
)

// Bounds on one batch: samples, and bytes of images.
const (
	MaxBatch      = 1 << 16
	MaxBatchBytes = 1 << 31
)

// BatchLimit is the largest batch of meta's samples one call may ask for.
func BatchLimit(meta dataset.Meta) int {
	return max(1, min(MaxBatch, MaxBatchBytes/meta.SampleBytes()))
}

// Shared memory layout bounds: slots per SharedBatches call, and the
// default (double buffering: the plugin fills one slot while the host
// copies the other out).
const (
	MaxSlots     = 8
	DefaultSlots = 2
)

// Plugins returns the versioned plugin sets: the host offers every version
// it speaks, and go-plugin picks the highest the plugin serves too. region
// is the shared memory region (on the plugin side the one the host handed
// over, RegionFromEnv; on the host side the one it created), or nil.
func Plugins(impl dataset.BatchStream, region *Region) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &Plugin{Impl: impl, Region: region}},
	}
}

// ServerOptions are the gRPC server options a plugin serves with.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize)}
}

// DialOptions are the gRPC dial options the host connects with.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize))}
}

// Plugin is the go-plugin glue for batch streams (gRPC only).
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl   dataset.BatchStream // set on the plugin side
	Region *Region             // shared memory, or nil
}

// GRPCServer registers the implementation (plugin side).
func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterBatchStreamServer(s, &server{impl: p.Impl, region: p.Region})
	return nil
}

// GRPCClient returns a *Client (host side).
func (p *Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(c, p.Region), nil
}

// NewClient returns the host's client over a connection to a plugin that
// was handed region (or nil) at start.
func NewClient(conn grpc.ClientConnInterface, region *Region) *Client {
	return &Client{rpc: pb.NewBatchStreamClient(conn), region: region}
}

type server struct {
	pb.UnimplementedBatchStreamServer
	base
	impl   dataset.BatchStream
	region *Region
}

// base is what the servers of both protocol versions keep: the opened
// data set, with the calls into the implementation serialized.
type base struct {
	// mu serializes the calls into the implementation (go-plugin serves
	// each RPC on its own goroutine) and guards meta.
	mu   sync.Mutex
	meta *dataset.Meta // nil until Open
	// streaming is held by the one Batches or SharedBatches call that
	// runs: a call the host gave up on finishes before the next starts,
	// so two never write the same slot.
	streaming sync.Mutex
}

func (s *server) Info(context.Context, *pb.InfoRequest) (*pb.InfoResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.impl.Info()
	r := &pb.InfoResponse{Name: i.Name, Version: i.Version, Description: i.Description}
	for _, o := range i.Options {
		r.Options = append(r.Options, &pb.Option{Name: o.Name, DefaultValue: o.Default, Description: o.Description})
	}
	return r, nil
}

func (s *server) Open(_ context.Context, req *pb.OpenRequest) (*pb.OpenResponse, error) {
	meta, err := s.open(func() (dataset.Meta, error) { return s.impl.Open(req.Options) }, false)
	if err != nil {
		return nil, err
	}
	resp := &pb.OpenResponse{
		Samples: uint64(meta.Samples), ElementType: pb.ElementType_ELEMENT_TYPE_FLOAT32,
		Labels: meta.Labels, Classes: uint32(min(meta.Classes, math.MaxUint32)), SharedMemory: s.region != nil,
	}
	for _, d := range meta.SampleShape {
		resp.SampleShape = append(resp.SampleShape, uint64(d))
	}
	return resp, nil
}

// open opens the data set through open and keeps what it describes:
// named inputs (a TensorStream's) when inputs is set, else a sample shape.
func (s *base) open(open func() (dataset.Meta, error), inputs bool) (dataset.Meta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta = nil
	meta, err := open()
	if err != nil {
		return meta, status.Error(codes.InvalidArgument, err.Error())
	}
	if err := meta.Check(); err != nil {
		return meta, status.Errorf(codes.Internal, "Open described an unusable data set: %v", err)
	}
	if inputs != (len(meta.Inputs) > 0) {
		return meta, status.Errorf(codes.Internal, "Open described %d named inputs; a BatchStream describes its SampleShape (sdk.Serve), a TensorStream its Inputs (sdk.ServeTensors)", len(meta.Inputs))
	}
	meta.SampleShape = slices.Clone(meta.SampleShape)
	meta.Inputs = slices.Clone(meta.Inputs)
	for i := range meta.Inputs {
		meta.Inputs[i].Shape = slices.Clone(meta.Inputs[i].Shape)
	}
	s.meta = &meta
	return meta, nil
}

func (s *server) Close(context.Context, *pb.CloseRequest) (*pb.CloseResponse, error) {
	return &pb.CloseResponse{}, s.close(s.impl.Close)
}

func (s *base) close(close func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta = nil
	if err := close(); err != nil {
		return status.Error(codes.Unknown, err.Error())
	}
	return nil
}

// plan checks a batch request against the opened data set.
func (s *base) plan(start, count uint64, batchSize uint32) (dataset.Meta, int, int, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta == nil {
		return dataset.Meta{}, 0, 0, 0, status.Error(codes.FailedPrecondition, "batches requested before Open")
	}
	m := *s.meta
	if batchSize < 1 || batchSize > MaxBatch || int64(batchSize)*int64(m.SampleBytes()) > MaxBatchBytes {
		return m, 0, 0, 0, status.Errorf(codes.InvalidArgument, "batch size %d: want 1 to %d samples and at most %d bytes of values", batchSize, MaxBatch, int64(MaxBatchBytes))
	}
	if start > uint64(m.Samples) || count > uint64(m.Samples)-start {
		return m, 0, 0, 0, status.Errorf(codes.OutOfRange, "samples [%d, %d) requested; the data set has %d", start, start+count, m.Samples)
	}
	return m, int(start), int(count), int(batchSize), nil
}

// read fills one batch through the implementation's read.
func (s *base) read(first, n int, read func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta == nil {
		return status.Error(codes.FailedPrecondition, "the data set was closed while batches were read")
	}
	if err := read(); err != nil {
		return status.Errorf(codes.Unknown, "reading samples [%d, %d): %v", first, first+n, err)
	}
	return nil
}

func (s *server) Batches(req *pb.BatchesRequest, stream pb.BatchStream_BatchesServer) error {
	s.streaming.Lock()
	defer s.streaming.Unlock()
	meta, first, count, batch, err := s.plan(req.Start, req.Count, req.BatchSize)
	if err != nil {
		return err
	}
	elems := meta.SampleElements()
	images := make([]float32, min(batch, count)*elems)
	var labels []int32
	if meta.Labels {
		labels = make([]int32, min(batch, count))
	}
	var scratch []byte // for big-endian machines
	for end := first + count; first < end; first += batch {
		n := min(batch, end-first)
		img := images[:n*elems]
		var lbl []int32
		if labels != nil {
			lbl = labels[:n]
		}
		if err := s.read(first, n, func() error { return s.impl.Read(first, n, img, lbl) }); err != nil {
			return err
		}
		// gRPC encodes a message before Send returns (and the plugin
		// server has no stats handler holding on to it), so the buffers
		// can be refilled after.
		for off := 0; off < len(img); {
			c := &pb.BatchChunk{First: uint64(first), Samples: uint32(n), Offset: uint64(off)}
			room := ChunkValues
			if off == 0 {
				c.Labels = lbl
				room -= len(lbl)
			}
			m := min(room, len(img)-off)
			c.Images = wireBytes(img[off:off+m], &scratch)
			if err := stream.Send(c); err != nil {
				return err
			}
			off += m
		}
	}
	return nil
}

func (s *server) SharedBatches(stream pb.BatchStream_SharedBatchesServer) error {
	s.streaming.Lock()
	defer s.streaming.Unlock()
	call, err := beginShared[*pb.BatchesRequest, *pb.SharedStart, *pb.Release](&s.base, s.region, stream.Context(), stream.Recv)
	if err != nil {
		return err
	}
	meta, mem := call.meta, call.mem
	elems := meta.SampleElements()
	for first, end := call.first, call.first+call.count; first < end; first += call.batch {
		n := min(call.batch, end-first)
		slot, err := call.pool.take()
		if err != nil {
			return err
		}
		off := uint64(slot) * call.slotBytes
		imageBytes := uint64(n * elems * 4)
		labelBytes := uint64(0)
		var labels []int32
		if meta.Labels {
			labelBytes = uint64(n * 4)
			labels = int32s(mem[off+imageBytes : off+imageBytes+labelBytes])
		}
		images := float32s(mem[off : off+imageBytes])
		if err := s.read(first, n, func() error { return s.impl.Read(first, n, images, labels) }); err != nil {
			return err
		}
		if err := stream.Send(&pb.SharedBatch{
			First: uint64(first), Samples: uint32(n), Slot: slot,
			Offset: off, ImageBytes: imageBytes, LabelBytes: labelBytes,
		}); err != nil {
			return err
		}
	}
	return nil
}

// Client is the host's view of a data set plugin. Every call takes a
// context; the host puts a deadline on each.
type Client struct {
	rpc    pb.BatchStreamClient
	region *Region
}

// Info asks the plugin to describe itself.
func (c *Client) Info(ctx context.Context) (dataset.Info, error) {
	resp, err := c.rpc.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return dataset.Info{}, err
	}
	return InfoFromProto(resp)
}

// Opened is what Open learns: the data set, and whether the plugin can
// deliver batches through the shared memory region (SharedBatches).
type Opened struct {
	Meta   dataset.Meta
	Shared bool
}

// Open selects the data set. An error the plugin raises about the options
// comes back as a plain error carrying its message.
func (c *Client) Open(ctx context.Context, options map[string]string) (Opened, error) {
	resp, err := c.rpc.Open(ctx, &pb.OpenRequest{Options: options})
	if s, ok := status.FromError(err); ok && s.Code() == codes.InvalidArgument {
		return Opened{}, errors.New(s.Message())
	}
	if err != nil {
		return Opened{}, err
	}
	return OpenedFromProto(resp, c.region != nil)
}

// OpenedFromProto reads a plugin's Open reply: float32 values, a sane
// data set (dataset.Meta.Check), and shared memory only when the host has
// a region (hasRegion).
func OpenedFromProto(resp *pb.OpenResponse, hasRegion bool) (Opened, error) {
	if resp.ElementType != pb.ElementType_ELEMENT_TYPE_FLOAT32 {
		return Opened{}, fmt.Errorf("the plugin delivers %v; this host reads float32 only", resp.ElementType)
	}
	if resp.Samples > math.MaxInt32*64 || resp.Classes > math.MaxInt32 {
		return Opened{}, fmt.Errorf("absurd data set: %d samples, %d classes", resp.Samples, resp.Classes)
	}
	if len(resp.SampleShape) > 64 {
		return Opened{}, fmt.Errorf("absurd sample shape of %d dimensions", len(resp.SampleShape))
	}
	m := dataset.Meta{Samples: int(resp.Samples), Labels: resp.Labels, Classes: int(resp.Classes)}
	for _, d := range resp.SampleShape {
		if d > dataset.MaxSampleElements {
			return Opened{}, fmt.Errorf("absurd sample shape %v", resp.SampleShape)
		}
		m.SampleShape = append(m.SampleShape, int(d))
	}
	if err := m.Check(); err != nil {
		return Opened{}, fmt.Errorf("unusable data set: %v", err)
	}
	return Opened{Meta: m, Shared: resp.SharedMemory && hasRegion}, nil
}

// Close asks the plugin to release the data set.
func (c *Client) Close(ctx context.Context) error {
	_, err := c.rpc.Close(ctx, &pb.CloseRequest{})
	return err
}

// Batches starts streaming samples [first, first+count) of meta in batches
// of batch; ctx bounds the whole stream (cancel it to stop early).
func (c *Client) Batches(ctx context.Context, meta dataset.Meta, first, count, batch int) (*Reader, error) {
	if err := checkRange(meta, first, count, batch); err != nil {
		return nil, err
	}
	stream, err := c.rpc.Batches(ctx, &pb.BatchesRequest{Start: uint64(first), Count: uint64(count), BatchSize: uint32(batch)})
	if err != nil {
		return nil, err
	}
	return &Reader{meta: meta, next: first, end: first + count, batch: batch, elems: meta.SampleElements(), stream: stream}, nil
}

// SharedBatches starts the same through the shared memory region, cut into
// slots slots (DefaultSlots when 0). Only while no other Reader of c is in
// use: the region may be remapped.
func (c *Client) SharedBatches(ctx context.Context, meta dataset.Meta, first, count, batch, slots int) (*Reader, error) {
	mem, slots, slotBytes, err := c.region.reserveSlots(meta, first, count, batch, slots)
	if err != nil {
		return nil, err
	}
	stream, err := c.rpc.SharedBatches(ctx)
	if err != nil {
		return nil, err
	}
	err = stream.Send(&pb.SharedBatchesRequest{Part: &pb.SharedBatchesRequest_Start{Start: &pb.SharedStart{
		Batches: &pb.BatchesRequest{Start: uint64(first), Count: uint64(count), BatchSize: uint32(batch)},
		Slots:   uint32(slots), SlotBytes: uint64(slotBytes), RegionBytes: uint64(len(mem)),
	}}})
	if err != nil {
		return nil, recvErr(func() error { return stream.RecvMsg(new(pb.SharedBatch)) }, err)
	}
	return &Reader{
		meta: meta, next: first, end: first + count, batch: batch, elems: meta.SampleElements(),
		shared: stream, mem: mem, slots: slots, slotBytes: slotBytes,
	}, nil
}

func checkRange(meta dataset.Meta, first, count, batch int) error {
	if first < 0 || count < 0 || first > meta.Samples || count > meta.Samples-first {
		return fmt.Errorf("samples [%d, %d) requested; the data set has %d", first, first+count, meta.Samples)
	}
	if batch < 1 || batch > MaxBatch || int64(batch)*int64(meta.SampleBytes()) > MaxBatchBytes {
		return fmt.Errorf("batch size %d: want 1 to %d samples and at most %d bytes of values", batch, MaxBatch, int64(MaxBatchBytes))
	}
	return nil
}

// recvErr explains a failed Send on a SharedBatches stream: the server's
// own status, which recv reads, is the better error when there is one.
func recvErr(recv func() error, err error) error {
	if errors.Is(err, io.EOF) {
		if rerr := recv(); rerr != nil && !errors.Is(rerr, io.EOF) {
			return rerr
		}
	}
	return err
}

// Reader receives the batches of one Batches or SharedBatches call, in
// order, and checks each against what was asked. Cancel the context the
// call was made with once done with it, whether or not every batch was
// read: that ends the call.
type Reader struct {
	meta             dataset.Meta
	next, end, batch int
	elems            int

	stream pb.BatchStream_BatchesClient // streamed

	shared    pb.BatchStream_SharedBatchesClient // through shared memory
	mem       []byte
	slots     int
	slotBytes int
}

// Shared reports whether the batches come through shared memory.
func (r *Reader) Shared() bool { return r.shared != nil }

// Next returns the first sample of the next batch, and n its size; it
// writes the batch's values into images[:n×elements] and its labels into
// labels[:n] (left alone when the data set has none). After the last
// batch it returns io.EOF.
func (r *Reader) Next(images []float32, labels []int32) (first, n int, err error) {
	if r.next >= r.end {
		return 0, 0, io.EOF
	}
	first, n = r.next, min(r.batch, r.end-r.next)
	values := n * r.elems
	if len(images) < values || (r.meta.Labels && len(labels) < n) {
		return 0, 0, fmt.Errorf("buffers for %d values and %d labels; the batch of %d needs %d and %d", len(images), len(labels), n, values, n)
	}
	if r.shared != nil {
		err = r.nextShared(first, n, images[:values], labels)
	} else {
		err = r.nextStreamed(first, n, images[:values], labels)
	}
	if err != nil {
		return 0, 0, err
	}
	r.next += n
	return first, n, nil
}

func (r *Reader) nextStreamed(first, n int, images []float32, labels []int32) error {
	for got := 0; got < len(images); {
		c, err := r.stream.Recv()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("the stream ended inside the batch at sample %d (%d of %d values)", first, got, len(images))
		}
		if err != nil {
			return err
		}
		if c.First != uint64(first) || c.Samples != uint32(n) || c.Offset != uint64(got) {
			return fmt.Errorf("chunk for samples [%d, +%d) at value %d; expected [%d, +%d) at value %d", c.First, c.Samples, c.Offset, first, n, got)
		}
		if len(c.Images)%4 != 0 || len(c.Images)/4 > len(images)-got || len(c.Images) == 0 {
			return fmt.Errorf("chunk of %d bytes of values at value %d for a batch of %d values", len(c.Images), got, len(images))
		}
		switch {
		case got == 0 && r.meta.Labels:
			if len(c.Labels) != n {
				return fmt.Errorf("%d labels for the batch of %d at sample %d", len(c.Labels), n, first)
			}
			copy(labels, c.Labels)
		case len(c.Labels) != 0:
			return fmt.Errorf("labels in chunk %d of the batch at sample %d", got, first)
		}
		putWireBytes(images[got:], c.Images)
		got += len(c.Images) / 4
	}
	return nil
}

func (r *Reader) nextShared(first, n int, images []float32, labels []int32) error {
	b, err := r.shared.Recv()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("the stream ended before the batch at sample %d", first)
	}
	if err != nil {
		return err
	}
	imageBytes, labelBytes := uint64(len(images))*4, uint64(0)
	if r.meta.Labels {
		labelBytes = uint64(n) * 4
	}
	if err := checkSlot(first, n, b.First, b.Samples, b.Slot, b.Offset, r.slots, r.slotBytes); err != nil {
		return err
	}
	if b.ImageBytes != imageBytes || b.LabelBytes != labelBytes {
		return fmt.Errorf("batch at sample %d of %d+%d bytes; expected %d+%d", first, b.ImageBytes, b.LabelBytes, imageBytes, labelBytes)
	}
	copy(images, float32s(r.mem[b.Offset:b.Offset+imageBytes]))
	if r.meta.Labels {
		copy(labels, int32s(r.mem[b.Offset+imageBytes:b.Offset+imageBytes+labelBytes]))
	}
	return release(first+n >= r.end, func() error {
		return r.shared.Send(&pb.SharedBatchesRequest{Part: &pb.SharedBatchesRequest_Release{Release: &pb.Release{Slot: b.Slot}}})
	})
}

// Bounds on the texts and options of a plugin's Info.
const (
	MaxNameBytes = 256
	MaxTextBytes = 64 << 10
	MaxOptions   = 1024
)

// InfoFromProto reads a plugin's Info reply (CheckInfo).
func InfoFromProto(r *pb.InfoResponse) (dataset.Info, error) {
	i := dataset.Info{Name: r.Name, Version: r.Version, Description: r.Description}
	for _, o := range r.Options {
		i.Options = append(i.Options, dataset.Option{Name: o.Name, Default: o.DefaultValue, Description: o.Description})
	}
	return i, CheckInfo(i)
}

// CheckInfo refuses a plugin's Info with no name, too long texts, too many
// options, or unnamed or repeated ones.
func CheckInfo(i dataset.Info) error {
	switch {
	case i.Name == "":
		return errors.New("Info: no name")
	case len(i.Name) > MaxNameBytes || len(i.Version) > MaxNameBytes:
		return fmt.Errorf("Info: name or version longer than %d bytes", MaxNameBytes)
	case len(i.Description) > MaxTextBytes:
		return fmt.Errorf("Info: description longer than %d bytes", MaxTextBytes)
	case len(i.Options) > MaxOptions:
		return fmt.Errorf("Info: %d options (at most %d)", len(i.Options), MaxOptions)
	}
	seen := map[string]bool{}
	for _, o := range i.Options {
		switch {
		case o.Name == "" || len(o.Name) > MaxNameBytes:
			return fmt.Errorf("Info: an option named %.64q", o.Name)
		case seen[o.Name]:
			return fmt.Errorf("Info: option %.64q listed twice", o.Name)
		case len(o.Default)+len(o.Description) > MaxTextBytes:
			return fmt.Errorf("Info: option %.64q: texts longer than %d bytes", o.Name, MaxTextBytes)
		}
		seen[o.Name] = true
	}
	return nil
}
