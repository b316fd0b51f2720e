package batchfile_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/int8cal/int8cal/datasets/batchfile"
)

func Example() {
	dir, err := os.MkdirTemp("", "batchfile-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	prefix := filepath.Join(dir, "batches", "batch") // sampleINT8's layout

	// 100 samples of 1x2x2 in files of 50: batches/batch0, batches/batch1.
	images := make([]float32, 100*4)
	labels := make([]int, 100)
	for i := range labels {
		labels[i] = i % 10
		for j := range 4 {
			images[4*i+j] = float32(i)
		}
	}
	if err := batchfile.Write(prefix, 50, images, labels, [3]int{1, 2, 2}); err != nil {
		log.Fatal(err)
	}

	s, err := batchfile.Open(prefix)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	fmt.Println(s.Files(), s.FileLen(), s.Len(), s.SampleShape())

	// Batches of 32 cross the file boundary at sample 50.
	batch := make([]float32, 32*4)
	batchLabels := make([]int, 32)
	for first := 0; first+32 <= s.Len(); first += 32 {
		if err := s.Read(first, 32, batch, batchLabels); err != nil {
			log.Fatal(err)
		}
		fmt.Println(first, batch[0], batch[len(batch)-1], batchLabels[:3])
	}
	// Output:
	// 2 50 100 [1 2 2]
	// 0 0 31 [0 1 2]
	// 32 32 63 [2 3 4]
	// 64 64 95 [4 5 6]
}
