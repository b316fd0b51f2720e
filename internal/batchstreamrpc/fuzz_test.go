package batchstreamrpc

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/int8cal/int8cal/datasets/dataset"
	pb "github.com/int8cal/int8cal/internal/proto/batchstreamv1"
)

// The host reads what a data set plugin sends it: streamed chunks, which
// it reassembles into batches, and slot announcements pointing into the
// shared memory region. The fuzz targets feed it arbitrary messages: it
// must never panic nor read outside the batch or region, and what it
// accepts must be what was asked for.

// messages splits fuzz data into protobuf messages, each preceded by its
// length (2 bytes, little-endian).
func messages(data []byte) [][]byte {
	var out [][]byte
	for len(data) >= 2 {
		n := int(binary.LittleEndian.Uint16(data))
		data = data[2:]
		n = min(n, len(data))
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

func frame(msgs ...proto.Message) []byte {
	var out []byte
	for _, m := range msgs {
		b, err := proto.Marshal(m)
		if err != nil {
			panic(err)
		}
		out = binary.LittleEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	return out
}

// fuzzMeta is the data set the fuzzed messages claim to be part of.
func fuzzMeta(samples uint16, elems uint8, labels bool) dataset.Meta {
	m := dataset.Meta{Samples: 1 + int(samples)%500, SampleShape: []int{1 + int(elems)%40}, Labels: labels}
	if labels {
		m.Classes = 10
	}
	return m
}

// fakeStream replays messages as a plugin's replies.
type fakeStream[T any] struct {
	grpc.ClientStream
	msgs [][]byte
}

func (f *fakeStream[T]) next(m proto.Message) error {
	if len(f.msgs) == 0 {
		return io.EOF
	}
	b := f.msgs[0]
	f.msgs = f.msgs[1:]
	return proto.Unmarshal(b, m)
}

type chunkStream struct{ fakeStream[pb.BatchChunk] }

func (s *chunkStream) Recv() (*pb.BatchChunk, error) {
	c := new(pb.BatchChunk)
	return c, s.next(c)
}

type sharedStream struct{ fakeStream[pb.SharedBatch] }

func (s *sharedStream) Recv() (*pb.SharedBatch, error) {
	b := new(pb.SharedBatch)
	return b, s.next(b)
}

func (s *sharedStream) Send(*pb.SharedBatchesRequest) error { return nil }

// readAll reads every batch r offers, checking each one that is accepted.
func readAll(t *testing.T, r *Reader, check func(first, n int, images []float32, labels []int32)) {
	images := make([]float32, r.batch*r.elems)
	labels := make([]int32, r.batch)
	want := r.next
	for {
		first, n, err := r.Next(images, labels)
		if errors.Is(err, io.EOF) {
			if want != r.end {
				t.Fatalf("EOF at sample %d of %d", want, r.end)
			}
			return
		}
		if err != nil {
			return
		}
		if first != want || n != min(r.batch, r.end-want) {
			t.Fatalf("batch [%d, +%d) accepted; expected [%d, +%d)", first, n, want, min(r.batch, r.end-want))
		}
		if check != nil {
			check(first, n, images[:n*r.elems], labels[:n])
		}
		want += n
	}
}

func FuzzBatchChunks(f *testing.F) {
	// A data set of 3 samples of 2 values, in batches of 2: whole, and the
	// first batch in two chunks.
	img := func(n int) []byte { return make([]byte, 4*n) }
	f.Add(frame(
		&pb.BatchChunk{First: 0, Samples: 2, Offset: 0, Labels: []int32{1, 2}, Images: img(4)},
		&pb.BatchChunk{First: 2, Samples: 1, Offset: 0, Labels: []int32{3}, Images: img(2)},
	), uint16(2), uint8(1), true, uint8(1))
	f.Add(frame(
		&pb.BatchChunk{First: 0, Samples: 2, Offset: 0, Labels: []int32{1, 2}, Images: img(1)},
		&pb.BatchChunk{First: 0, Samples: 2, Offset: 1, Images: img(3)},
		&pb.BatchChunk{First: 2, Samples: 1, Offset: 0, Labels: []int32{3}, Images: img(2)},
	), uint16(2), uint8(1), true, uint8(1))
	f.Add(frame(
		&pb.BatchChunk{First: 0, Samples: 2, Offset: 0, Images: img(4)},
		&pb.BatchChunk{First: 2, Samples: 1, Offset: 3, Images: img(2)},
	), uint16(2), uint8(1), false, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, samples uint16, elems uint8, labels bool, batch uint8) {
		meta := fuzzMeta(samples, elems, labels)
		b := 1 + int(batch)%8
		r := &Reader{meta: meta, next: 0, end: meta.Samples, batch: b, elems: meta.SampleElements(),
			stream: &chunkStream{fakeStream[pb.BatchChunk]{msgs: messages(data)}}}
		readAll(t, r, nil)
	})
}

func FuzzSharedSlots(f *testing.F) {
	meta := fuzzMeta(2, 1, true) // 3 samples of 2 values
	slotBytes := SlotBytes(meta, 2)
	f.Add(frame(
		&pb.SharedBatch{First: 0, Samples: 2, Slot: 0, Offset: 0, ImageBytes: 16, LabelBytes: 8},
		&pb.SharedBatch{First: 2, Samples: 1, Slot: 1, Offset: uint64(slotBytes), ImageBytes: 8, LabelBytes: 4},
	), uint16(2), uint8(1), true, uint8(1), uint8(1))
	f.Add(frame(
		&pb.SharedBatch{First: 0, Samples: 2, Slot: 1, Offset: uint64(slotBytes), ImageBytes: 16, LabelBytes: 8},
		&pb.SharedBatch{First: 2, Samples: 1, Slot: 7, Offset: 7 * uint64(slotBytes), ImageBytes: 8, LabelBytes: 4},
	), uint16(2), uint8(1), true, uint8(1), uint8(1))
	f.Add(frame(
		&pb.SharedBatch{First: 0, Samples: 2, Slot: math.MaxUint32, Offset: math.MaxUint64 - 3, ImageBytes: 16, LabelBytes: 8},
	), uint16(2), uint8(1), true, uint8(1), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, samples uint16, elems uint8, labels bool, batch, slots uint8) {
		meta := fuzzMeta(samples, elems, labels)
		b := 1 + int(batch)%8
		s := 1 + int(slots)%MaxSlots
		slotBytes := SlotBytes(meta, min(b, meta.Samples))
		mem := make([]byte, s*slotBytes)
		for i := range mem {
			mem[i] = byte(i*7 + i>>8)
		}
		r := &Reader{meta: meta, next: 0, end: meta.Samples, batch: b, elems: meta.SampleElements(),
			shared: &sharedStream{fakeStream[pb.SharedBatch]{msgs: messages(data)}}, mem: mem, slots: s, slotBytes: slotBytes}
		// An accepted batch is the content of one of the region's slots.
		readAll(t, r, func(first, n int, images []float32, labels []int32) {
			bits := math.Float32bits(images[0])
			for slot := range s {
				if binary.NativeEndian.Uint32(mem[slot*slotBytes:]) == bits {
					return
				}
			}
			t.Fatalf("batch at sample %d does not come from a slot", first)
		})
	})
}

func FuzzOpenReply(f *testing.F) {
	seed, _ := proto.Marshal(&pb.OpenResponse{Samples: 10, SampleShape: []uint64{3, 32, 32}, ElementType: pb.ElementType_ELEMENT_TYPE_FLOAT32, Labels: true, Classes: 10, SharedMemory: true})
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		var resp pb.OpenResponse
		if proto.Unmarshal(data, &resp) != nil {
			return
		}
		o, err := OpenedFromProto(&resp, true)
		if err != nil {
			return
		}
		if err := o.Meta.Check(); err != nil || o.Meta.Samples < 0 {
			t.Fatalf("accepted %+v: %v", o.Meta, err)
		}
	})
}

