package engine_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/datasets/mnist"
	"github.com/int8cal/int8cal/datasets/npy"
)

// sharedCIFAR is the CIFAR-10 copy that CI keeps beside the clone.
var sharedCIFAR = filepath.Join(repoRoot, "..", "shared", "data", "cifar10")

// cifarSource serves CIFAR-10 arrays (uint8 NHWC RGB) as the normalized
// NCHW input resnet20.onnx expects.
type cifarSource struct {
	x      []byte
	y      []int64
	n      int
	mean   [3]float32
	stddev [3]float32
}

func openCIFAR(t testing.TB, split string) *cifarSource {
	t.Helper()
	xPath := filepath.Join(sharedCIFAR, "cifar10_"+split+"_x.npy")
	if _, err := os.Stat(xPath); err != nil {
		t.Skipf("CIFAR-10 arrays not found at %s (they live in ../shared beside the clone): %v", sharedCIFAR, err)
	}
	x, err := npy.ReadFile(xPath)
	if err != nil {
		t.Fatal(err)
	}
	ya, err := npy.ReadFile(filepath.Join(sharedCIFAR, "cifar10_"+split+"_y.npy"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := ya.Ints()
	if err != nil {
		t.Fatal(err)
	}
	return &cifarSource{x: x.Data, y: y, n: x.Shape[0],
		mean: [3]float32{0.485, 0.456, 0.406}, stddev: [3]float32{0.229, 0.224, 0.225}}
}

func (c *cifarSource) Len() int           { return c.n }
func (c *cifarSource) SampleShape() []int { return []int{3, 32, 32} }
func (c *cifarSource) Read(first, n int, images []float32, labels []int) error {
	const hw = 32 * 32
	for i := 0; i < n; i++ {
		src := c.x[(first+i)*hw*3:]
		dst := images[i*3*hw:]
		for p := 0; p < hw; p++ {
			for ch := 0; ch < 3; ch++ {
				dst[ch*hw+p] = (float32(src[p*3+ch])/255 - c.mean[ch]) / c.stddev[ch]
			}
		}
		labels[i] = int(c.y[first+i])
	}
	return nil
}

// mnistDir finds the MNIST files: the data directory `make` fills, else the
// gzipped originals in the Go module cache.
func mnistDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(repoRoot, "data", "mnist")
	if _, err := os.Stat(filepath.Join(dir, "t10k-images-idx3-ubyte")); err != nil {
		t.Skipf("MNIST not placed in %s: run `make data` (%v)", dir, err)
	}
	return dir
}

func score(t *testing.T, model string, src session.Source, batch int) *session.Score {
	t.Helper()
	g, err := graph.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(g, engine.Options{})
	s, err := session.Evaluate(eng, src, session.ScoreConfig{
		Batch: batch, Batches: src.Len() / batch, Input: g.Inputs[0].Name, Output: g.Outputs[0].Name,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The CIFAR-10 models on the 10,000 test arrays score in FP32 as ONNX
// Runtime 1.32 does, to the image: ResNet-20 80.82% (also PyTorch's,
// ../shared/peers/ort-resnet20.json), and the MobileNetV2 and ViT trained
// for issue 15 (testdata/models/README.md; tools/ort/quantize_accuracy.py
// gives ONNX Runtime's figures).
func TestCIFAR10Accuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000-image accuracy runs skipped in -short mode")
	}
	for _, tc := range []struct {
		model string
		want  int
	}{
		{"resnet20.onnx", 8082},
		{"cifar10_mobilenetv2.onnx", 8693},
		{"cifar10_vit.onnx", 7876},
	} {
		t.Run(tc.model, func(t *testing.T) {
			src := openCIFAR(t, "test")
			s := score(t, filepath.Join(repoRoot, "testdata", "models", tc.model), src, 100)
			correct := int(s.Top1*float64(s.Images) + 0.5)
			t.Logf("%s FP32: Top-1 %.4f (%d/%d), Top-5 %.4f, %.0f images/s", tc.model, s.Top1, correct, s.Images, s.Top5, s.ImagesPerSecond())
			if s.Images != 10000 || correct != tc.want {
				t.Errorf("%s FP32 Top-1 %d/%d, want %d/10000 as ONNX Runtime", tc.model, correct, s.Images, tc.want)
			}
		})
	}
}

// The ONNX zoo MNIST model scores 9891/10000 on t10k with raw 0..255 pixels
// and 9890 with pixel/255, in ONNX Runtime and two other executors
// (../shared/docs/data-and-models.md §3.1); the model's batch is fixed at 1.
func TestMNISTZooAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000-image accuracy run skipped in -short mode")
	}
	for _, tc := range []struct {
		divisor float32
		want    int
	}{{1, 9891}, {255, 9890}} {
		src, err := mnist.Open(mnistDir(t), mnist.Test)
		if err != nil {
			t.Fatal(err)
		}
		src.Divisor = tc.divisor
		s := score(t, filepath.Join(repoRoot, "testdata", "models", "mnist_zoo.onnx"), src, 1)
		correct := int(s.Top1*float64(s.Images) + 0.5)
		t.Logf("MNIST zoo model, pixel/%g: Top-1 %d/%d", tc.divisor, correct, s.Images)
		if correct != tc.want {
			t.Errorf("pixel/%g: Top-1 %d/10000, want %d", tc.divisor, correct, tc.want)
		}
	}
}

// LeNet: 99.02% on t10k, 99.70% on the training images from 512 on, as
// measured when the model was trained (../shared/docs/data-and-models.md).
func TestLeNetAccuracy(t *testing.T) {
	dir := mnistDir(t)
	src, err := mnist.Open(dir, mnist.Test)
	if err != nil {
		t.Fatal(err)
	}
	s := score(t, filepath.Join(dir, "lenet.onnx"), src, 100)
	t.Logf("LeNet t10k Top-1 %.4f Top-5 %.4f", s.Top1, s.Top5)
	if got := int(s.Top1*10000 + 0.5); got != 9902 {
		t.Errorf("LeNet t10k Top-1 %d/10000, want 9902", got)
	}
}
