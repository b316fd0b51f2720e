package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/datasets/batchfile"
	"github.com/int8cal/int8cal/datasets/sdk/batchstreamtest"
)

func TestConformance(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "batch")
	const n, per = 150, 2 * 3 * 3
	images := make([]float32, n*per)
	labels := make([]int, n)
	for i := range images {
		images[i] = float32(i%97) / 97
	}
	for i := range labels {
		labels[i] = i % 10
	}
	// Files of 50: reads of 7, 64, ... cross file boundaries.
	if err := batchfile.Write(prefix, 50, images, labels, [3]int{2, 3, 3}); err != nil {
		t.Fatal(err)
	}
	batchstreamtest.Run(t, newStream(), map[string]string{"prefix": prefix})
	if _, err := newStream().Open(map[string]string{}); err == nil || !strings.Contains(err.Error(), "prefix is required") {
		t.Errorf("missing prefix: %v", err)
	}
}
