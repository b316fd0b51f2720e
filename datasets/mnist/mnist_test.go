package mnist

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const dataDir = "../../data/mnist"

func TestOpenAndRead(t *testing.T) {
	if _, err := os.Stat(filepath.Join(dataDir, "t10k-images-idx3-ubyte")); err != nil {
		t.Skipf("MNIST not placed in %s: run `make data` (%v)", dataDir, err)
	}
	s, err := Open(dataDir, Test)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 10000 || len(s.SampleShape()) != 3 || s.SampleShape()[1] != 28 {
		t.Fatalf("len %d shape %v", s.Len(), s.SampleShape())
	}
	img := make([]float32, 2*784)
	labels := make([]int, 2)
	if err := s.Read(0, 2, img, labels); err != nil {
		t.Fatal(err)
	}
	if labels[0] != 7 || labels[1] != 2 {
		t.Errorf("first t10k labels %v, want [7 2]", labels)
	}
	maxv := float32(0)
	for _, v := range img {
		maxv = max(maxv, v)
	}
	if maxv != 1 {
		t.Errorf("largest scaled pixel %v, want 1 (255/255)", maxv)
	}
	s.Divisor = 1
	s.Read(0, 2, img, labels)
	for _, v := range img {
		maxv = max(maxv, v)
	}
	if maxv != 255 {
		t.Errorf("raw pixels should reach 255, got %v", maxv)
	}
	if err := s.Read(9999, 2, img, labels); err == nil {
		t.Error("reading past the end should fail")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, Train); err == nil || !strings.Contains(err.Error(), "train-images-idx3-ubyte") || !strings.Contains(err.Error(), "make data") {
		t.Errorf("missing files: %v", err)
	}
	if _, err := Open(dir, "validation"); err == nil || !strings.Contains(err.Error(), "validation") {
		t.Errorf("unknown split: %v", err)
	}
}

// writeIDX writes an IDX file of unsigned bytes with the given dimensions.
func writeIDX(t *testing.T, path string, data []byte, dims ...int) {
	t.Helper()
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	if err := os.WriteFile(path, append(b, data...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Regression (issue 13, finding 7): an out-of-range label was reported at
// scoring time as "label 12 of image 3" without naming the labels file.
func TestOpenRefusesLabelsOutsideTheDigits(t *testing.T) {
	dir := t.TempDir()
	writeIDX(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), make([]byte, 3*2*2), 3, 2, 2)
	labels := filepath.Join(dir, "t10k-labels-idx1-ubyte")
	writeIDX(t, labels, []byte{9, 0, 12}, 3)
	_, err := Open(dir, Test)
	if err == nil || !strings.Contains(err.Error(), labels) || !strings.Contains(err.Error(), "label 12 of sample 2") {
		t.Errorf("error %v, want the labels file and sample 2's label 12 named", err)
	}
	writeIDX(t, labels, []byte{9, 0, 1}, 3)
	if _, err := Open(dir, Test); err != nil {
		t.Errorf("labels 0–9: %v", err)
	}
}
