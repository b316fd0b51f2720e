package sdk_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/datasets/sdk/batchstreamtest"
)

// ramp is a toy data set without labels: sample i holds i, i+1, ... i+5
// as a [2,3] tensor, divided by the option scale.
type ramp struct {
	samples int
	scale   float32
}

func (*ramp) Info() dataset.Info {
	return dataset.Info{Name: "ramp", Version: "0.1.0", Options: []dataset.Option{
		{Name: "samples", Default: "300", Description: "number of samples"},
		{Name: "scale", Default: "1", Description: "divides every value"},
	}}
}

func (r *ramp) Open(options map[string]string) (dataset.Meta, error) {
	err := dataset.ParseOptions("ramp", r.Info().Options, options, func(name, value string) error {
		v, err := strconv.Atoi(value)
		if err != nil || v < 1 {
			return fmt.Errorf("want a positive integer")
		}
		if name == "samples" {
			r.samples = v
		} else {
			r.scale = float32(v)
		}
		return nil
	})
	if err != nil {
		return dataset.Meta{}, err
	}
	return dataset.Meta{Samples: r.samples, SampleShape: []int{2, 3}}, nil
}

func (r *ramp) Read(first, n int, images []float32, _ []int32) error {
	if first < 0 || n < 0 || first+n > r.samples {
		return fmt.Errorf("ramp: samples [%d, %d) requested, there are %d", first, first+n, r.samples)
	}
	for i := range n {
		for j := range 6 {
			images[i*6+j] = float32(first+i+j) / r.scale
		}
	}
	return nil
}

func (*ramp) Close() error { return nil }

// A plugin's main is one line, `sdk.Serve(&ramp{})`; here the data set is
// read directly, as the host reads it through the plugin.
func Example() {
	r := &ramp{}
	meta, _ := r.Open(map[string]string{"scale": "2"})
	images := make([]float32, 2*meta.SampleElements())
	r.Read(10, 2, images, nil)
	fmt.Println(meta.Samples, meta.SampleShape, images)
	// Output: 300 [2 3] [5 5.5 6 6.5 7 7.5 5.5 6 6.5 7 7.5 8]
}

func TestConformance(t *testing.T) { batchstreamtest.Run(t, &ramp{}, nil) }
