package pluginhost

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/internal/float16"
)

// A started data set of named inputs reads like one too.
var _ session.TensorSource = (*BatchStream)(nil)

// syntheticTensors is the test data set of named inputs (protocol 2):
// sample i has ids i·10+k (int64), a mask k < i mod 5 (bool) and a weight
// i+k/2 (float16 of a float32 value), labelled i mod 10; or, in mode
// tensors-image, one unnamed float32 input of 3 values i+k.
type syntheticTensors struct {
	mode string
	meta dataset.Meta
}

func (s *syntheticTensors) Info() dataset.Info {
	return dataset.Info{Name: "test-" + s.mode, Version: "0.0.1", Options: []dataset.Option{
		{Name: "samples", Default: "1000", Description: "number of samples"},
		{Name: "values", Default: "3", Description: "values per sample of tensors-image"},
	}}
}

func (s *syntheticTensors) Open(options map[string]string) (dataset.Meta, error) {
	m := dataset.Meta{Labels: true, Classes: 10, Inputs: []dataset.Input{
		{Name: "input_ids", Type: dataset.Int64, Shape: []int{5}},
		{Name: "attention_mask", Type: dataset.Bool, Shape: []int{5}},
		{Name: "weight", Type: dataset.Float16, Shape: []int{1, 2}},
	}}
	values := 0
	err := dataset.ParseOptions(s.Info().Name, s.Info().Options, options, func(name, value string) error {
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return errors.New("want a positive integer")
		}
		if name == "values" {
			values = n
		} else {
			m.Samples = n
		}
		return nil
	})
	if s.mode == "tensors-image" {
		m.Inputs = []dataset.Input{{Type: dataset.Float32, Shape: []int{values}}}
	}
	s.meta = m
	return m, err
}

// syntheticValue is value k of sample i's input.
func syntheticValue(input string, i, k int) float64 {
	switch input {
	case "input_ids":
		return float64(i*10 + k)
	case "attention_mask":
		if k < i%5 {
			return 1
		}
		return 0
	case "weight":
		return float64(i%1000) + float64(k)/2 // exact in float16
	}
	return float64(i + k)
}

func (s *syntheticTensors) ReadTensors(first, n int, inputs []dataset.Tensor, labels []int32) error {
	if first < 0 || n < 0 || first > s.meta.Samples-n {
		return fmt.Errorf("samples [%d, %d) of %d", first, first+n, s.meta.Samples)
	}
	for k, in := range s.meta.Inputs {
		per := in.Elements()
		if in.Type == dataset.Float32 { // cheaply, for the transfer benchmark
			for i := range n {
				for j, row := 0, inputs[k].Float32s()[i*per:(i+1)*per]; j < per; j++ {
					row[j] = float32(first + i + j)
				}
			}
			continue
		}
		for j := range n * per {
			v := syntheticValue(in.Name, first+j/per, j%per)
			switch in.Type {
			case dataset.Int64:
				inputs[k].Int64s()[j] = int64(v)
			case dataset.Bool:
				inputs[k].Bools()[j] = v == 1
			case dataset.Float16:
				inputs[k].Float16s()[j] = float16.FromFloat32(float32(v))
			}
		}
	}
	for j := range labels {
		labels[j] = int32((first + j) % 10)
	}
	return nil
}

func (s *syntheticTensors) Close() error { return nil }

func TestBatchStreamNamedInputs(t *testing.T) {
	dir := linkTestStreams(t, "tensors", "tensors-image")
	for _, tc := range []struct {
		transport Transport
		shared    bool
	}{
		{TransportAuto, runtime.GOOS == "linux"},
		{TransportStream, false},
	} {
		t.Run(tc.transport.String(), func(t *testing.T) {
			b := startStream(t, dir, "test-tensors", hclog.NewNullLogger())
			if b.Protocol != 2 {
				t.Fatalf("protocol %d, want 2: the host offers v2 and the plugin serves it", b.Protocol)
			}
			b.Transport = tc.transport
			meta, err := b.Open(map[string]string{"samples": "70000"})
			if err != nil {
				t.Fatal(err)
			}
			if b.Shared != tc.shared || b.SampleShape() != nil || !reflect.DeepEqual(b.Inputs(), meta.Inputs) || len(meta.Inputs) != 3 {
				t.Fatalf("shared %v, sample shape %v, inputs %+v", b.Shared, b.SampleShape(), b.Inputs())
			}
			checkSyntheticTensors(t, b)
		})
	}
	b := startStream(t, dir, "test-tensors", hclog.NewNullLogger())
	if _, err := b.Open(nil); err != nil {
		t.Fatal(err)
	}
	err := b.Read(0, 1, make([]float32, 100), make([]int, 1))
	if err == nil || !strings.Contains(err.Error(), `named inputs ("input_ids" (int64 [5])`) || !strings.Contains(err.Error(), "ReadTensors") {
		t.Errorf("Read of named inputs: %v", err)
	}
	err = b.ReadTensors(0, 1, []dataset.Tensor{dataset.NewTensor(dataset.Int32, 5)}, make([]int, 1))
	if err == nil || !strings.Contains(err.Error(), "3 inputs") {
		t.Errorf("too few buffers: %v", err)
	}

	// A v2 data set of one float32 input reads as float32 samples too.
	img := startStream(t, dir, "test-tensors-image", hclog.NewNullLogger())
	if _, err := img.Open(nil); err != nil {
		t.Fatal(err)
	}
	if got := img.SampleShape(); !reflect.DeepEqual(got, []int{3}) {
		t.Errorf("sample shape %v", got)
	}
	images, labels := make([]float32, 6), make([]int, 2)
	if err := img.Read(998, 2, images, labels); err != nil {
		t.Fatal(err)
	}
	if images[0] != 998 || images[5] != 1001 || labels[1] != 9 {
		t.Errorf("images %v labels %v", images, labels)
	}
}

// checkSyntheticTensors reads b in order, jumping back, and in a read more
// than one call carries, and compares with the synthetic data set.
func checkSyntheticTensors(t *testing.T, b *BatchStream) {
	meta := b.Meta
	for _, r := range [][2]int{{0, 7}, {7, 7}, {3, 1}, {1, 69999}} {
		first, n := r[0], r[1]
		bufs := make([]dataset.Tensor, len(meta.Inputs))
		for i, in := range meta.Inputs {
			bufs[i] = dataset.NewTensor(in.Type, n*in.Elements())
		}
		labels := make([]int, n)
		if err := b.ReadTensors(first, n, bufs, labels); err != nil {
			t.Fatalf("ReadTensors(%d, %d): %v", first, n, err)
		}
		for j := range n {
			if labels[j] != (first+j)%10 {
				t.Fatalf("sample %d: label %d", first+j, labels[j])
			}
		}
		ids, mask, w := bufs[0].Int64s(), bufs[1].Bools(), bufs[2].Float16s()
		for j := range n * 5 {
			i, k := first+j/5, j%5
			if ids[j] != int64(syntheticValue("input_ids", i, k)) || mask[j] != (syntheticValue("attention_mask", i, k) == 1) {
				t.Fatalf("sample %d value %d: id %d mask %v", i, k, ids[j], mask[j])
			}
		}
		for j := range n * 2 {
			if want := float16.FromFloat32(float32(syntheticValue("weight", first+j/2, j%2))); w[j] != want {
				t.Fatalf("sample %d weight %d: %#x, want %#x", first+j/2, j%2, w[j], want)
			}
		}
	}
}
