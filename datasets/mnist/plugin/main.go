// Command int8cal-batchstream-mnist serves MNIST
// (github.com/int8cal/int8cal/datasets/mnist) as an int8cal data set
// plugin: [1,28,28] float32 samples, pixel/divisor, labeled 0..9.
//
// Options: dir (required; relative paths resolve against the working
// directory, which the plugin shares with int8cal), split (train or t10k)
// and divisor (255, or 1 for raw pixel values).
package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/datasets/mnist"
	"github.com/int8cal/int8cal/datasets/sdk"
)

// stream adapts *mnist.Source to dataset.BatchStream.
type stream struct {
	src    *mnist.Source
	labels []int // scratch: mnist reads labels as int
}

func (*stream) Info() dataset.Info {
	return dataset.Info{
		Name: "mnist", Version: "1.0.0",
		Description: "MNIST handwritten digits from the four IDX files (raw or .gz): [1,28,28] samples, labels 0..9",
		Options: []dataset.Option{
			{Name: "dir", Description: "directory holding the MNIST IDX files, e.g. data/mnist (required; `make data` places them there)"},
			{Name: "split", Default: mnist.Train, Description: "train (60000 images) or t10k (10000)"},
			{Name: "divisor", Default: "255", Description: "a sample value is pixel/divisor: 255 gives [0,1] as TensorRT's MNISTBatchStream, 1 raw 0..255"},
		},
	}
}

func (s *stream) Open(options map[string]string) (dataset.Meta, error) {
	s.src = nil
	var dir, split string
	var divisor float32
	err := dataset.ParseOptions("mnist", s.Info().Options, options, func(name, value string) error {
		switch name {
		case "dir":
			dir = value
		case "split":
			if value != mnist.Train && value != mnist.Test {
				return fmt.Errorf("want %s or %s", mnist.Train, mnist.Test)
			}
			split = value
		case "divisor":
			d, err := strconv.ParseFloat(value, 32)
			if err != nil || !(d > 0) || math.IsInf(d, 0) {
				return errors.New("want a positive number")
			}
			divisor = float32(d)
		}
		return nil
	})
	if err != nil {
		return dataset.Meta{}, err
	}
	if dir == "" {
		return dataset.Meta{}, errors.New("mnist: option dir is required: the directory holding the MNIST IDX files (e.g. dir=data/mnist, where `make data` places them)")
	}
	src, err := mnist.Open(dir, split)
	if err != nil {
		return dataset.Meta{}, fmt.Errorf("mnist: option dir=%s: %v", dir, err)
	}
	src.Divisor = divisor
	s.src = src
	return dataset.Meta{Samples: src.Len(), SampleShape: src.SampleShape(), Labels: true, Classes: 10}, nil
}

func (s *stream) Read(first, n int, images []float32, labels []int32) error {
	if s.src == nil {
		return errors.New("mnist: not open")
	}
	if cap(s.labels) < n {
		s.labels = make([]int, n)
	}
	if err := s.src.Read(first, n, images, s.labels[:n]); err != nil {
		return err
	}
	for i, l := range s.labels[:n] {
		labels[i] = int32(l)
	}
	return nil
}

func (s *stream) Close() error {
	s.src = nil
	return nil
}

func main() { sdk.Serve(&stream{}) }
