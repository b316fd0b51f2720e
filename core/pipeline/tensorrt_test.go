package pipeline

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/qdq"
	"github.com/int8cal/int8cal/internal/testfixture"
)

// trtPipeline is a pipeline of LeNet on the TensorRT double and the fake
// libcuda, its options as given (Model, Log and the libraries filled).
func trtPipeline(t *testing.T, double string, o TensorRTOptions) *Pipeline {
	t.Helper()
	o.Lib = double
	p := &Pipeline{opts: Options{Model: filepath.Join(dataDir, "lenet.onnx"), Backend: Backend{Name: TensorRT, Libs: cudaLibs(t), TensorRT: o}}, log: hclog.NewNullLogger()}
	t.Cleanup(func() { p.Close() })
	return p
}

// minmaxTable calibrates LeNet with minmax (2 batches of 10) on the CPU
// into a table in a temporary directory.
func minmaxTable(t *testing.T, calibrator string) string {
	t.Helper()
	cache := filepath.Join(t.TempDir(), "CalibrationTable")
	c := Calibration{Calibrator: calibrator, Batch: 10, Batches: 2, Cache: cache, Data: Data{Role: CalibrationRole, Split: Train}}
	if _, err := lenet(t, Backend{}).Calibrate(c, io.Discard); err != nil {
		t.Fatal(err)
	}
	return cache
}

// The engine's I/O has the pipeline's batch; the workspace and timing
// options reach the builder's config; INT8 is built from the calibration
// cache, which the engine's plan holds as the double's
// readCalibrationCache received it; without a calibration step INT8 is
// refused before TensorRT is opened. (Moved from cmd/int8cal's
// TestRunTensorRT.)
func TestTensorRTRunner(t *testing.T) {
	needMNIST(t)
	double := trtDouble(t, 10)
	eb := trtPipeline(t, double, TensorRTOptions{WorkspaceMiB: 64, AvgTimingIterations: 3})
	record := testfixture.DoubleRecord(t, double)
	r, err := eb.newRunner(runSpec{precision: precision.FP32, batch: 5})
	if err != nil {
		t.Fatal(err)
	}
	if io := r.(trtRunner).IO(); len(io) != 2 || !slices.Equal(io[0].Shape, []int{5, 1, 28, 28}) || !slices.Equal(io[1].Shape, []int{5, 10}) {
		t.Errorf("the engine's I/O for batch 5: %+v", io)
	}
	if got := record(); !strings.Contains(got, "pool=0 size=67108864\n") || !strings.Contains(got, "setAvgTimingIterations this=") || !strings.Contains(got, " n=3\n") {
		t.Errorf("the builder's config did not get the workspace (64 MiB) and 3 timing iterations:\n%s", got)
	}
	release(r)
	eb.Close()

	cache := minmaxTable(t, "minmax")
	table, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	ib := trtPipeline(t, double, TensorRTOptions{})
	r, err = ib.newRunner(runSpec{precision: precision.INT8, batch: 2, cal: &Calibrated{Cache: cache}})
	if err != nil {
		t.Fatal(err)
	}
	if plan := string(r.(trtRunner).Plan); !strings.Contains(plan, "flags=2\n"+string(table)) {
		t.Errorf("the INT8 plan %q does not hold the cache %q as read by readCalibrationCache", plan, table)
	}
	release(r)

	b := trtPipeline(t, double, TensorRTOptions{})
	if _, err := b.newRunner(runSpec{precision: precision.INT8, batch: 1}); err == nil || !strings.Contains(err.Error(), "calibration step") {
		t.Errorf("--backend tensorrt in INT8 without a calibration step: got %v", err)
	}
	if b.trt != nil {
		t.Error("TensorRT was opened for a refused INT8 engine")
	}
}

// The DLA core reaches BuildOptions.DLACore (moved from cmd/int8cal's
// TestUseDLACore).
func TestTensorRTDLACore(t *testing.T) {
	needMNIST(t)
	double := trtDouble(t, 10)
	t.Setenv("TRTDOUBLE_DLA_CORES", "2")
	b := trtPipeline(t, double, TensorRTOptions{UseDLA: true, DLACore: 1})
	r, err := b.newRunner(runSpec{precision: precision.FP16, batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	if plan := string(r.(trtRunner).Plan); !strings.Contains(plan, "flags=9\n") { // kFP16 | kGPU_FALLBACK
		t.Errorf("plan %q: want FP16 with GPU fallback (a DLA build)", plan)
	}
	release(r)
}

// INT8 from the Q/DQ model of the calibration cache: the default on 11.x,
// asked for on 10.x, and the default there too when layers are excluded,
// which then get no Q/DQ. The double counts the Q/DQ nodes of the model its
// parser got (moved from cmd/int8cal's TestTensorRTQDQ).
func TestTensorRTQDQRunner(t *testing.T) {
	needMNIST(t)
	cache := minmaxTable(t, "entropy2")
	qdqNodes := func(opts qdq.Options) int {
		model, err := qdqModel(filepath.Join(dataDir, "lenet.onnx"), cache, opts, hclog.NewNullLogger())
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(model), "QuantizeLinear") + strings.Count(string(model), "DequantizeLinear")
	}
	all := qdqNodes(qdq.Options{})
	if all < 8 {
		t.Fatalf("%d Q/DQ nodes in LeNet's Q/DQ model, want 8 or more", all)
	}
	for _, c := range []struct {
		name    string
		major   int
		int8    string
		exclude precision.Exclusions
		flags   int
	}{
		{"TensorRT11", 11, "", precision.Exclusions{}, 0},
		{"TensorRT10", 10, INT8FromQDQ, precision.Exclusions{}, 2},
		{"TensorRT10 excluding Gemm", 10, "", precision.Exclusions{OpTypes: []string{"Gemm"}}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			double := trtDouble(t, c.major)
			b := trtPipeline(t, double, TensorRTOptions{INT8: c.int8})
			b.opts.Exclude = c.exclude
			r, err := b.newRunner(runSpec{precision: precision.INT8, batch: 2, cal: &Calibrated{Cache: cache}})
			if err != nil {
				t.Fatal(err)
			}
			defer release(r)
			n := qdqNodes(qdq.Options{Exclude: c.exclude})
			if (n < all) != !c.exclude.Empty() {
				t.Errorf("%d Q/DQ nodes with %+v excluded, %d without", n, c.exclude, all)
			}
			plan := string(r.(trtRunner).Plan)
			if want := fmt.Sprintf("TRTDOUBLE-ENGINE major=%d flags=%d\nnone\nio=dynamic\nqdq=%d", c.major, c.flags, n); plan != want {
				t.Errorf("plan %q, want %q", plan, want)
			}
		})
	}
}
