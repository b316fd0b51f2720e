package onnx_test

import (
	"fmt"
	"log"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// ExampleReadFile reads the LeNet MNIST model and walks its graph.
func ExampleReadFile() {
	m, err := onnx.ReadFile("../../data/mnist/lenet.onnx")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("IR %d, opset %d\n", m.IRVersion, m.Opsets[""])
	for _, in := range m.Graph.Inputs {
		fmt.Println("input", in.Name, in.DType, in.Dims)
	}
	for _, init := range m.Graph.Initializers[:2] {
		fmt.Println("initializer", init.Name, tensor.ShapeString(init.Tensor.Shape))
	}
	for _, n := range m.Graph.Nodes {
		line := fmt.Sprintf("%-8s %-7s %v -> %v", n.OpType, n.Name, n.Inputs, n.Outputs)
		if a := n.Attr("kernel_shape"); a != nil {
			line += fmt.Sprintf(" kernel_shape=%v", a.Ints)
		}
		fmt.Println(line)
	}
	// Output:
	// IR 7, opset 13
	// input data float32 [N 1 28 28]
	// initializer m.conv1.weight [20,1,5,5]
	// initializer m.conv1.bias [20]
	// Conv     conv1   [data m.conv1.weight m.conv1.bias] -> [conv1] kernel_shape=[5 5]
	// MaxPool  pool1   [conv1] -> [pool1] kernel_shape=[2 2]
	// Conv     conv2   [pool1 m.conv2.weight m.conv2.bias] -> [conv2] kernel_shape=[5 5]
	// MaxPool  pool2   [conv2] -> [pool2] kernel_shape=[2 2]
	// Flatten  flatten [pool2] -> [flatten]
	// Gemm     ip1     [flatten m.ip1.weight m.ip1.bias] -> [ip1]
	// Relu     relu1   [ip1] -> [relu1]
	// Gemm     ip2     [relu1 m.ip2.weight m.ip2.bias] -> [ip2]
	// Softmax  prob    [ip2] -> [prob]
}
