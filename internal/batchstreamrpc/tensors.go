package batchstreamrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/int8cal/int8cal/datasets/dataset"
	pb "github.com/int8cal/int8cal/internal/proto/batchstreamv2"
)

// TensorsProtocolVersion is the go-plugin protocol version of
// int8cal.batchstream.v2: samples of several named inputs of any
// dataset.ElementType, streamed or through shared memory.
const TensorsProtocolVersion = 2

// HostPlugins are the plugin sets the host offers: v2 and v1. go-plugin
// settles on the highest version the plugin serves too, so a plugin built
// against v1 keeps speaking v1 (and gets region) and a TensorStream
// speaks v2. Dispensed, PluginName is a *Client under v1 and a
// *TensorClient under v2. Both use region, the host's shared memory
// region, or nil.
func HostPlugins(region *Region) map[int]plugin.PluginSet {
	sets := Plugins(nil, region)
	sets[TensorsProtocolVersion] = TensorPlugins(nil, region)[TensorsProtocolVersion]
	return sets
}

// TensorPlugins returns the plugin set of a TensorStream: v2 only. region
// is the shared memory region as in Plugins.
func TensorPlugins(impl dataset.TensorStream, region *Region) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{TensorsProtocolVersion: {PluginName: &TensorPlugin{Impl: impl, Region: region}}}
}

// TensorPlugin is the go-plugin glue for v2 (gRPC only).
type TensorPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl   dataset.TensorStream // set on the plugin side
	Region *Region              // shared memory, or nil
}

// GRPCServer registers the implementation (plugin side).
func (p *TensorPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterBatchStreamServer(s, &tensorServer{impl: p.Impl, region: p.Region})
	return nil
}

// GRPCClient returns a *TensorClient (host side).
func (p *TensorPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewTensorClient(c, p.Region), nil
}

type tensorServer struct {
	pb.UnimplementedBatchStreamServer
	base
	impl   dataset.TensorStream
	region *Region
}

func (s *tensorServer) Info(context.Context, *pb.InfoRequest) (*pb.InfoResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.impl.Info()
	r := &pb.InfoResponse{Name: i.Name, Version: i.Version, Description: i.Description}
	for _, o := range i.Options {
		r.Options = append(r.Options, &pb.Option{Name: o.Name, DefaultValue: o.Default, Description: o.Description})
	}
	return r, nil
}

func (s *tensorServer) Open(_ context.Context, req *pb.OpenRequest) (*pb.OpenResponse, error) {
	meta, err := s.open(func() (dataset.Meta, error) { return s.impl.Open(req.Options) }, true)
	if err != nil {
		return nil, err
	}
	resp := &pb.OpenResponse{Samples: uint64(meta.Samples), Labels: meta.Labels, Classes: uint32(min(meta.Classes, math.MaxUint32)), SharedMemory: s.region != nil}
	for _, in := range meta.Inputs {
		p := &pb.Input{Name: in.Name, ElementType: pb.ElementType(in.Type)}
		for _, d := range in.Shape {
			p.Shape = append(p.Shape, uint64(d))
		}
		resp.Inputs = append(resp.Inputs, p)
	}
	return resp, nil
}

func (s *tensorServer) Close(context.Context, *pb.CloseRequest) (*pb.CloseResponse, error) {
	return &pb.CloseResponse{}, s.close(s.impl.Close)
}

func (s *tensorServer) Batches(req *pb.BatchesRequest, stream pb.BatchStream_BatchesServer) error {
	s.streaming.Lock()
	defer s.streaming.Unlock()
	meta, first, count, batch, err := s.plan(req.Start, req.Count, req.BatchSize)
	if err != nil {
		return err
	}
	bufs := make([]dataset.Tensor, len(meta.Inputs))
	for i, in := range meta.Inputs {
		bufs[i] = dataset.NewTensor(in.Type, min(batch, count)*in.Elements())
	}
	views := make([]dataset.Tensor, len(bufs))
	var labels []int32
	if meta.Labels {
		labels = make([]int32, min(batch, count))
	}
	var scratch []byte // for big-endian machines
	for end := first + count; first < end; first += batch {
		n := min(batch, end-first)
		for i, in := range meta.Inputs {
			views[i] = dataset.Tensor{Type: in.Type, Data: bufs[i].Data[:n*in.Elements()*in.Type.Size()]}
		}
		var lbl []int32
		if labels != nil {
			lbl = labels[:n]
		}
		if err := s.read(first, n, func() error { return s.impl.ReadTensors(first, n, views, lbl) }); err != nil {
			return err
		}
		// gRPC encodes a message before Send returns, so the buffers can
		// be refilled after (see Batches of v1).
		for i, t := range views {
			size := t.Type.Size()
			for off := 0; off < len(t.Data); {
				c := &pb.BatchChunk{First: uint64(first), Samples: uint32(n), Input: uint32(i), Offset: uint64(off)}
				room := ChunkBytes
				if i == 0 && off == 0 {
					c.Labels = lbl
					room -= 4 * len(lbl)
				}
				m := min(max(room/size, 1)*size, len(t.Data)-off)
				c.Data = toWire(t.Data[off:off+m], size, &scratch)
				if err := stream.Send(c); err != nil {
					return err
				}
				off += m
			}
		}
	}
	return nil
}

