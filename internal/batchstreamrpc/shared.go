package batchstreamrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/int8cal/int8cal/datasets/dataset"
)

// The shared memory path of both protocol versions: a slot's layout, the
// host reserving and the plugin mapping the slots, the plugin handing out
// the free ones, and the host checking each announcement and releasing
// its slot.

// slotLayout returns where a batch of n samples of meta lies in its slot:
// the offset of each input's values (v1: the images, at 0), of the labels,
// and the end. v1 puts the labels right after the images; v2 starts every
// input and the labels at a multiple of 8 bytes.
func slotLayout(meta dataset.Meta, n int) (inputs []int, labels, end int) {
	if len(meta.Inputs) == 0 {
		labels = n * meta.SampleElements() * 4
		inputs = []int{0}
	} else {
		for _, in := range meta.Inputs {
			inputs = append(inputs, labels)
			labels += (n*in.Elements()*in.Type.Size() + 7) &^ 7
		}
	}
	end = labels
	if meta.Labels {
		end += 4 * n
	}
	return inputs, labels, end
}

// SlotBytes is the size of one shared memory slot holding a batch of
// batch samples of meta: the values, then the labels (slotLayout),
// rounded up to whole pages.
func SlotBytes(meta dataset.Meta, batch int) int {
	_, _, n := slotLayout(meta, batch)
	page := os.Getpagesize()
	return (n + page - 1) / page * page
}

// reserveSlots sizes the host's region for a call reading samples
// [first, first+count) in batches of batch, cut into slots slots
// (DefaultSlots when 0); it returns the region and the slots.
func (r *Region) reserveSlots(meta dataset.Meta, first, count, batch, slots int) (mem []byte, n, slotBytes int, err error) {
	if r == nil {
		return nil, 0, 0, errors.New("no shared memory region")
	}
	if err := checkRange(meta, first, count, batch); err != nil {
		return nil, 0, 0, err
	}
	if slots == 0 {
		slots = DefaultSlots
	}
	if slots < 1 || slots > MaxSlots {
		return nil, 0, 0, fmt.Errorf("%d slots (want 1 to %d)", slots, MaxSlots)
	}
	slotBytes = SlotBytes(meta, min(batch, max(count, 1)))
	mem, err = r.Reserve(slots * slotBytes)
	return mem, slots, slotBytes, err
}

