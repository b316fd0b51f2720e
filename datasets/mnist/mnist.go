package mnist

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/int8cal/int8cal/datasets/idx"
)

// Source is one split of MNIST held in memory (47 MB for the training
// images as bytes).
type Source struct {
	images *idx.Images
	labels []uint8
	// Divisor scales pixels: a sample value is float32(pixel)/Divisor.
	// Open sets 255, TensorRT's MNISTBatchStream convention; 1 keeps the
	// raw 0..255 values some models (the ONNX zoo MNIST model) expect.
	Divisor float32
}

// Classes is the number of MNIST classes, the digits 0 to 9.
const Classes = 10

// Split names accepted by Open.
const (
	Train = "train"
	Test  = "t10k"
)

// Open reads <split>-images-idx3-ubyte and <split>-labels-idx1-ubyte from
// dir, raw or gzipped (a ".gz" file is used when the raw one is absent).
func Open(dir, split string) (*Source, error) {
	if split != Train && split != Test {
		return nil, fmt.Errorf("mnist: split %q unknown (want %q or %q)", split, Train, Test)
	}
	imgPath, err := find(dir, split+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	lblPath, err := find(dir, split+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	images, err := idx.ReadImages(imgPath)
	if err != nil {
		return nil, err
	}
	labels, err := idx.ReadLabels(lblPath)
	if err != nil {
		return nil, err
	}
	if len(labels) != images.Count {
		return nil, fmt.Errorf("%s holds %d labels but %s holds %d images", lblPath, len(labels), imgPath, images.Count)
	}
	for i, l := range labels {
		if l >= Classes {
			return nil, fmt.Errorf("%s: label %d of sample %d is not an MNIST class (0 to %d); the file is damaged or not MNIST's", lblPath, l, i, Classes-1)
		}
	}
	return &Source{images: images, labels: labels, Divisor: 255}, nil
}

func find(dir, name string) (string, error) {
	for _, candidate := range []string{name, name + ".gz"} {
		p := filepath.Join(dir, candidate)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%s: MNIST file not found (nor %s.gz); run `make data` to place the MNIST files there, or pass --datadir", filepath.Join(dir, name), name)
}

// Len returns the number of samples.
func (s *Source) Len() int { return s.images.Count }

// SampleShape returns [1, rows, cols].
func (s *Source) SampleShape() []int { return []int{1, s.images.Rows, s.images.Cols} }

// Read writes samples [first, first+n) divided by Divisor into images (NCHW)
// and their labels into labels.
func (s *Source) Read(first, n int, images []float32, labels []int) error {
	if first < 0 || n < 0 || first+n > s.Len() {
		return fmt.Errorf("mnist: samples [%d,%d) requested, the split has %d", first, first+n, s.Len())
	}
	if s.Divisor == 255 {
		s.images.Float32(images, first, n)
	} else {
		size := s.images.Rows * s.images.Cols
		for i := 0; i < n; i++ {
			for j, p := range s.images.Image(first + i) {
				images[i*size+j] = float32(p) / s.Divisor
			}
		}
	}
	for i := 0; i < n; i++ {
		labels[i] = int(s.labels[first+i])
	}
	return nil
}