func (s *tensorServer) SharedBatches(stream pb.BatchStream_SharedBatchesServer) error {
	s.streaming.Lock()
	defer s.streaming.Unlock()
	call, err := beginShared[*pb.BatchesRequest, *pb.SharedStart, *pb.Release](&s.base, s.region, stream.Context(), stream.Recv)
	if err != nil {
		return err
	}
	meta, mem := call.meta, call.mem
	views := make([]dataset.Tensor, len(meta.Inputs))
	for first, end := call.first, call.first+call.count; first < end; first += call.batch {
		n := min(call.batch, end-first)
		slot, err := call.pool.take()
		if err != nil {
			return err
		}
		off := int(uint64(slot) * call.slotBytes)
		inputs, labelsAt, bytes := slotLayout(meta, n)
		for i, in := range meta.Inputs {
			views[i] = dataset.Tensor{Type: in.Type, Data: mem[off+inputs[i] : off+inputs[i]+n*in.Elements()*in.Type.Size()]}
		}
		var labels []int32
		if meta.Labels {
			labels = int32s(mem[off+labelsAt : off+bytes])
		}
		if err := s.read(first, n, func() error { return s.impl.ReadTensors(first, n, views, labels) }); err != nil {
			return err
		}
		if err := stream.Send(&pb.SharedBatch{First: uint64(first), Samples: uint32(n), Slot: slot, Offset: uint64(off), Bytes: uint64(bytes)}); err != nil {
			return err
		}
	}
	return nil
}

// toWire returns values of size bytes each as little-endian bytes: b
// itself on little-endian machines, else a copy into scratch.
func toWire(b []byte, size int, scratch *[]byte) []byte {
	if dataset.NativeLittleEndian {
		return b
	}
	if cap(*scratch) < len(b) {
		*scratch = make([]byte, len(b))
	}
	out := (*scratch)[:len(b)]
	dataset.CopyLittleEndian(out, b, size)
	return out
}

// TensorClient is the host's view of a v2 data set plugin. Every call
// takes a context; the host puts a deadline on each.
type TensorClient struct {
	rpc    pb.BatchStreamClient
	region *Region
}

// NewTensorClient returns the host's client over a connection to a v2
// plugin that was handed region (or nil) at start.
func NewTensorClient(conn grpc.ClientConnInterface, region *Region) *TensorClient {
	return &TensorClient{rpc: pb.NewBatchStreamClient(conn), region: region}
}

// Info asks the plugin to describe itself.
func (c *TensorClient) Info(ctx context.Context) (dataset.Info, error) {
	resp, err := c.rpc.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return dataset.Info{}, err
	}
	return TensorInfoFromProto(resp)
}

// TensorInfoFromProto reads a v2 plugin's Info reply (CheckInfo).
func TensorInfoFromProto(r *pb.InfoResponse) (dataset.Info, error) {
	i := dataset.Info{Name: r.Name, Version: r.Version, Description: r.Description}
	for _, o := range r.Options {
		i.Options = append(i.Options, dataset.Option{Name: o.Name, Default: o.DefaultValue, Description: o.Description})
	}
	return i, CheckInfo(i)
}

// Open selects the data set. An error the plugin raises about the options
// comes back as a plain error carrying its message.
func (c *TensorClient) Open(ctx context.Context, options map[string]string) (Opened, error) {
	resp, err := c.rpc.Open(ctx, &pb.OpenRequest{Options: options})
	if s, ok := status.FromError(err); ok && s.Code() == codes.InvalidArgument {
		return Opened{}, errors.New(s.Message())
	}
	if err != nil {
		return Opened{}, err
	}
	m, err := TensorMetaFromProto(resp)
	return Opened{Meta: m, Shared: resp.SharedMemory && c.region != nil}, err
}