// mapSlots checks the host's SharedStart against the batches planned and
// maps the plugin's view of the region.
func (r *Region) mapSlots(meta dataset.Meta, count, batch, slots int, slotBytes, regionBytes uint64) ([]byte, error) {
	need := SlotBytes(meta, min(batch, max(count, 1)))
	switch {
	case slots < 1 || slots > MaxSlots:
		return nil, status.Errorf(codes.InvalidArgument, "%d slots (want 1 to %d)", slots, MaxSlots)
	case slotBytes < uint64(need) || slotBytes%8 != 0 || slotBytes > 1<<40:
		return nil, status.Errorf(codes.InvalidArgument, "slots of %d bytes for batches of %d bytes", slotBytes, need)
	case regionBytes < uint64(slots)*slotBytes || regionBytes > math.MaxInt:
		return nil, status.Errorf(codes.InvalidArgument, "a region of %d bytes for %d slots of %d", regionBytes, slots, slotBytes)
	}
	mem, err := r.Map(int(regionBytes))
	if err != nil {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	return mem, nil
}

// The messages of a SharedBatches call, of either version.
type (
	batchesRequest interface {
		GetStart() uint64
		GetCount() uint64
		GetBatchSize() uint32
	}
	sharedStart[B batchesRequest] interface {
		proto.Message
		GetBatches() B
		GetSlots() uint32
		GetSlotBytes() uint64
		GetRegionBytes() uint64
	}
	slotRelease interface {
		proto.Message
		GetSlot() uint32
	}
	sharedRequest[B batchesRequest, S sharedStart[B], R slotRelease] interface {
		GetStart() S
		GetRelease() R
	}
)

// sharedCall is a SharedBatches call begun on the plugin's side: the
// batches planned, the region mapped, its slots handed out by pool.
type sharedCall struct {
	meta                dataset.Meta
	first, count, batch int
	slotBytes           uint64
	mem                 []byte
	pool                *slotPool
}

// beginShared begins a SharedBatches call: recv reads the host's first
// message, a SharedStart checked against the opened data set and the
// region, then each slot release.
func beginShared[B batchesRequest, S sharedStart[B], R slotRelease, M sharedRequest[B, S, R]](s *base, region *Region, ctx context.Context, recv func() (M, error)) (*sharedCall, error) {
	if region == nil {
		return nil, status.Error(codes.FailedPrecondition, "no shared memory region was handed to this plugin")
	}
	msg, err := recv()
	if err != nil {
		return nil, err
	}
	start := msg.GetStart()
	if !start.ProtoReflect().IsValid() {
		return nil, status.Error(codes.InvalidArgument, "SharedBatches must begin with a SharedStart")
	}
	b := start.GetBatches()
	c := &sharedCall{slotBytes: start.GetSlotBytes()}
	if c.meta, c.first, c.count, c.batch, err = s.plan(b.GetStart(), b.GetCount(), b.GetBatchSize()); err != nil {
		return nil, err
	}
	slots := int(start.GetSlots())
	if c.mem, err = region.mapSlots(c.meta, c.count, c.batch, slots, c.slotBytes, start.GetRegionBytes()); err != nil {
		return nil, err
	}
	c.pool = newSlotPool(ctx, slots, func() (uint32, error) {
		msg, err := recv()
		if err == nil && !msg.GetRelease().ProtoReflect().IsValid() {
			err = status.Errorf(codes.InvalidArgument, "expected a slot release, got %v", msg)
		}
		return msg.GetRelease().GetSlot(), err
	})
	return c, nil
}

// slotPool hands out the slots of one SharedBatches call on the plugin's
// side. The host releases slots on the same stream, in any order: a
// goroutine reads them (recv) while the call fills the free ones.
type slotPool struct {
	ctx      context.Context
	released chan uint32
	recvErr  chan error
	free     []uint32
	held     []bool
}

func newSlotPool(ctx context.Context, slots int, recv func() (uint32, error)) *slotPool {
	p := &slotPool{ctx: ctx, released: make(chan uint32), recvErr: make(chan error, 1), held: make([]bool, slots)}
	for i := range slots {
		p.free = append(p.free, uint32(i))
	}
	go func() {
		for {
			slot, err := recv()
			if err != nil {
				p.recvErr <- err
				return
			}
			select {
			case p.released <- slot:
			case <-ctx.Done():
				return
			}
		}
	}()
	return p
}

// take returns a free slot, waiting for the host to release one.
func (p *slotPool) take() (uint32, error) {
	for len(p.free) == 0 {
		select {
		case slot := <-p.released:
			if int(slot) >= len(p.held) || !p.held[slot] {
				return 0, status.Errorf(codes.InvalidArgument, "slot %d released, which the host does not hold", slot)
			}
			p.held[slot] = false
			p.free = append(p.free, slot)
		case err := <-p.recvErr:
			if errors.Is(err, io.EOF) {
				return 0, status.Error(codes.Canceled, "the host stopped reading")
			}
			return 0, err
		case <-p.ctx.Done():
			return 0, status.FromContextError(p.ctx.Err()).Err()
		}
	}
	slot := p.free[0]
	p.free = p.free[1:]
	p.held[slot] = true
	return slot, nil
}

// checkSlot checks an announcement of the batch [first, +samples) in slot
// at offset against the batch [want, +n) expected and the region's slots.
func checkSlot(want, n int, first uint64, samples, slot uint32, offset uint64, slots, slotBytes int) error {
	switch {
	case first != uint64(want) || samples != uint32(n):
		return fmt.Errorf("batch [%d, +%d) announced; expected [%d, +%d)", first, samples, want, n)
	case int(slot) >= slots || offset != uint64(slot)*uint64(slotBytes):
		return fmt.Errorf("batch at sample %d in slot %d at offset %d; the region has %d slots of %d bytes", want, slot, offset, slots, slotBytes)
	}
	return nil
}

// release hands a slot back through send, unless it held the call's last
// batch: the plugin then writes nothing more, and the call may be over.
func release(last bool, send func() error) error {
	if last {
		return nil
	}
	// io.EOF: the plugin has sent its last batch and ended the call (or
	// failed, which the next Recv reports).
	if err := send(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
