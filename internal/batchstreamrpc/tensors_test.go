package batchstreamrpc

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/int8cal/int8cal/datasets/dataset"
	pb "github.com/int8cal/int8cal/internal/proto/batchstreamv2"
)

// The v2 reader reassembles every input of a batch from chunks; fuzzed
// like v1's, it must never panic nor write outside the buffers, and what
// it accepts must be the batch asked for, every bool 0 or 1.

type tensorChunkStream struct{ fakeStream[pb.BatchChunk] }

func (s *tensorChunkStream) Recv() (*pb.BatchChunk, error) {
	c := new(pb.BatchChunk)
	return c, s.next(c)
}

// tensorMeta is the data set the fuzzed chunks claim to be part of: ids
// (int64) and a mask (bool) of elems values each, and a float16 weight.
func tensorMeta(samples uint16, elems uint8, labels bool) dataset.Meta {
	e := 1 + int(elems)%16
	m := dataset.Meta{Samples: 1 + int(samples)%300, Labels: labels, Inputs: []dataset.Input{
		{Name: "input_ids", Type: dataset.Int64, Shape: []int{e}},
		{Name: "attention_mask", Type: dataset.Bool, Shape: []int{e}},
		{Name: "w", Type: dataset.Float16, Shape: []int{1}},
	}}
	if labels {
		m.Classes = 3
	}
	return m
}

func tensorReader(meta dataset.Meta, batch int, data []byte) *TensorReader {
	return &TensorReader{meta: meta, end: meta.Samples, batch: batch, stream: &tensorChunkStream{fakeStream[pb.BatchChunk]{msgs: messages(data)}}}
}

// drainTensors reads every batch, checking each accepted one, and returns
// the first error (nil at the end).
func drainTensors(t *testing.T, r *TensorReader) error {
	bufs := make([]dataset.Tensor, len(r.meta.Inputs))
	for i, in := range r.meta.Inputs {
		bufs[i] = dataset.NewTensor(in.Type, r.batch*in.Elements())
	}
	labels := make([]int32, r.batch)
	want := r.next
	for {
		first, n, err := r.Next(bufs, labels)
		if errors.Is(err, io.EOF) {
			if want != r.end {
				t.Fatalf("EOF at sample %d of %d", want, r.end)
			}
			return nil
		}
		if err != nil {
			return err
		}
		if first != want || n != min(r.batch, r.end-want) {
			t.Fatalf("batch [%d, +%d) accepted; expected [%d, +%d)", first, n, want, min(r.batch, r.end-want))
		}
		for _, b := range bufs[1].Data {
			if b > 1 {
				t.Fatalf("bool %d accepted", b)
			}
		}
		want += n
	}
}

// chunks are the chunks of one batch of the tensorMeta(_, 1, labels) data
// set (two values per input) starting at first, each input whole.
func chunks(first uint64, n int, labels bool) []proto.Message {
	c := []*pb.BatchChunk{
		{First: first, Samples: uint32(n), Input: 0, Data: make([]byte, 16*n)},
		{First: first, Samples: uint32(n), Input: 1, Data: make([]byte, 2*n)},
		{First: first, Samples: uint32(n), Input: 2, Data: make([]byte, 2*n)},
	}
	if labels {
		c[0].Labels = make([]int32, n)
	}
	return []proto.Message{c[0], c[1], c[2]}
}

func FuzzTensorChunks(f *testing.F) {
	// 3 samples in batches of 2.
	f.Add(frame(append(chunks(0, 2, true), chunks(2, 1, true)...)...), uint16(2), uint8(1), true, uint8(1))
	f.Add(frame(append(chunks(0, 2, false), chunks(2, 1, false)...)...), uint16(2), uint8(1), false, uint8(1))
	split := chunks(0, 2, true)
	split[0].(*pb.BatchChunk).Data = make([]byte, 8)
	f.Add(frame(append(append(split, &pb.BatchChunk{First: 0, Samples: 2, Input: 0, Offset: 8, Data: make([]byte, 24)}), chunks(2, 1, true)...)...), uint16(2), uint8(1), true, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, samples uint16, elems uint8, labels bool, batch uint8) {
		drainTensors(t, tensorReader(tensorMeta(samples, elems, labels), 1+int(batch)%8, data))
	})
}

func FuzzTensorOpenReply(f *testing.F) {
	seed, _ := proto.Marshal(&pb.OpenResponse{Samples: 10, Labels: true, Classes: 2, Inputs: []*pb.Input{
		{Name: "input_ids", ElementType: pb.ElementType_ELEMENT_TYPE_INT64, Shape: []uint64{16}},
		{Name: "attention_mask", ElementType: pb.ElementType_ELEMENT_TYPE_BOOL, Shape: []uint64{16}},
	}})
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		var resp pb.OpenResponse
		if proto.Unmarshal(data, &resp) != nil {
			return
		}
		m, err := TensorMetaFromProto(&resp)
		if err != nil {
			return
		}
		if err := m.Check(); err != nil || len(m.Inputs) == 0 || len(m.SampleShape) != 0 {
			t.Fatalf("accepted %+v: %v", m, err)
		}
	})
}

