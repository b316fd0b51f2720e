package npy_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/int8cal/int8cal/datasets/npy"
)

func Example() {
	dir, err := os.MkdirTemp("", "npy-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "logits.npy")

	// Write a golden file, as numpy.save would ...
	a := npy.NewFloat32([]int{2, 3}, []float32{0.5, -1, 2, 3, 4.25, -0})
	if err := npy.Write(path, a); err != nil {
		log.Fatal(err)
	}

	// ... and read it back (np.load(path) gives the same array).
	b, err := npy.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	v, err := b.Float32()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(b.Descr, b.Shape, v)

	// Integer arrays, such as CIFAR-10 labels, convert with Ints.
	labels := &npy.Array{Descr: "|u1", Shape: []int{4}, Data: []byte{3, 8, 8, 0}}
	ints, err := labels.Ints()
	fmt.Println(ints, err)
	// Output:
	// <f4 [2 3] [0.5 -1 2 3 4.25 0]
	// [3 8 8 0] <nil>
}
