// Package batchstreamtest checks that a dataset.BatchStream (Run) or a
// dataset.TensorStream (RunTensors) keeps the
// contract the int8cal host relies on, in the manner of testing/fstest.TestFS:
// call Run from the data set's own tests.
//
//	func TestConformance(t *testing.T) {
//		batchstreamtest.Run(t, myset.New(), map[string]string{"dir": "testdata"})
//	}
//
// Run checks the implementation directly and again through the real
// int8cal.batchstream.v1 gRPC adapters (in process), streamed and, on
// Linux, through shared memory, so a data set that passes behaves the same
// once served as a plugin. Over gRPC it calls the plugin only through the
// host's own client, never with hand-made protocol messages: what it
// checks is what the host sees.
package batchstreamtest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/status"

	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/internal/batchstreamrpc"
)

// MaxChecked bounds the samples Run reads in each pass: larger data sets
// are checked on their first MaxChecked-tail samples and their last tail.
const (
	MaxChecked = 1 << 16
	tail       = 1 << 10
)

// unknownOption is an option no data set declares.
const unknownOption = "no-such-option-xyz"

// Run checks d, opened with options (the ones it needs, e.g. where its
// files are; declared defaults fill in the rest). It opens d more than
// once and closes it at the end.
func Run(t *testing.T, d dataset.BatchStream, options map[string]string) {
	t.Helper()
	info := d.Info()
	meta, ok := infoAndOpen(t, info, d.Open, options)
	if !ok {
		return
	}
	if len(meta.Inputs) != 0 {
		t.Fatalf("Open described named inputs %+v: a data set of named inputs is a TensorStream (RunTensors)", meta.Inputs)
	}
	spans := checkedSpans(meta.Samples)
	var want []uint64
	ok = t.Run("ReadOneByOne", func(t *testing.T) {
		want = hashes(t, meta, spans, 1, func(first, n int, images []float32, labels []int32) error {
			return d.Read(first, n, images, labels)
		})
	})
	if !ok {
		return
	}
	for _, batch := range []int{7, 64, 1000} {
		t.Run("ReadBatches/"+strconv.Itoa(batch), func(t *testing.T) {
			got := hashes(t, meta, spans, batch, func(first, n int, images []float32, labels []int32) error {
				return d.Read(first, n, images, labels)
			})
			compare(t, got, want, spans)
		})
	}
	t.Run("OutOfRange", func(t *testing.T) {
		images := make([]float32, 2*meta.SampleElements())
		var labels []int32
		if meta.Labels {
			labels = make([]int32, 2)
		}
		for _, r := range [][2]int{{-1, 1}, {meta.Samples, 1}, {meta.Samples - 1, 2}} {
			if err := d.Read(r[0], r[1], images[:r[1]*meta.SampleElements()], labels[:min(len(labels), r[1])]); err == nil {
				t.Errorf("Read(%d, %d) of %d samples: no error", r[0], r[1], meta.Samples)
			}
		}
	})
	t.Run("OverGRPC", func(t *testing.T) { checkGRPC(t, d, info, meta, options, spans, want) })
	t.Run("Close", func(t *testing.T) {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

// infoAndOpen checks info, then that open refuses an unknown option naming
// it and opens options, describing a usable data set. It returns what
// open described, and false when it failed.
func infoAndOpen(t *testing.T, info dataset.Info, open func(map[string]string) (dataset.Meta, error), options map[string]string) (dataset.Meta, bool) {
	t.Helper()
	t.Run("Info", func(t *testing.T) { checkInfo(t, info) })
	var meta dataset.Meta
	ok := t.Run("Open", func(t *testing.T) {
		if _, err := open(map[string]string{unknownOption: "1"}); err == nil || !strings.Contains(err.Error(), unknownOption) {
			t.Errorf("Open with an unknown option: error %v; want one naming it", err)
		}
		var err error
		if meta, err = open(options); err != nil {
			t.Fatalf("Open(%v): %v", options, err)
		}
		checkMeta(t, meta)
	})
	return meta, ok
}

func checkInfo(t *testing.T, info dataset.Info) {
	if info.Name == "" || info.Version == "" {
		t.Errorf("Info needs a name and a version: %+v", info)
	}
	seen := map[string]bool{}
	for _, o := range info.Options {
		if o.Name == "" || o.Description == "" {
			t.Errorf("option %+v needs a name and a description", o)
		}
		if seen[o.Name] {
			t.Errorf("option %q listed twice", o.Name)
		}
		seen[o.Name] = true
	}
}

func checkMeta(t *testing.T, m dataset.Meta) {
	if err := m.Check(); err != nil {
		t.Fatalf("Open described an unusable data set %+v: %v", m, err)
	}
	if m.Samples < 1 {
		t.Fatalf("Open described an empty data set %+v", m)
	}
	if m.Classes != 0 && !m.Labels {
		t.Errorf("%d classes but no labels", m.Classes)
	}
}

type span struct{ first, end int }

// checkedSpans returns the samples checked: all of them, or the first and
// the last ones of a large data set.
func checkedSpans(samples int) []span {
	if samples <= MaxChecked {
		return []span{{0, samples}}
	}
	return []span{{0, MaxChecked - tail}, {samples - tail, samples}}
}

// hashes reads the spans in batches of batch through read and returns one
// hash per sample, of its values' bits and its label. It checks that read
// leaves the values past the batch alone, that values are finite and that
// labels lie in range.
func hashes(t *testing.T, m dataset.Meta, spans []span, batch int, read func(first, n int, images []float32, labels []int32) error) []uint64 {
	t.Helper()
	elems := m.SampleElements()
	images := make([]float32, (batch+1)*elems)
	var labels []int32
	if m.Labels {
		labels = make([]int32, batch+1)
	}
	var out []uint64
	for _, s := range spans {
		for first := s.first; first < s.end; first += batch {
			n := min(batch, s.end-first)
			sentinel := float32(math.Copysign(0, -1)) // -0, unlike any value a data set is likely to have
			for i := n * elems; i < len(images); i++ {
				images[i] = sentinel
			}
			for i := n; i < len(labels); i++ {
				labels[i] = -12345
			}
			var lbl []int32
			if labels != nil {
				lbl = labels[:n]
			}
			if err := read(first, n, images[:n*elems], lbl); err != nil {
				t.Fatalf("Read(%d, %d): %v", first, n, err)
			}
			for i := n * elems; i < len(images); i++ {
				if math.Float32bits(images[i]) != math.Float32bits(sentinel) {
					t.Fatalf("Read(%d, %d) wrote past its %d values (at %d)", first, n, n*elems, i)
				}
			}
			for i := n; i < len(labels); i++ {
				if labels[i] != -12345 {
					t.Fatalf("Read(%d, %d) wrote past its %d labels", first, n, n)
				}
			}
			for i := range n {
				h := fnv.New64a()
				var b [4]byte
				for j, v := range images[i*elems : (i+1)*elems] {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatalf("sample %d, value %d is %v", first+i, j, v)
					}
					u := math.Float32bits(v)
					b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
					h.Write(b[:])
				}
				if m.Labels {
					l := labels[i]
					if l < 0 || (m.Classes > 0 && int(l) >= m.Classes) {
						t.Fatalf("sample %d: label %d outside [0, %d)", first+i, l, m.Classes)
					}
					u := uint32(l)
					b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
					h.Write(b[:])
				}
				out = append(out, h.Sum64())
			}
		}
	}
	return out
}

func compare(t *testing.T, got, want []uint64, spans []span) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d samples read, %d expected", len(got), len(want))
	}
	i := 0
	for _, s := range spans {
		for sample := s.first; sample < s.end; sample++ {
			if got[i] != want[i] {
				t.Fatalf("sample %d differs from the same sample read alone", sample)
			}
			i++
		}
	}
}

