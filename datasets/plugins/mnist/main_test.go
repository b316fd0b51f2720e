package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/datasets/sdk/batchstreamtest"
)

const dataDir = "../../../data/mnist"

func TestConformance(t *testing.T) {
	if _, err := os.Stat(filepath.Join(dataDir, "train-images-idx3-ubyte")); err != nil {
		t.Skipf("MNIST not placed in %s: run `make data` (%v)", dataDir, err)
	}
	for _, split := range []string{"train", "t10k"} {
		t.Run(split, func(t *testing.T) {
			batchstreamtest.Run(t, newStream(), map[string]string{"dir": dataDir, "split": split})
		})
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		options map[string]string
		want    string
	}{
		{nil, "option dir is required"},
		{map[string]string{"dir": t.TempDir()}, "train-images-idx3-ubyte"},
		{map[string]string{"dir": dataDir, "split": "validation"}, "split=validation"},
		{map[string]string{"dir": dataDir, "divisor": "0"}, "divisor=0"},
		{map[string]string{"dir": dataDir, "colour": "1"}, `unknown option "colour" (options: dir, split, divisor)`},
	} {
		if _, err := (newStream()).Open(tc.options); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%v): %v; want an error containing %q", tc.options, err, tc.want)
		}
	}
}