func FuzzInfoReply(f *testing.F) {
	seed, _ := proto.Marshal(&pb.InfoResponse{Name: "npy", Version: "1.0.0", Options: []*pb.Option{{Name: "x", DefaultValue: "a", Description: "b"}}})
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		var resp pb.InfoResponse
		if proto.Unmarshal(data, &resp) != nil {
			return
		}
		i, err := InfoFromProto(&resp)
		if err == nil && (i.Name == "" || len(i.Options) > MaxOptions) {
			t.Fatalf("accepted %+v", i)
		}
	})
}

// The fuzz seeds hold: well-formed messages are read to the end, and each
// kind of malformed one is refused with an error.
func TestReaderChecksPluginMessages(t *testing.T) {
	meta := fuzzMeta(2, 1, true) // 3 samples of 2 values, batches of 2
	img := func(n int) []byte { return make([]byte, 4*n) }
	streamed := func(chunks ...*pb.BatchChunk) error {
		var msgs []proto.Message
		for _, c := range chunks {
			msgs = append(msgs, c)
		}
		r := &Reader{meta: meta, end: 3, batch: 2, elems: 2, stream: &chunkStream{fakeStream[pb.BatchChunk]{msgs: messages(frame(msgs...))}}}
		return drain(r)
	}
	slotBytes := SlotBytes(meta, 2)
	shared := func(batches ...*pb.SharedBatch) error {
		var msgs []proto.Message
		for _, b := range batches {
			msgs = append(msgs, b)
		}
		r := &Reader{meta: meta, end: 3, batch: 2, elems: 2, mem: make([]byte, 2*slotBytes), slots: 2, slotBytes: slotBytes,
			shared: &sharedStream{fakeStream[pb.SharedBatch]{msgs: messages(frame(msgs...))}}}
		return drain(r)
	}
	second := &pb.BatchChunk{First: 2, Samples: 1, Labels: []int32{3}, Images: img(2)}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"whole", streamed(&pb.BatchChunk{First: 0, Samples: 2, Labels: []int32{1, 2}, Images: img(4)}, second)},
		{"split", streamed(&pb.BatchChunk{First: 0, Samples: 2, Labels: []int32{1, 2}, Images: img(1)}, &pb.BatchChunk{First: 0, Samples: 2, Offset: 1, Images: img(3)}, second)},
		{"shared", shared(&pb.SharedBatch{First: 0, Samples: 2, Slot: 1, Offset: uint64(slotBytes), ImageBytes: 16, LabelBytes: 8},
			&pb.SharedBatch{First: 2, Samples: 1, Slot: 0, ImageBytes: 8, LabelBytes: 4})},
	} {
		if tc.err != nil {
			t.Errorf("%s: %v", tc.name, tc.err)
		}
	}
	for _, tc := range []struct {
		name, want string
		err        error
	}{
		{"overlap", "expected [0, +2) at value 1", streamed(&pb.BatchChunk{First: 0, Samples: 2, Labels: []int32{1, 2}, Images: img(1)}, &pb.BatchChunk{First: 0, Samples: 2, Offset: 0, Images: img(3)})},
		{"too long", "chunk of 20 bytes", streamed(&pb.BatchChunk{First: 0, Samples: 2, Labels: []int32{1, 2}, Images: img(5)})},
		{"odd bytes", "chunk of 3 bytes", streamed(&pb.BatchChunk{First: 0, Samples: 2, Labels: []int32{1, 2}, Images: []byte{1, 2, 3}})},
		{"labels later", "labels in chunk", streamed(&pb.BatchChunk{First: 0, Samples: 2, Labels: []int32{1, 2}, Images: img(1)}, &pb.BatchChunk{First: 0, Samples: 2, Offset: 1, Labels: []int32{1}, Images: img(3)})},
		{"few labels", "1 labels for the batch of 2", streamed(&pb.BatchChunk{First: 0, Samples: 2, Labels: []int32{1}, Images: img(4)})},
		{"cut short", "ended inside the batch", streamed(&pb.BatchChunk{First: 0, Samples: 2, Labels: []int32{1, 2}, Images: img(3)})},
		{"slot out of range", "slot 2", shared(&pb.SharedBatch{First: 0, Samples: 2, Slot: 2, Offset: 2 * uint64(slotBytes), ImageBytes: 16, LabelBytes: 8})},
		{"slot offset", "slot 0 at offset 4", shared(&pb.SharedBatch{First: 0, Samples: 2, Slot: 0, Offset: 4, ImageBytes: 16, LabelBytes: 8})},
		{"huge slot", "slot 4294967295", shared(&pb.SharedBatch{First: 0, Samples: 2, Slot: math.MaxUint32, Offset: math.MaxUint64, ImageBytes: 16, LabelBytes: 8})},
		{"slot sizes", "of 64+8 bytes", shared(&pb.SharedBatch{First: 0, Samples: 2, Slot: 0, ImageBytes: 64, LabelBytes: 8})},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, tc.err, tc.want)
		}
	}
}

// drain reads every batch, returning the first error (nil at the end).
func drain(r *Reader) error {
	images, labels := make([]float32, r.batch*r.elems), make([]int32, r.batch)
	for {
		_, _, err := r.Next(images, labels)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
