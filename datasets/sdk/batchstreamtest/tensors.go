package batchstreamtest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"strconv"
	"testing"

	"github.com/hashicorp/go-plugin"

	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/internal/batchstreamrpc"
)

// RunTensors is Run for a dataset.TensorStream (named inputs of any
// element type, int8cal.batchstream.v2): the same checks, over the v2
// adapters (streamed), with each input's values compared as bytes, float
// values required finite and bools 0 or 1.
func RunTensors(t *testing.T, d dataset.TensorStream, options map[string]string) {
	t.Helper()
	info := d.Info()
	meta, ok := infoAndOpen(t, info, d.Open, options)
	if !ok {
		return
	}
	if len(meta.Inputs) == 0 {
		t.Fatalf("Open described no Inputs: %+v", meta)
	}
	spans := checkedSpans(meta.Samples)
	var want []uint64
	ok = t.Run("ReadOneByOne", func(t *testing.T) {
		want = tensorHashes(t, meta, spans, 1, d.ReadTensors)
	})
	if !ok {
		return
	}
	for _, batch := range []int{7, 64, 1000} {
		t.Run("ReadBatches/"+strconv.Itoa(batch), func(t *testing.T) {
			compare(t, tensorHashes(t, meta, spans, batch, d.ReadTensors), want, spans)
		})
	}
	t.Run("OutOfRange", func(t *testing.T) {
		for _, r := range [][2]int{{-1, 1}, {meta.Samples, 1}, {meta.Samples - 1, 2}} {
			bufs, labels := tensorBuffers(meta, r[1])
			if err := d.ReadTensors(r[0], r[1], bufs, labels); err == nil {
				t.Errorf("ReadTensors(%d, %d) of %d samples: no error", r[0], r[1], meta.Samples)
			}
		}
	})
	for _, shared := range []bool{false, true} {
		name := "OverGRPC/Streamed"
		if shared {
			name = "OverGRPC/SharedMemory"
		}
		t.Run(name, func(t *testing.T) { checkTensorsGRPC(t, d, info, meta, options, spans, want, shared) })
	}
	t.Run("Close", func(t *testing.T) {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

// tensorBuffers returns buffers for n samples of every input of m, and
// labels when m has them.
func tensorBuffers(m dataset.Meta, n int) ([]dataset.Tensor, []int32) {
	bufs := make([]dataset.Tensor, len(m.Inputs))
	for i, in := range m.Inputs {
		bufs[i] = dataset.NewTensor(in.Type, n*in.Elements())
	}
	var labels []int32
	if m.Labels {
		labels = make([]int32, n)
	}
	return bufs, labels
}

// tensorHashes reads the spans in batches of batch through read and
// returns one hash per sample, of its inputs' bytes and its label. It
// checks that read writes nothing past the batch, that float values are
// finite, bools 0 or 1, and labels in range.
func tensorHashes(t *testing.T, m dataset.Meta, spans []span, batch int, read func(first, n int, inputs []dataset.Tensor, labels []int32) error) []uint64 {
	t.Helper()
	const sentinel = 0xa5
	full, labels := tensorBuffers(m, batch+1)
	if labels == nil {
		labels = make([]int32, batch+1)
	}
	bufs := make([]dataset.Tensor, len(full))
	var out []uint64
	for _, s := range spans {
		for first := s.first; first < s.end; first += batch {
			n := min(batch, s.end-first)
			for i, in := range m.Inputs {
				b := full[i].Data
				for k := range b {
					b[k] = sentinel
				}
				bufs[i] = dataset.Tensor{Type: in.Type, Data: b[:n*in.Elements()*in.Type.Size()]}
			}
			for i := range labels {
				labels[i] = -12345
			}
			var lbl []int32
			if m.Labels {
				lbl = labels[:n]
			}
			if err := read(first, n, bufs, lbl); err != nil {
				t.Fatalf("ReadTensors(%d, %d): %v", first, n, err)
			}
			for i, in := range m.Inputs {
				for k, v := range full[i].Data[len(bufs[i].Data):] {
					if v != sentinel {
						t.Fatalf("ReadTensors(%d, %d) wrote past its values of input %q (at byte %d)", first, n, in.Name, len(bufs[i].Data)+k)
					}
				}
				if err := checkValues(bufs[i]); err != nil {
					t.Fatalf("ReadTensors(%d, %d): input %q: %v", first, n, in.Name, err)
				}
			}
			for i := n; i < len(labels); i++ {
				if labels[i] != -12345 {
					t.Fatalf("ReadTensors(%d, %d) wrote past its %d labels", first, n, n)
				}
			}
			for j := range n {
				h := fnv.New64a()
				for i, in := range m.Inputs {
					per := in.Elements() * in.Type.Size()
					h.Write(bufs[i].Data[j*per : (j+1)*per])
				}
				if m.Labels {
					l := labels[j]
					if l < 0 || (m.Classes > 0 && int(l) >= m.Classes) {
						t.Fatalf("sample %d: label %d outside [0, %d)", first+j, l, m.Classes)
					}
					h.Write([]byte{byte(l), byte(l >> 8), byte(l >> 16), byte(l >> 24)})
				}
				out = append(out, h.Sum64())
			}
		}
	}
	return out
}

// checkValues refuses non-finite floats and bools other than 0 and 1.
func checkValues(t dataset.Tensor) error {
	switch t.Type {
	case dataset.Float32:
		for k, v := range t.Float32s() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("value %d is %v", k, v)
			}
		}
	case dataset.Float16:
		for k, v := range t.Float16s() {
			if v&0x7c00 == 0x7c00 {
				return fmt.Errorf("value %d is a float16 NaN or infinity (bits %#04x)", k, v)
			}
		}
	case dataset.Bool:
		for k, v := range t.Data {
			if v > 1 {
				return errors.New("bool value " + strconv.Itoa(k) + " is " + strconv.Itoa(int(v)))
			}
		}
	}
	return nil
}

// checkTensorsGRPC reads d through the v2 adapters, streamed or through
// shared memory, as Run's checkGRPC does.
func checkTensorsGRPC(t *testing.T, d dataset.TensorStream, info dataset.Info, meta dataset.Meta, options map[string]string, spans []span, want []uint64, shared bool) {
	host, plug := regions(t, shared)
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		batchstreamrpc.PluginName: &batchstreamrpc.TensorPlugin{Impl: d, Region: plug},
	})
	t.Cleanup(func() { client.Close() })
	c := batchstreamrpc.NewTensorClient(client.Conn, host)
	ctx := context.Background()
	checkOpenGRPC(t, c.Info, c.Open, info, meta, options, shared)
	start := func(ctx context.Context, m dataset.Meta, first, count, batch int) (*batchstreamrpc.TensorReader, error) {
		if shared {
			return c.SharedBatches(ctx, m, first, count, batch, 0)
		}
		return c.Batches(ctx, m, first, count, batch)
	}
	for _, batch := range []int{256, 7} {
		var got []uint64
		for _, s := range spans {
			ctx, cancel := context.WithCancel(ctx)
			r, err := start(ctx, meta, s.first, s.end-s.first, batch)
			if err != nil {
				cancel()
				t.Fatalf("batches [%d, %d) of %d: %v", s.first, s.end, batch, err)
			}
			got = append(got, tensorHashes(t, meta, []span{s}, batch, func(first, n int, inputs []dataset.Tensor, labels []int32) error {
				f, m, err := r.Next(inputs, labels)
				if err == nil && (f != first || m != n) {
					return fmt.Errorf("batch [%d, +%d) returned; expected [%d, +%d)", f, m, first, n)
				}
				return err
			})...)
			bufs, labels := tensorBuffers(meta, batch)
			if _, _, err := r.Next(bufs, labels); err != io.EOF {
				t.Errorf("after the last batch: %v, want io.EOF", err)
			}
			cancel()
		}
		compare(t, got, want, spans)
	}
	// Out of range: refused by the plugin, not only by the client.
	r, err := start(ctx, dataset.Meta{Samples: meta.Samples + 1, Inputs: meta.Inputs, Labels: meta.Labels}, meta.Samples, 1, 1)
	if err == nil {
		bufs, labels := tensorBuffers(meta, 1)
		_, _, err = r.Next(bufs, labels)
	}
	if !fromPlugin(err) {
		t.Errorf("a sample past the end: %v; want the plugin to refuse it", err)
	}
	if err := c.Close(ctx); err != nil {
		t.Errorf("Close over gRPC: %v", err)
	}
}
