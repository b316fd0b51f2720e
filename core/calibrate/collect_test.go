package calibrate

import (
	"reflect"
	"testing"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/datasets/mnist"
)

const dataDir = "../../data/mnist"

func lenet(t testing.TB) (*engine.Engine, *mnist.Source) {
	t.Helper()
	src, err := mnist.Open(dataDir, mnist.Train)
	if err != nil {
		t.Skipf("MNIST not available (run `make data`): %v", err)
	}
	g, err := graph.Load(dataDir + "/lenet.onnx")
	if err != nil {
		t.Fatal(err)
	}
	return engine.New(g, engine.Options{}), src
}

// The same 500 images give identical statistics whether they come in 10
// batches of 50, 5 of 100 or 50 of 10: histograms grow by exact
// power-of-two merges, so the table does not depend on the batching.
func TestCollectIsIndependentOfBatching(t *testing.T) {
	eng, src := lenet(t)
	need := calib.Info{Statistics: calib.AbsHistogram, Bins: 2048}
	var first []calib.TensorStats
	for _, b := range []Batches{{50, 10, 0}, {100, 5, 0}, {10, 50, 0}} {
		stats, err := Collect(eng, src, "data", b, need, nil)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = stats
			continue
		}
		if !reflect.DeepEqual(stats, first) {
			t.Errorf("batches %+v gave different statistics", b)
		}
	}
	names := []string{}
	for _, s := range first {
		names = append(names, s.Name)
	}
	want := []string{"data", "conv1", "pool1", "conv2", "pool2", "flatten", "ip1", "relu1", "ip2", "prob"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("tensors %v, want %v (network order, input and output included)", names, want)
	}
	if s := first[0]; s.Count != 500*784 || s.Max != 1 || s.Min != 0 || s.Histogram.Range != 1 {
		t.Errorf("input statistics %+v", s)
	}
}

func TestCollectChecksTheDataRange(t *testing.T) {
	eng, src := lenet(t)
	_, err := Collect(eng, src, "data", Batches{Batch: 50, Batches: 2000}, calib.Info{Statistics: calib.MinMax}, nil)
	if err == nil {
		t.Error("asking for more calibration samples than the data set has should fail")
	}
}
