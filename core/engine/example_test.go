package engine_test

import (
	"fmt"
	"log"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/tensor"
)

// Load the sample's LeNet, run a batch of two blank images, and watch the
// tensors go by as calibration does.
func Example() {
	g, err := graph.Load("../../data/mnist/lenet.onnx")
	if err != nil {
		log.Fatal(err)
	}
	eng := engine.New(g, engine.Options{})
	images := tensor.New(tensor.Float32, 2, 1, 28, 28)
	out, err := eng.RunObserved(map[string]*tensor.Tensor{"data": images}, func(name string, t *tensor.Tensor) {
		if name == "conv1" || name == "ip1" {
			fmt.Println(name, tensor.ShapeString(t.Shape))
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("prob", tensor.ShapeString(out["prob"].Shape))
	// Output:
	// conv1 [2,20,24,24]
	// ip1 [2,500]
	// prob [2,10]
}
