package idx_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log"

	"github.com/int8cal/int8cal/datasets/idx"
)

func Example() {
	// A two-image 2x2 IDX images file, built in memory. Files on disk, gzipped
	// or not, are read the same way with idx.ReadImages(path).
	var file []byte
	for _, v := range []uint32{idx.ImagesMagic, 2, 2, 2} {
		file = binary.BigEndian.AppendUint32(file, v)
	}
	file = append(file, 0, 51, 102, 255, 255, 204, 153, 0)

	im, err := idx.DecodeImages(bytes.NewReader(file), "tiny-images-idx3-ubyte")
	if err != nil {
		log.Fatal(err)
	}
	batch := make([]float32, 1*1*im.Rows*im.Cols) // NCHW, N=1, C=1
	im.Float32(batch, 1, 1)                       // the second image
	fmt.Println(im.Count, im.Rows, im.Cols, batch)

	// Passing a labels file where images are expected says so.
	labels := binary.BigEndian.AppendUint32(nil, idx.LabelsMagic)
	labels = binary.BigEndian.AppendUint32(labels, 0)
	_, err = idx.DecodeImages(bytes.NewReader(labels), "t10k-labels-idx1-ubyte")
	fmt.Println(err)
	// Output:
	// 2 2 2 [1 0.8 0.6 0]
	// idx: t10k-labels-idx1-ubyte: found magic 2049 (0x00000801, an IDX labels file) where the images magic 2051 (0x00000803) was expected: the images and labels files look swapped
}
