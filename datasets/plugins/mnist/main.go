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

var info = dataset.Info{
	Name: "mnist", Version: "1.0.0",
	Description: "MNIST handwritten digits from the four IDX files (raw or .gz): [1,28,28] samples, labels 0..9",
	Options: []dataset.Option{
		{Name: "dir", Description: "directory holding the MNIST IDX files, e.g. data/mnist (required; `make data` places them there)"},
		{Name: "split", Default: mnist.Train, Description: "train (60000 images) or t10k (10000)"},
		{Name: "divisor", Default: "255", Description: "a sample value is pixel/divisor: 255 gives [0,1] as TensorRT's MNISTBatchStream, 1 raw 0..255"},
	},
}

// open reads the split the options name.
func open(options map[string]string) (sdk.Source, bool, int, error) {
	var dir, split string
	var divisor float32
	err := dataset.ParseOptions("mnist", info.Options, options, func(name, value string) error {
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
		return nil, false, 0, err
	}
	if dir == "" {
		return nil, false, 0, errors.New("mnist: option dir is required: the directory holding the MNIST IDX files (e.g. dir=data/mnist, where `make data` places them)")
	}
	src, err := mnist.Open(dir, split)
	if err != nil {
		return nil, false, 0, fmt.Errorf("mnist: option dir=%s: %v", dir, err)
	}
	src.Divisor = divisor
	return src, true, 10, nil
}

// newStream returns the plugin's data set.
func newStream() dataset.BatchStream { return sdk.FromSource(info, open) }

func main() { sdk.Serve(newStream()) }