func TestTensorReaderChecksPluginMessages(t *testing.T) {
	meta := tensorMeta(2, 1, true) // 3 samples of 2 ids, 2 bools, 1 float16
	read := func(msgs ...proto.Message) error { return drainTensors(t, tensorReader(meta, 2, frame(msgs...))) }
	second := chunks(2, 1, true)
	if err := read(append(chunks(0, 2, true), second...)...); err != nil {
		t.Errorf("well-formed: %v", err)
	}
	with := func(edit func(c []*pb.BatchChunk)) []proto.Message {
		m := chunks(0, 2, true)
		c := []*pb.BatchChunk{m[0].(*pb.BatchChunk), m[1].(*pb.BatchChunk), m[2].(*pb.BatchChunk)}
		edit(c)
		return append(m, second...)
	}
	for _, tc := range []struct {
		name, want string
		msgs       []proto.Message
	}{
		{"inputs swapped", "input 1 at byte 0; expected [0, +2), input 0", with(func(c []*pb.BatchChunk) { c[0].Input, c[1].Input = 1, 0 })},
		{"wrong batch", "chunk for samples [1, +2)", with(func(c []*pb.BatchChunk) { c[0].First = 1 })},
		{"too long", `input "attention_mask": chunk of 5 bytes`, with(func(c []*pb.BatchChunk) { c[1].Data = make([]byte, 5) })},
		{"part value", `input "input_ids": chunk of 31 bytes`, with(func(c []*pb.BatchChunk) { c[0].Data = make([]byte, 31) })},
		{"bool 2", `input "attention_mask": sample 1 holds 2 for a bool`, with(func(c []*pb.BatchChunk) { c[1].Data = []byte{0, 1, 1, 2} })},
		{"labels later", `labels in a chunk of input "w"`, with(func(c []*pb.BatchChunk) { c[2].Labels = []int32{1, 2} })},
		{"few labels", "1 labels for the batch of 2", with(func(c []*pb.BatchChunk) { c[0].Labels = c[0].Labels[:1] })},
		{"cut short", `ended inside the batch at sample 0 (input "w"`, chunks(0, 2, true)[:2]},
	} {
		if err := read(tc.msgs...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// tensorLiar is a v2 plugin whose Open reply breaks the protocol.
type tensorLiar struct {
	pb.UnimplementedBatchStreamServer
	resp *pb.OpenResponse
}

func (l *tensorLiar) Open(context.Context, *pb.OpenRequest) (*pb.OpenResponse, error) {
	return l.resp, nil
}

type tensorLiarPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	resp *pb.OpenResponse
}

func (p *tensorLiarPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterBatchStreamServer(s, &tensorLiar{resp: p.resp})
	return nil
}

func (p *tensorLiarPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, nil
}

func TestTensorClientChecksOpen(t *testing.T) {
	ids := func() *pb.Input {
		return &pb.Input{Name: "input_ids", ElementType: pb.ElementType_ELEMENT_TYPE_INT64, Shape: []uint64{16}}
	}
	for _, tc := range []struct {
		name, want string
		inputs     []*pb.Input
	}{
		{"no inputs", "no inputs", nil},
		{"unknown type", `input "input_ids": unknown element type 11`, []*pb.Input{{Name: "input_ids", ElementType: 11, Shape: []uint64{16}}}},
		{"twice", `input "input_ids" listed twice`, []*pb.Input{ids(), ids()}},
		{"unnamed beside others", "an unnamed input among 2", []*pb.Input{ids(), {ElementType: pb.ElementType_ELEMENT_TYPE_BOOL, Shape: []uint64{16}}}},
		{"zero dimension", "dimension outside", []*pb.Input{{Name: "m", ElementType: pb.ElementType_ELEMENT_TYPE_BOOL, Shape: []uint64{16, 0}}}},
		{"no shape", `input "m": no shape`, []*pb.Input{{Name: "m", ElementType: pb.ElementType_ELEMENT_TYPE_BOOL}}},
	} {
		client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginName: &tensorLiarPlugin{resp: &pb.OpenResponse{Samples: 4, Inputs: tc.inputs}}})
		_, err := NewTensorClient(client.Conn, nil).Open(context.Background(), nil)
		client.Close()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// A plugin's TensorStream that describes no inputs, or a BatchStream that
// describes some, is refused by the server adapter itself.
func TestServerRefusesTheOtherKindOfMeta(t *testing.T) {
	s := &base{}
	_, err := s.open(func() (dataset.Meta, error) { return dataset.Meta{Samples: 1, SampleShape: []int{3}}, nil }, true)
	if err == nil || !strings.Contains(err.Error(), "sdk.ServeTensors") {
		t.Errorf("a TensorStream without inputs: %v", err)
	}
	_, err = s.open(func() (dataset.Meta, error) {
		return dataset.Meta{Samples: 1, Inputs: []dataset.Input{{Name: "a", Type: dataset.Int64, Shape: []int{1}}}}, nil
	}, false)
	if err == nil || !strings.Contains(err.Error(), "sdk.Serve") {
		t.Errorf("a BatchStream with inputs: %v", err)
	}
}

type tensorSharedStream struct{ fakeStream[pb.SharedBatch] }

func (s *tensorSharedStream) Recv() (*pb.SharedBatch, error) {
	b := new(pb.SharedBatch)
	return b, s.next(b)
}

func (s *tensorSharedStream) Send(*pb.SharedBatchesRequest) error { return nil }

// sharedTensorReader reads fuzzed slot announcements over a region of
// slots slots, whose bytes are a pattern with every bool 0 or 1.
func sharedTensorReader(meta dataset.Meta, batch, slots int, data []byte) (*TensorReader, []byte, int) {
	slotBytes := SlotBytes(meta, min(batch, meta.Samples))
	mem := make([]byte, slots*slotBytes)
	for i := range mem {
		mem[i] = byte(i*7+i>>8) & 1
	}
	return &TensorReader{meta: meta, end: meta.Samples, batch: batch, mem: mem, slots: slots, slotBytes: slotBytes,
		shared: &tensorSharedStream{fakeStream[pb.SharedBatch]{msgs: messages(data)}}}, mem, slotBytes
}

func FuzzTensorSharedSlots(f *testing.F) {
	meta := tensorMeta(2, 1, true) // 3 samples, in batches of 2
	slotBytes := SlotBytes(meta, 2)
	_, _, two := slotLayout(meta, 2)
	_, _, one := slotLayout(meta, 1)
	f.Add(frame(
		&pb.SharedBatch{First: 0, Samples: 2, Slot: 0, Offset: 0, Bytes: uint64(two)},
		&pb.SharedBatch{First: 2, Samples: 1, Slot: 1, Offset: uint64(slotBytes), Bytes: uint64(one)},
	), uint16(2), uint8(1), true, uint8(1), uint8(1))
	f.Add(frame(
		&pb.SharedBatch{First: 0, Samples: 2, Slot: 7, Offset: 7 * uint64(slotBytes), Bytes: uint64(two)},
	), uint16(2), uint8(1), true, uint8(1), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, samples uint16, elems uint8, labels bool, batch, slots uint8) {
		r, _, _ := sharedTensorReader(tensorMeta(samples, elems, labels), 1+int(batch)%8, 1+int(slots)%MaxSlots, data)
		drainTensors(t, r)
	})
}

func TestTensorReaderChecksSlots(t *testing.T) {
	meta := tensorMeta(2, 1, true)
	_, _, two := slotLayout(meta, 2)
	_, _, one := slotLayout(meta, 1)
	read := func(batches ...*pb.SharedBatch) error {
		var msgs []proto.Message
		for _, b := range batches {
			msgs = append(msgs, b)
		}
		r, _, _ := sharedTensorReader(meta, 2, 2, frame(msgs...))
		return drainTensors(t, r)
	}
	slotBytes := uint64(SlotBytes(meta, 2))
	second := &pb.SharedBatch{First: 2, Samples: 1, Slot: 0, Bytes: uint64(one)}
	if err := read(&pb.SharedBatch{First: 0, Samples: 2, Slot: 1, Offset: slotBytes, Bytes: uint64(two)}, second); err != nil {
		t.Errorf("well-formed: %v", err)
	}
	for _, tc := range []struct {
		name, want string
		b          *pb.SharedBatch
	}{
		{"slot out of range", "slot 2", &pb.SharedBatch{First: 0, Samples: 2, Slot: 2, Offset: 2 * slotBytes, Bytes: uint64(two)}},
		{"slot offset", "slot 0 at offset 8", &pb.SharedBatch{First: 0, Samples: 2, Slot: 0, Offset: 8, Bytes: uint64(two)}},
		{"size", "expected " + strconv.Itoa(two), &pb.SharedBatch{First: 0, Samples: 2, Slot: 0, Bytes: slotBytes}},
		{"batch", "batch [1, +2) announced", &pb.SharedBatch{First: 1, Samples: 2, Slot: 0, Bytes: uint64(two)}},
	} {
		if err := read(tc.b, second); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	// A bool of 2 in the slot is refused.
	r, mem, _ := sharedTensorReader(meta, 2, 1, frame(&pb.SharedBatch{First: 0, Samples: 2, Bytes: uint64(two)}))
	at, _, _ := slotLayout(meta, 2)
	mem[at[1]+3] = 2
	if err := drainTensors(t, r); err == nil || !strings.Contains(err.Error(), `input "attention_mask": sample 1 holds 2`) {
		t.Errorf("a bool of 2: %v", err)
	}
}
