package calibrate

import (
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/entropy2"
	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/calib/minmax"
	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/datasets/npy"
)

// wholeRunner hides the engine's RunObservedChunks: statistics come from
// whole tensors of the unchained observed plan, as before chunked
// observation.
type wholeRunner struct{ e *engine.Engine }

func (w wholeRunner) RunObserved(in map[string]*tensor.Tensor, obs func(string, *tensor.Tensor)) (map[string]*tensor.Tensor, error) {
	return w.e.RunObserved(in, obs)
}

// calibrateOnce collects the statistics c asks for and writes its table,
// returning both.
func calibrateOnce(t *testing.T, r ObservedRunner, src session.Source, input string, b Batches, c calib.Calibrator) ([]calib.TensorStats, []byte) {
	t.Helper()
	stats, err := Collect(r, src, input, b, c.Info(), nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "table")
	j := &Job{
		Runner: r, Input: input, Source: src, Batches: b,
		Calibrator: InProcess{c}, Info: c.Info(), CachePath: path,
		Version: calibtable.TRTVersion{Major: 8, Minor: 6, Patch: 1},
		Out:     io.Discard, Log: hclog.NewNullLogger(),
	}
	if _, err := j.Run(); err != nil {
		t.Fatal(err)
	}
	table, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return stats, table
}

// sameStats reports the first difference between two statistics lists,
// comparing floats by their bits (so -0 and +0 differ).
func sameStats(a, b []calib.TensorStats) (string, bool) {
	if len(a) != len(b) {
		return "number of tensors", false
	}
	for i := range a {
		x, y := a[i], b[i]
		switch {
		case x.Name != y.Name:
			return "name of tensor " + x.Name, false
		case x.Count != y.Count || math.Float32bits(x.Min) != math.Float32bits(y.Min) || math.Float32bits(x.Max) != math.Float32bits(y.Max):
			return x.Name + ": count, min or max", false
		case (x.Histogram == nil) != (y.Histogram == nil):
			return x.Name + ": histogram", false
		case x.Histogram != nil && (x.Histogram.Range != y.Histogram.Range || x.Histogram.Signed != y.Histogram.Signed || !slices.Equal(x.Histogram.Counts, y.Histogram.Counts)):
			return x.Name + ": histogram", false
		}
	}
	return "", true
}

// checkChunked calibrates with each calibrator three ways: whole tensors
// with the Go fill loop (the reference), whole tensors with the vector
// kernels, and chunked observation (engine.RunObservedChunks) with the
// vector kernels; statistics and table bytes must be identical.
func checkChunked(t *testing.T, eng *engine.Engine, src session.Source, input string, b Batches) {
	for _, c := range []calib.Calibrator{entropy2.NewCalibrator(), minmax.NewCalibrator()} {
		t.Run(c.Info().Name, func(t *testing.T) {
			prev, _ := histogram.SetImpl(histogram.ImplGo)
			wantStats, wantTable := calibrateOnce(t, wholeRunner{eng}, src, input, b, c)
			histogram.SetImpl(prev)
			for _, r := range []struct {
				name   string
				runner ObservedRunner
			}{{"whole tensors", wholeRunner{eng}}, {"chunked", eng}} {
				stats, table := calibrateOnce(t, r.runner, src, input, b, c)
				if what, ok := sameStats(stats, wantStats); !ok {
					t.Errorf("%s, %s: statistics differ from the Go loop's on whole tensors (%s)", r.name, histogram.CurrentImpl(), what)
				}
				if !bytes.Equal(table, wantTable) {
					t.Errorf("%s, %s: table differs from the Go loop's on whole tensors:\n%s\nwant\n%s", r.name, histogram.CurrentImpl(), table, wantTable)
				}
			}
		})
	}
}

func TestChunkedObservationLeNet(t *testing.T) {
	eng, src := lenet(t)
	checkChunked(t, eng, src, "data", Batches{50, 4, 0})
}

func TestChunkedObservationResNet20(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "cifar10", "cifar10_calib_x.npy")
	a, err := npy.ReadFile(path)
	if err != nil {
		t.Skipf("CIFAR-10 calibration images not found (they live in ../shared): %v", err)
	}
	g, err := graph.Load("../../testdata/models/resnet20.onnx")
	if err != nil {
		t.Skipf("testdata/models/resnet20.onnx: %v", err)
	}
	src := &cifarCalib{x: a.Data, n: a.Shape[0]}
	checkChunked(t, engine.New(g, engine.Options{}), src, "input", Batches{50, 3, 100})
}
