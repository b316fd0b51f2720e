package minmax_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/calib/minmax"
	"github.com/int8cal/int8cal/datasets/idx"
)

func cacheHex(amax float32) string { return fmt.Sprintf("%08x", math.Float32bits(amax/127)) }

func TestAmax(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, tc := range []struct {
		name    string
		batches [][]float32
		want    float32
		err     error
	}{
		{name: "positive max", batches: [][]float32{{0.5, 1, 0.25}}, want: 1},
		{name: "negative min dominates", batches: [][]float32{{0.5, -3}, {2}}, want: 3},
		{name: "max in a later batch", batches: [][]float32{{0.1}, {-0.2}, {7.5}}, want: 7.5},
		{name: "exact, not binned", batches: [][]float32{{1.0000001, 0.3}}, want: 1.0000001},
		{name: "all zero", batches: [][]float32{{0, float32(math.Copysign(0, -1))}}, want: 0},
		{name: "NaN ignored", batches: [][]float32{{nan, -2, nan}}, want: 2},
		{name: "subnormal", batches: [][]float32{{math.SmallestNonzeroFloat32}}, want: math.SmallestNonzeroFloat32},
		{name: "largest float32", batches: [][]float32{{-math.MaxFloat32, 1}}, want: math.MaxFloat32},
		{name: "empty", batches: nil, err: minmax.ErrEmpty},
		{name: "NaN only", batches: [][]float32{{nan}}, err: minmax.ErrEmpty},
		{name: "Inf", batches: [][]float32{{1, -inf}}, err: histogram.ErrInf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, h := range []*histogram.Histogram{histogram.New(0), histogram.NewSigned(0)} {
				for _, b := range tc.batches {
					h.Add(b)
				}
				got, err := minmax.Amax(h)
				if !errors.Is(err, tc.err) || got != tc.want {
					t.Errorf("%v: amax %v, err %v; want %v, %v", h, got, err, tc.want, tc.err)
				}
			}
		})
	}
}

// MinMax on sampleINT8's calibration input (MNIST pixels/255, first 500
// training images) is amax exactly 1: cache entry 3c010204.
func TestGoldenMNISTData(t *testing.T) {
	const path = "../../data/mnist/train-images-idx3-ubyte"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("MNIST training images absent (run `make data`): %v", err)
	}
	im, err := idx.ReadImages(path)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 500*im.Rows*im.Cols)
	im.Float32(x, 0, 500)
	h := histogram.New(0)
	h.Add(x)
	a, err := minmax.Amax(h)
	if err != nil {
		t.Fatal(err)
	}
	if got := cacheHex(a); a != 1 || got != "3c010204" {
		t.Errorf("amax %v, cache %s; want 1, 3c010204", a, got)
	}
}

func TestAmaxFromMinMax(t *testing.T) {
	for _, tc := range []struct {
		min, max, want float32
		err            bool
	}{
		{-3, 2, 3, false},
		{-0.5, 1, 1, false},
		{0, 0, 0, false},
		{1, 4, 4, false}, // all positive
		{float32(math.Inf(-1)), 1, 0, true},
		{0, float32(math.NaN()), 0, true},
	} {
		got, err := minmax.AmaxFromMinMax(tc.min, tc.max)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("AmaxFromMinMax(%v, %v) = %v, %v", tc.min, tc.max, got, err)
		}
	}
}