// TensorMetaFromProto reads a v2 plugin's Open reply: at least one input,
// each of a known element type, with a bounded shape and name, and a sane
// data set (dataset.Meta.Check).
func TensorMetaFromProto(resp *pb.OpenResponse) (dataset.Meta, error) {
	switch {
	case resp.Samples > math.MaxInt32*64 || resp.Classes > math.MaxInt32:
		return dataset.Meta{}, fmt.Errorf("absurd data set: %d samples, %d classes", resp.Samples, resp.Classes)
	case len(resp.Inputs) == 0:
		return dataset.Meta{}, errors.New("the data set has no inputs")
	case len(resp.Inputs) > dataset.MaxInputs:
		return dataset.Meta{}, fmt.Errorf("%d inputs (at most %d)", len(resp.Inputs), dataset.MaxInputs)
	}
	m := dataset.Meta{Samples: int(resp.Samples), Labels: resp.Labels, Classes: int(resp.Classes)}
	for _, p := range resp.Inputs {
		if len(p.Name) > MaxNameBytes || len(p.Shape) > 64 {
			return dataset.Meta{}, fmt.Errorf("input %.64q: a name of %d bytes, a shape of %d dimensions", p.Name, len(p.Name), len(p.Shape))
		}
		in := dataset.Input{Name: p.Name, Type: dataset.ElementType(p.ElementType)}
		for _, d := range p.Shape {
			if d > dataset.MaxSampleElements {
				return dataset.Meta{}, fmt.Errorf("input %q: absurd shape %v", p.Name, p.Shape)
			}
			in.Shape = append(in.Shape, int(d))
		}
		m.Inputs = append(m.Inputs, in)
	}
	if err := m.Check(); err != nil {
		return dataset.Meta{}, fmt.Errorf("unusable data set: %v", err)
	}
	return m, nil
}

// Close asks the plugin to release the data set.
func (c *TensorClient) Close(ctx context.Context) error {
	_, err := c.rpc.Close(ctx, &pb.CloseRequest{})
	return err
}

// Batches starts streaming samples [first, first+count) of meta in
// batches of batch; ctx bounds the whole stream (cancel it to stop early).
func (c *TensorClient) Batches(ctx context.Context, meta dataset.Meta, first, count, batch int) (*TensorReader, error) {
	if err := checkRange(meta, first, count, batch); err != nil {
		return nil, err
	}
	stream, err := c.rpc.Batches(ctx, &pb.BatchesRequest{Start: uint64(first), Count: uint64(count), BatchSize: uint32(batch)})
	if err != nil {
		return nil, err
	}
	return &TensorReader{meta: meta, next: first, end: first + count, batch: batch, stream: stream}, nil
}

// SharedBatches starts the same through the shared memory region, cut into
// slots slots (DefaultSlots when 0). Only while no other reader of c is in
// use: the region may be remapped.
func (c *TensorClient) SharedBatches(ctx context.Context, meta dataset.Meta, first, count, batch, slots int) (*TensorReader, error) {
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
	return &TensorReader{meta: meta, next: first, end: first + count, batch: batch, shared: stream, mem: mem, slots: slots, slotBytes: slotBytes}, nil
}

// TensorReader receives the batches of one Batches or SharedBatches call,
// in order, and checks each against what was asked: the batch, every
// input in order, in whole values of its type, bools 0 or 1, labels on the
// first chunk only (or the slot and its layout). Cancel the context the
// call was made with once done with it.
type TensorReader struct {
	meta             dataset.Meta
	next, end, batch int

	stream pb.BatchStream_BatchesClient // streamed

	shared    pb.BatchStream_SharedBatchesClient // through shared memory
	mem       []byte
	slots     int
	slotBytes int
}

// Shared reports whether the batches come through shared memory.
func (r *TensorReader) Shared() bool { return r.shared != nil }

