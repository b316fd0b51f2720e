package engine_test

import (
	"path/filepath"
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/tensor"
)

// Networks of depthwise and pointwise convolutions run their stretches
// channels-last where the CPU has the kernels (AVX-512 or AVX2), and give the
// outputs of the plans that keep the usual layout: within 1e-5 of the
// largest output (the sums run in another order), for a batch of one
// image, and for batches split into parts that run an image at a time
// or in chunks with a smaller last one. The stretches run through
// squeeze-and-excite blocks, hard-swish and SiLU activations and 5×5
// depthwise convolutions (MobileNetV3, EfficientNet). Networks without
// depthwise convolutions stay in the usual layout.
func TestChannelsLastMatchesChannelsFirst(t *testing.T) {
	if gemm.CurrentImpl() == gemm.ImplGo {
		t.Skip("the channels-last stretches need the AVX2 or AVX-512 kernels, which this build or CPU does not have")
	}
	type run = struct{ images, workers int }
	any := []run{{1, 1}, {5, 2}, {7, 3}}
	two := []run{{2, 1}, {2, 2}}
	for _, m := range []struct {
		name, path string
		shape      []int
		moved      bool
		runs       []struct{ images, workers int }
	}{
		{"MobileNetV2 (CIFAR-10)", filepath.Join(repoRoot, "testdata", "models", "cifar10_mobilenetv2.onnx"), []int{3, 32, 32}, true, any},
		// The zoo's exports take batches of 2.
		{"MobileNetV2 (zoo, torchscript)", filepath.Join(repoRoot, "testdata", "zoo", "mobilenet_v2.torchscript.onnx"), []int{3, 32, 32}, true, two},
		{"MobileNetV2 (zoo, dynamo)", filepath.Join(repoRoot, "testdata", "zoo", "mobilenet_v2.dynamo.onnx"), []int{3, 32, 32}, true, two},
		{"EfficientNet-B0 (zoo, dynamo)", filepath.Join(repoRoot, "testdata", "zoo", "efficientnet_b0.dynamo.onnx"), []int{3, 32, 32}, true, two},
		{"MobileNetV3-Large (zoo, torchscript)", filepath.Join(repoRoot, "testdata", "zoo", "mobilenet_v3_large.torchscript.onnx"), []int{3, 32, 32}, true, two},
		{"MobileNetV3-Small (zoo, dynamo)", filepath.Join(repoRoot, "testdata", "zoo", "mobilenet_v3_small.dynamo.onnx"), []int{3, 32, 32}, true, two},
		// Its channel shuffles (Reshape, Transpose) are not channels-last
		// operators: the stretches between them are too short to pay.
		{"ShuffleNetV2 (zoo, torchscript)", filepath.Join(repoRoot, "testdata", "zoo", "shufflenet_v2.torchscript.onnx"), []int{3, 32, 32}, false, two},
		{"ResNet-20", resnet20Path, []int{3, 32, 32}, false, any},
	} {
		g := load(t, m.path)
		in := g.Inputs[0].Name
		for _, c := range m.runs {
			x := randomInput(append([]int{c.images}, m.shape...)...)
			inputs := map[string]*tensor.Tensor{in: x}
			opts := engine.Options{Workers: c.workers}
			last := engine.New(g, opts)
			steps, chunk, err := engine.ChannelsLastSteps(last, inputs)
			if err != nil {
				t.Fatal(err)
			}
			if (steps > 0) != m.moved {
				t.Fatalf("%s, %d images: %d channels-last steps", m.name, c.images, steps)
			}
			t.Logf("%s, %d images on %d workers: %d channels-last steps, %d images at a time", m.name, c.images, c.workers, steps, chunk)
			got, err := last.Run(inputs)
			if err != nil {
				t.Fatal(err)
			}
			want, err := engine.New(g, engine.WithChannelsFirst(opts)).Run(inputs)
			if err != nil {
				t.Fatal(err)
			}
			for name, w := range want {
				compareToLargest(t, name, got[name], w, 1e-5)
			}
		}
	}
}