func checkGRPC(t *testing.T, d dataset.BatchStream, info dataset.Info, meta dataset.Meta, options map[string]string, spans []span, want []uint64) {
	for _, shared := range []bool{false, true} {
		name := "Streamed"
		if shared {
			name = "SharedMemory"
		}
		t.Run(name, func(t *testing.T) {
			host, plug := regions(t, shared)
			c := dial(t, d, host, plug)
			ctx := context.Background()
			checkOpenGRPC(t, c.Info, c.Open, info, meta, options, shared)
			start := func(ctx context.Context, first, count, batch int) (*batchstreamrpc.Reader, error) {
				if shared {
					return c.SharedBatches(ctx, meta, first, count, batch, 0)
				}
				return c.Batches(ctx, meta, first, count, batch)
			}
			for _, batch := range []int{256, 7} {
				compare(t, readSpans(t, meta, spans, batch, start), want, spans)
			}
			// A call abandoned midway, then the next one.
			ctx2, cancel := context.WithCancel(ctx)
			r, err := start(ctx2, 0, meta.Samples, 1)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]float32, meta.SampleElements())
			if _, _, err := r.Next(buf, make([]int32, 1)); err != nil {
				t.Fatalf("first batch: %v", err)
			}
			cancel()
			if got := readSpans(t, meta, spans[:1], 64, start); got[0] != want[0] {
				t.Error("after an abandoned call, the next one read different data")
			}
			// Out of range: refused by the plugin, not only by the client.
			for _, r := range [][2]int{{meta.Samples, 1}, {meta.Samples - 1, 2}} {
				if err := unchecked(c, meta, r[0], r[1]); !fromPlugin(err) {
					t.Errorf("batches [%d, %d) of %d samples: %v; want the plugin to refuse them", r[0], r[0]+r[1], meta.Samples, err)
				}
			}
			if err := c.Close(ctx); err != nil {
				t.Errorf("Close over gRPC: %v", err)
			}
			if err := unchecked(c, meta, 0, 1); !fromPlugin(err) {
				t.Errorf("batches after Close: %v; want the plugin to refuse them", err)
			}
		})
	}
}

