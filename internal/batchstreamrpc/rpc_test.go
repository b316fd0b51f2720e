package batchstreamrpc

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/int8cal/int8cal/datasets/dataset"
	pb "github.com/int8cal/int8cal/internal/proto/batchstreamv1"
)

// liar is a plugin that breaks the protocol in the way its mode says; the
// client must catch each.
type liar struct {
	pb.UnimplementedBatchStreamServer
	mode string
}

var liarMeta = dataset.Meta{Samples: 10, SampleShape: []int{2}, Labels: true, Classes: 3}

func (l *liar) Open(context.Context, *pb.OpenRequest) (*pb.OpenResponse, error) {
	r := &pb.OpenResponse{Samples: 10, SampleShape: []uint64{2}, ElementType: pb.ElementType_ELEMENT_TYPE_FLOAT32, Labels: true, Classes: 3, SharedMemory: true}
	switch l.mode {
	case "badoption":
		return nil, status.Error(codes.InvalidArgument, "liar: unknown option \"x\"")
	case "uint8":
		r.ElementType = 2
	case "zerodim":
		r.SampleShape = []uint64{2, 0}
	}
	return r, nil
}

func (l *liar) Batches(req *pb.BatchesRequest, s pb.BatchStream_BatchesServer) error {
	c := &pb.BatchChunk{First: req.Start, Samples: req.BatchSize, Images: make([]byte, 8*req.BatchSize), Labels: make([]int32, req.BatchSize)}
	switch l.mode {
	case "offset":
		c.Offset = 1
	case "nolabels":
		c.Labels = nil
	case "short":
		c.Images = c.Images[:4]
	case "odd":
		c.Images = c.Images[:5]
	case "first":
		c.First++
	}
	return s.Send(c)
}

func (l *liar) SharedBatches(s pb.BatchStream_SharedBatchesServer) error {
	req, err := s.Recv()
	if err != nil {
		return err
	}
	st := req.GetStart()
	b := &pb.SharedBatch{First: st.Batches.Start, Samples: st.Batches.BatchSize, ImageBytes: 8 * uint64(st.Batches.BatchSize), LabelBytes: 4 * uint64(st.Batches.BatchSize)}
	switch l.mode {
	case "slot":
		b.Slot = st.Slots
		b.Offset = uint64(st.Slots) * st.SlotBytes
	case "offset":
		b.Offset = 8
	case "size":
		b.ImageBytes = st.SlotBytes
	}
	return s.Send(b)
}

type liarPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	mode string
}

func (p *liarPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterBatchStreamServer(s, &liar{mode: p.mode})
	return nil
}

func (p *liarPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, nil
}

func dialLiar(t *testing.T, mode string, region *Region) *Client {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginName: &liarPlugin{mode: mode}})
	t.Cleanup(func() { client.Close() })
	return NewClient(client.Conn, region)
}

func TestClientChecksOpen(t *testing.T) {
	for mode, want := range map[string]string{
		"badoption": `liar: unknown option "x"`,
		"uint8":     "float32 only",
		"zerodim":   "unusable data set",
	} {
		_, err := dialLiar(t, mode, nil).Open(context.Background(), nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want an error containing %q", mode, err, want)
		}
		if mode == "badoption" && err.Error() != want {
			t.Errorf("an option error should come back as the plugin's message alone, got %q", err)
		}
	}
	o, err := dialLiar(t, "", nil).Open(context.Background(), nil)
	if err != nil || o.Shared {
		t.Errorf("without a region of its own the host must not use shared memory: %+v %v", o, err)
	}
}

func TestClientChecksBatches(t *testing.T) {
	for mode, want := range map[string]string{
		"offset":   "at value 1; expected",
		"nolabels": "0 labels for the batch of 4",
		"short":    "ended inside the batch",
		"odd":      "chunk of 5 bytes",
		"first":    "chunk for samples [3, +4)",
	} {
		ctx, cancel := context.WithCancel(context.Background())
		r, err := dialLiar(t, mode, nil).Batches(ctx, liarMeta, 2, 8, 4)
		if err == nil {
			_, _, err = r.Next(make([]float32, 8), make([]int32, 4))
		}
		cancel()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want an error containing %q", mode, err, want)
		}
	}
	if _, err := dialLiar(t, "", nil).Batches(context.Background(), liarMeta, 8, 3, 1); err == nil {
		t.Error("a range past the end was asked for")
	}
}

func TestClientChecksSharedBatches(t *testing.T) {
	for mode, want := range map[string]string{
		"slot":   "in slot 2",
		"offset": "at offset 8",
		"size":   "bytes; expected 32+16",
	} {
		region, err := NewRegion()
		if err != nil {
			t.Skip(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		r, err := dialLiar(t, mode, region).SharedBatches(ctx, liarMeta, 2, 8, 4, 2)
		if err == nil {
			_, _, err = r.Next(make([]float32, 8), make([]int32, 4))
		}
		cancel()
		region.Close()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want an error containing %q", mode, err, want)
		}
	}
}