// Next returns the first sample of the next batch, and n its size; it
// writes each input's values of the batch into inputs (one per
// Meta.Inputs entry, of its type, room for n samples: the first n×elements
// values are written) and its labels into labels[:n] (left alone when the
// data set has none). After the last batch it returns io.EOF.
func (r *TensorReader) Next(inputs []dataset.Tensor, labels []int32) (first, n int, err error) {
	if r.next >= r.end {
		return 0, 0, io.EOF
	}
	first, n = r.next, min(r.batch, r.end-r.next)
	if len(inputs) != len(r.meta.Inputs) || (r.meta.Labels && len(labels) < n) {
		return 0, 0, fmt.Errorf("%d buffers and %d labels for a batch of %d inputs and %d samples", len(inputs), len(labels), len(r.meta.Inputs), n)
	}
	for i, in := range r.meta.Inputs {
		if inputs[i].Type != in.Type || inputs[i].Len() < n*in.Elements() {
			return 0, 0, fmt.Errorf("input %q: a buffer of %d %v values; the batch of %d needs %d %v", in.Name, inputs[i].Len(), inputs[i].Type, n, n*in.Elements(), in.Type)
		}
	}
	if r.shared != nil {
		err = r.nextShared(first, n, inputs, labels)
	}
	for i, in := range r.meta.Inputs {
		if r.shared == nil && err == nil {
			err = r.receive(first, n, i, inputs[i].Data[:n*in.Elements()*in.Type.Size()], labels)
		}
		if err == nil && in.Type == dataset.Bool {
			err = checkBools(in, first, inputs[i].Data[:n*in.Elements()])
		}
	}
	if err != nil {
		return 0, 0, err
	}
	r.next += n
	return first, n, nil
}

// nextShared copies the batch out of the slot the plugin announces, and
// releases the slot.
func (r *TensorReader) nextShared(first, n int, inputs []dataset.Tensor, labels []int32) error {
	b, err := r.shared.Recv()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("the stream ended before the batch at sample %d", first)
	}
	if err != nil {
		return err
	}
	if err := checkSlot(first, n, b.First, b.Samples, b.Slot, b.Offset, r.slots, r.slotBytes); err != nil {
		return err
	}
	at, labelsAt, bytes := slotLayout(r.meta, n)
	if b.Bytes != uint64(bytes) {
		return fmt.Errorf("batch at sample %d of %d bytes; expected %d", first, b.Bytes, bytes)
	}
	slot := r.mem[b.Offset : b.Offset+uint64(bytes)]
	for i, in := range r.meta.Inputs {
		copy(inputs[i].Data, slot[at[i]:at[i]+n*in.Elements()*in.Type.Size()])
	}
	if r.meta.Labels {
		copy(labels, int32s(slot[labelsAt:]))
	}
	return release(first+n >= r.end, func() error {
		return r.shared.Send(&pb.SharedBatchesRequest{Part: &pb.SharedBatchesRequest_Release{Release: &pb.Release{Slot: b.Slot}}})
	})
}

// checkBools refuses a bool other than 0 or 1 in an input's values.
func checkBools(in dataset.Input, first int, data []byte) error {
	for k, v := range data {
		if v > 1 {
			return fmt.Errorf("input %q: sample %d holds %d for a bool (0 or 1)", in.Name, first+k/in.Elements(), v)
		}
	}
	return nil
}

// receive reads input i's values of the batch into dst.
func (r *TensorReader) receive(first, n, i int, dst []byte, labels []int32) error {
	in := r.meta.Inputs[i]
	size := in.Type.Size()
	for got := 0; got < len(dst); {
		c, err := r.stream.Recv()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("the stream ended inside the batch at sample %d (input %q, %d of %d bytes)", first, in.Name, got, len(dst))
		}
		if err != nil {
			return err
		}
		if c.First != uint64(first) || c.Samples != uint32(n) || c.Input != uint32(i) || c.Offset != uint64(got) {
			return fmt.Errorf("chunk for samples [%d, +%d), input %d at byte %d; expected [%d, +%d), input %d (%q) at byte %d", c.First, c.Samples, c.Input, c.Offset, first, n, i, in.Name, got)
		}
		if len(c.Data)%size != 0 || len(c.Data) > len(dst)-got || len(c.Data) == 0 {
			return fmt.Errorf("input %q: chunk of %d bytes at byte %d for %d bytes of %v values", in.Name, len(c.Data), got, len(dst), in.Type)
		}
		switch {
		case i == 0 && got == 0 && r.meta.Labels:
			if len(c.Labels) != n {
				return fmt.Errorf("%d labels for the batch of %d at sample %d", len(c.Labels), n, first)
			}
			copy(labels, c.Labels)
		case len(c.Labels) != 0:
			return fmt.Errorf("labels in a chunk of input %q at byte %d of the batch at sample %d; they belong on the first only", in.Name, got, first)
		}
		dataset.CopyLittleEndian(dst[got:], c.Data, size)
		got += len(c.Data)
	}
	return nil
}