// checkOpenGRPC checks Info and Open over gRPC (getInfo, open) against
// the direct info and meta: an unknown option refused naming it, options
// opened as directly, shared memory offered when the host has a region.
func checkOpenGRPC(t *testing.T, getInfo func(context.Context) (dataset.Info, error), open func(context.Context, map[string]string) (batchstreamrpc.Opened, error),
	info dataset.Info, meta dataset.Meta, options map[string]string, shared bool) {
	t.Helper()
	ctx := context.Background()
	got, err := getInfo(ctx)
	if err != nil {
		t.Fatalf("Info over gRPC: %v", err)
	}
	if !reflect.DeepEqual(got, info) {
		t.Errorf("Info over gRPC %+v differs from direct %+v", got, info)
	}
	if _, err := open(ctx, map[string]string{unknownOption: "1"}); err == nil || !strings.Contains(err.Error(), unknownOption) {
		t.Errorf("Open with an unknown option over gRPC: error %v; want one naming it", err)
	}
	opened, err := open(ctx, options)
	if err != nil {
		t.Fatalf("Open over gRPC: %v", err)
	}
	if !reflect.DeepEqual(opened.Meta, meta) {
		t.Errorf("Open over gRPC %+v differs from direct %+v", opened.Meta, meta)
	}
	if opened.Shared != shared {
		t.Fatalf("shared memory offered: %v, want %v", opened.Shared, shared)
	}
}

// regions returns a shared memory region for the host and the plugin's
// copy of it when shared is set (skipping t where there is none), else
// nils.
func regions(t *testing.T, shared bool) (host, plug *batchstreamrpc.Region) {
	if !shared {
		return nil, nil
	}
	host, err := batchstreamrpc.NewRegion()
	if err != nil {
		t.Skipf("no shared memory here: %v", err)
	}
	t.Cleanup(func() { host.Close() })
	if plug, err = host.Dup(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plug.Close() })
	return host, plug
}

// readSpans reads every span in one call each, in batches of batch.
func readSpans(t *testing.T, m dataset.Meta, spans []span, batch int, start func(ctx context.Context, first, count, batch int) (*batchstreamrpc.Reader, error)) []uint64 {
	t.Helper()
	var out []uint64
	for _, s := range spans {
		ctx, cancel := context.WithCancel(context.Background())
		r, err := start(ctx, s.first, s.end-s.first, batch)
		if err != nil {
			cancel()
			t.Fatalf("batches [%d, %d) of %d: %v", s.first, s.end, batch, err)
		}
		out = append(out, hashes(t, m, []span{s}, batch, func(first, n int, images []float32, labels []int32) error {
			f, got, err := r.Next(images, labels)
			if err == nil && (f != first || got != n) {
				return fmt.Errorf("batch [%d, +%d) returned; expected [%d, +%d)", f, got, first, n)
			}
			return err
		})...)
		if _, _, err := r.Next(make([]float32, batch*m.SampleElements()), make([]int32, batch)); err != io.EOF {
			t.Errorf("after the last batch: %v, want io.EOF", err)
		}
		cancel()
	}
	return out
}

// unchecked asks for samples [first, first+count), one per batch, as a
// host that believed the data set to hold them would: the client checks a
// request only against the Meta it is given, so the plugin alone decides.
// It reads every batch and returns the first error.
func unchecked(c *batchstreamrpc.Client, meta dataset.Meta, first, count int) error {
	believed := meta
	believed.Samples = max(meta.Samples, first+count)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := c.Batches(ctx, believed, first, count, 1)
	if err != nil {
		return err
	}
	images, labels := make([]float32, meta.SampleElements()), make([]int32, 1)
	for {
		if _, _, err := r.Next(images, labels); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// fromPlugin reports whether err is a refusal the plugin sent (a gRPC
// status), rather than none or the client's own complaint about the
// stream.
func fromPlugin(err error) bool {
	_, ok := status.FromError(err)
	return err != nil && ok
}

// dial serves d over go-plugin's in-process gRPC pair, with a shared
// memory region on both sides when host and plug are set, and returns the
// host-side client.
func dial(t *testing.T, d dataset.BatchStream, host, plug *batchstreamrpc.Region) *batchstreamrpc.Client {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		batchstreamrpc.PluginName: &batchstreamrpc.Plugin{Impl: d, Region: plug},
	})
	t.Cleanup(func() { client.Close() })
	return batchstreamrpc.NewClient(client.Conn, host)
}
