package layererr

import (
	"path/filepath"
	"testing"

	"github.com/int8cal/int8cal/core/graph"
)

// LeNet's multiply-accumulates by hand: output elements × products each.
func TestMACsLeNet(t *testing.T) {
	g, err := graph.Load(filepath.Join("..", "..", "data", "mnist", "lenet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	macs, err := MACs(g, map[string][]int{g.Inputs[0].Name: {2, 1, 28, 28}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		"conv1": 2 * 20 * 24 * 24 * (1 * 5 * 5),
		"conv2": 2 * 50 * 8 * 8 * (20 * 5 * 5),
		"ip1":   2 * 500 * 800,
		"ip2":   2 * 10 * 500,
	}
	if len(macs) != len(want) {
		t.Errorf("got %v, want %v", macs, want)
	}
	for name, w := range want {
		if macs[name] != w {
			t.Errorf("%s: %d MACs, want %d", name, macs[name], w)
		}
	}
}

// ResNet-20 (shortcuts by padding, no convolution) counts 19 convolutions and
// the classifier: about 41 million
// MACs per CIFAR-10 image, as published for it.
func TestMACsResNet20(t *testing.T) {
	g, _, _ := resnet20(t)
	macs, err := MACs(g, map[string][]int{g.Inputs[0].Name: {1, 3, 32, 32}})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, m := range macs {
		sum += m
	}
	if len(macs) != 20 || sum < 40e6 || sum > 42e6 {
		t.Errorf("%d layers, %d MACs; want 20 (19 Conv, the Gemm) and about 41 million", len(macs), sum)
	}
}
