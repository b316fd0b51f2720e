package pipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
)

// calibration is minmax on 2 batches of 50 MNIST training images into a
// table in dir.
func calibration(dir string) Calibration {
	return Calibration{Calibrator: "minmax", Batch: 50, Batches: 2, Cache: filepath.Join(dir, "table"), Data: Data{Role: CalibrationRole, Split: Train}}
}

// Calibrate writes the table and the sample's lines to out; a second
// calibration with the same inputs reuses it, writing nothing; another
// batch count recalibrates.
func TestCalibrateAndReuse(t *testing.T) {
	p := lenet(t, Backend{})
	c := calibration(t.TempDir())
	if err := p.CheckCalibrationOutputs(c, []string{p.CachePath(c)}, c.Data); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cal, err := p.Calibrate(c, &out)
	if err != nil {
		t.Fatal(err)
	}
	if cal.Reused() || cal.Cache != c.Cache || !strings.Contains(out.String(), "Writing Calibration Cache for calibrator: TRT-8601-MinMaxCalibration\n") {
		t.Errorf("first calibration: reused %v, cache %s, output:\n%s", cal.Reused(), cal.Cache, out.String())
	}
	if s := cal.Scales(); len(s) == 0 || s["data"] <= 0 {
		t.Errorf("scales %v", s)
	}
	first, _ := os.ReadFile(c.Cache)

	out.Reset()
	again, err := p.Calibrate(c, &out)
	if err != nil || !again.Reused() || out.Len() != 0 {
		t.Errorf("second calibration: %v, reused %v, output %q", err, again != nil && again.Reused(), out.String())
	}
	c.Batches = 3
	if other, err := p.Calibrate(c, &out); err != nil || other.Reused() {
		t.Errorf("another batch count: %v, want a fresh calibration", err)
	}
	c.Batches = 2
	p.Calibrate(c, &out)
	if b, _ := os.ReadFile(c.Cache); !bytes.Equal(b, first) {
		t.Errorf("the same inputs gave another table:\n%s\nthen\n%s", first, b)
	}
}

// Each precision scores LeNet on the sample's images (20 batches of 32
// training images from batch 16); INT8 with the calibration's scales, and
// the verdict of the three passes is the sample's PASSED.
func TestEvaluatePerPrecision(t *testing.T) {
	p := lenet(t, Backend{})
	cal, err := p.Calibrate(calibration(t.TempDir()), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := p.OpenData(Data{Role: EvaluationRole, Split: Train})
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	var scores []PrecisionScore
	for _, prec := range []precision.Precision{precision.FP32, precision.FP16, precision.INT8} {
		e := Evaluation{Precision: prec, ScoreConfig: session.ScoreConfig{Batch: 32, Start: 16, Batches: 20}}
		if prec == precision.INT8 {
			e.Calibration = cal
		}
		s, err := p.Evaluate(data, e)
		if err != nil {
			t.Fatalf("%s: %v", prec, err)
		}
		if s.Images != 640 || s.Top1 < 0.98 || !s.Finite() {
			t.Errorf("%s: %d images, Top-1 %v, %d non-finite", prec, s.Images, s.Top1, s.NonFinite.Values)
		}
		scores = append(scores, PrecisionScore{prec, s})
	}
	if v := Judge(scores); v.Status != Passed {
		t.Errorf("verdict %s: %q", v.Status, v.Reasons)
	}
	// Compare calibrates each calibrator into its own table.
	dir := t.TempDir()
	c := calibration(dir)
	cals := []Calibrator{{Name: "entropy2"}, {Name: "legacy", Options: map[string]string{"quantile": "0.999"}}}
	caches := []string{p.ComparisonCache(c, cals[0]), p.ComparisonCache(c, cals[1])}
	if want := c.Cache + ".legacy-quantile=0.999"; caches[1] != want {
		t.Errorf("legacy's cache %s, want %s", caches[1], want)
	}
	if err := p.CheckCalibrators(c, cals); err != nil {
		t.Fatal(err)
	}
	rows, err := p.Compare(data, Evaluation{ScoreConfig: session.ScoreConfig{Batch: 100, Batches: 5}}, c, cals)
	if err != nil || len(rows) != 2 || rows[0].Calibrator != "entropy2" || rows[1].Calibrator != "legacy:quantile=0.999" || rows[1].Score.Images != 500 {
		t.Fatalf("compare: %v, %+v", err, rows)
	}
	for _, f := range caches {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("compare's table: %v", err)
		}
	}
}

// Bad options and data are errors naming what is wrong; none panics.
func TestErrors(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	if _, err := New(Options{Backend: Backend{Name: "bogus"}}); err == nil || !strings.Contains(err.Error(), `--backend "bogus" unknown`) {
		t.Errorf("unknown backend: %v", err)
	}
	if _, err := New(Options{Backend: Backend{Name: TensorRT, TensorRT: TensorRTOptions{Lib: "/nonexistent/libnvinfer.so.10"}}}); err == nil || !strings.Contains(err.Error(), "TensorRT library not found") {
		t.Errorf("missing TensorRT: %v", err)
	}
	p := lenet(t, Backend{})
	c := calibration(dir)
	c.Calibrator = "nosuch"
	if _, err := p.Calibrate(c, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `calibrator plugin "nosuch" not found`) {
		t.Errorf("unknown calibrator: %v", err)
	}
	c = calibration(dir)
	c.TRTVersion = "banana"
	if _, err := p.Calibrate(c, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "--trt-version") {
		t.Errorf("bad version: %v", err)
	}
	c = calibration(dir)
	c.Cache = p.opts.Model
	if err := p.CheckCalibrationOutputs(c, []string{c.Cache}, c.Data); err == nil || !strings.Contains(err.Error(), "is the model") {
		t.Errorf("a table over the model: %v", err)
	}
	if _, err := p.OpenData(Data{Role: EvaluationRole, Plugin: "nosuch"}); err == nil || !strings.Contains(err.Error(), "int8cal-batchstream-nosuch") {
		t.Errorf("unknown data set plugin: %v", err)
	}
	data, err := p.OpenData(Data{Role: EvaluationRole, Split: Test})
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	if _, err := p.Evaluate(data, Evaluation{ScoreConfig: session.ScoreConfig{Batch: 100, Batches: 101}}); err == nil || !strings.Contains(err.Error(), "needs 10100 samples") {
		t.Errorf("too many batches: %v", err)
	}
	if _, err := p.Evaluate(data, Evaluation{Precision: precision.INT8, ScoreConfig: session.ScoreConfig{Batch: 100, Batches: 1}}); err != nil {
		t.Errorf("INT8 without a calibration runs in float on the CPU: %v", err)
	}
	r := lenet(t, Backend{})
	r.opts.Model = "../../testdata/models/resnet20.onnx"
	if _, err := r.Evaluate(data, Evaluation{ScoreConfig: session.ScoreConfig{Batch: 32, Batches: 1}}); err == nil || !strings.Contains(err.Error(), "[N,3,32,32]") {
		t.Errorf("a model that does not fit the data: %v", err)
	}
}
