// Command int8cal-batchstream-batchfile serves TensorRT batch files (the
// old sampleINT8's batches/batch0, batch1, ...: an int32 N,C,H,W header, N
// samples of float32, N float32 labels) as an int8cal data set plugin;
// batches of any size are assembled across file boundaries.
//
// Options: prefix (required, e.g. batches/batch), suffix (default none).
package main

import (
	"errors"
	"fmt"

	"github.com/int8cal/int8cal/datasets/batchfile"
	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/datasets/sdk"
)

var info = dataset.Info{
	Name: "batchfile", Version: "1.0.0",
	Description: "TensorRT batch files <prefix>0<suffix>, <prefix>1<suffix>, ...",
	Options: []dataset.Option{
		{Name: "prefix", Description: "path prefix of the files, e.g. batches/batch (required)"},
		{Name: "suffix", Description: "file name suffix after the number (default none)"},
	},
}

func open(options map[string]string) (sdk.Source, bool, int, error) {
	var prefix, suffix string
	err := dataset.ParseOptions("batchfile", info.Options, options, func(name, value string) error {
		if name == "prefix" {
			prefix = value
		} else {
			suffix = value
		}
		return nil
	})
	if err != nil {
		return nil, false, 0, err
	}
	if prefix == "" {
		return nil, false, 0, errors.New("batchfile: option prefix is required, e.g. prefix=batches/batch for batches/batch0, batches/batch1, ...")
	}
	s, err := batchfile.OpenSuffix(prefix, suffix)
	if err != nil {
		return nil, false, 0, fmt.Errorf("batchfile: %v", err)
	}
	return s, true, 0, nil
}

func newStream() dataset.BatchStream { return sdk.FromSource(info, open) }

func main() { sdk.Serve(newStream()) }
