package entropy2_test

import (
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/int8cal/int8cal/calib/entropy2"
	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/datasets/idx"
)

// Golden values: TensorRT calibration-cache entries (the float32 bits of
// amax/127), calibration-anchors.md section 1.2.
const (
	goldenData   = "3c008912" // TRT 7 sampleINT8, MNIST LeNet input "data"
	goldenProb   = "3c010a14" // TRT 5.1 and 7 sampleINT8, softmax output "prob"
	goldenData51 = "3c000889" // TRT 5.1 "data", Caffe scaling 1/256
)

const (
	mnistImages = "../../data/mnist/train-images-idx3-ubyte"
	lenetModel  = "../../data/mnist/lenet.onnx"
	calBatch    = 50 // sampleINT8: 10 calibration batches of 50 images
	calImages   = 500
)

func cacheHex(amax float32) string { return fmt.Sprintf("%08x", math.Float32bits(amax/127)) }

func loadMNIST(t testing.TB) *idx.Images {
	t.Helper()
	if _, err := os.Stat(mnistImages); err != nil {
		t.Skipf("MNIST training images absent (run `make data`): %v", err)
	}
	im, err := idx.ReadImages(mnistImages)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// batches calls f with the float32 pixels/255 of images [first,
// first+calImages) in batches of calBatch, as sampleINT8's MNISTBatchStream
// feeds them.
func batches(im *idx.Images, first int, f func([]float32)) {
	x := make([]float32, calBatch*im.Rows*im.Cols)
	for b := 0; b < calImages/calBatch; b++ {
		im.Float32(x, first+b*calBatch, calBatch)
		f(x)
	}
}

func amax(t *testing.T, h *histogram.Histogram) (float32, entropy2.Diagnostics) {
	t.Helper()
	a, d, err := entropy2.Amax(h, entropy2.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return a, d
}

// The calibration set is the first 500 training images. sampleINT8's
// MNISTBatchStream skips its first batch (calibration-anchors.md 3.2), so
// images 50..549 are checked too: both give the published value.
func TestGoldenMNISTData(t *testing.T) {
	im := loadMNIST(t)
	for _, first := range []int{0, calBatch} {
		h := histogram.New(histogram.DefaultBins)
		batches(im, first, h.Add)
		a, d := amax(t, h)
		t.Logf("images %d..%d: range %v, cut i=%d, amax %v, D=%.6f, cache %s",
			first, first+calImages-1, h.Range(), d.Best, a, d.Divergence[d.Best-d.Start], cacheHex(a))
		if got := cacheHex(a); got != goldenData || d.Best != 2040 {
			t.Errorf("images from %d: cache %s (i=%d), want %s (i=2040)", first, got, d.Best, goldenData)
		}

		// The two-pass (fixed-range) histogram agrees: max|x| is 1 here.
		f, err := histogram.NewFixed(histogram.DefaultBins, h.MaxAbs())
		if err != nil {
			t.Fatal(err)
		}
		batches(im, first, f.Add)
		if fa, _ := amax(t, f); fa != a {
			t.Errorf("fixed-range histogram: amax %v, streaming %v", fa, a)
		}
	}
}

// TensorRT 5.1's batch files scaled pixels by 1/256 (max 255/256). With the
// range fixed at the observed max (the two-pass scheme), the same cut gives
// the published TRT 5.1 value. The TRT 5.1 calibration images themselves are
// not known, so this checks consistency with the first 500 training images.
func TestGoldenMNISTDataTRT51(t *testing.T) {
	im := loadMNIST(t)
	var scaled []float32
	batches(im, 0, func(x []float32) {
		for _, v := range x {
			scaled = append(scaled, float32(math.Round(float64(v)*255))/256)
		}
	})
	var m float32
	for _, v := range scaled {
		m = max(m, v)
	}
	f, err := histogram.NewFixed(histogram.DefaultBins, m)
	if err != nil {
		t.Fatal(err)
	}
	f.Add(scaled)
	a, d := amax(t, f)
	if got := cacheHex(a); got != goldenData51 || d.Best != 2040 {
		t.Errorf("fixed range %v: cache %s (i=%d), want %s (i=2040)", m, got, d.Best, goldenData51)
	}
	// The streaming histogram's range is the power of two 1 instead, so its
	// thresholds lie on a different grid and cannot give this value.
	s := histogram.New(0)
	s.Add(scaled)
	sa, sd := amax(t, s)
	t.Logf("streaming (range %v): i=%d amax %v cache %s", s.Range(), sd.Best, sa, cacheHex(sa))
}

func TestGoldenSoftmaxProb(t *testing.T) {
	im := loadMNIST(t)
	if _, err := os.Stat(lenetModel); err != nil {
		t.Skipf("LeNet model absent: %v", err)
	}
	g, err := graph.Load(lenetModel)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(g, engine.Options{})
	h := histogram.New(histogram.DefaultBins)
	batches(im, 0, func(x []float32) {
		in := tensor.FromFloat32(x, calBatch, 1, im.Rows, im.Cols)
		out, err := eng.Run(map[string]*tensor.Tensor{"data": in})
		if err != nil {
			t.Fatal(err)
		}
		h.Add(out["prob"].F32)
	})
	a, d := amax(t, h)
	t.Logf("prob: max %v, range %v, cut i=%d, amax %v, cache %s", h.MaxAbs(), h.Range(), d.Best, a, cacheHex(a))
	if got := cacheHex(a); got != goldenProb || d.Best != 2048 {
		t.Errorf("prob: cache %s (i=%d), want %s (i=2048)", got, d.Best, goldenProb)
	}
	// Without the zero-bin rule the softmax's mass near 0 pulls the cut far
	// down: the rule is what reproduces the published value.
	if ka, kd, err := entropy2.Amax(h, entropy2.Options{KeepZeroBin: true}); err != nil || cacheHex(ka) == goldenProb {
		t.Errorf("KeepZeroBin: cache %s (i=%d, err %v), expected to differ from %s", cacheHex(ka), kd.Best, err, goldenProb)
	}
}

// An unclipped tensor of max exactly 1 gets (2048+0.5)/2048; amax exactly 1
// (MinMax on the same data) is 3c010204.
func TestCacheEncoding(t *testing.T) {
	for _, tc := range []struct {
		amax float32
		want string
	}{
		{1, "3c010204"},
		{2040.5 / 2048, goldenData},
		{2048.5 / 2048, goldenProb},
		{2040.5 / 2048 * 255 / 256, goldenData51},
	} {
		if got := cacheHex(tc.amax); got != tc.want {
			t.Errorf("amax %v: %s, want %s", tc.amax, got, tc.want)
		}
	}
}
