package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/qdq"
	"github.com/int8cal/int8cal/core/tensor"
	trt "github.com/int8cal/int8cal/core/tensorrt"
	"github.com/int8cal/int8cal/internal/atomicfile"
	"github.com/int8cal/int8cal/internal/progress"
)

// The ways the TensorRT backend builds INT8 (TensorRTOptions.INT8).
const (
	// INT8FromCache: implicit INT8, TensorRT reading int8cal's calibration
	// cache through readCalibrationCache (8.6, 10.x).
	INT8FromCache = "cache"
	// INT8FromQDQ: explicit INT8, the model with Q/DQ nodes made from
	// int8cal's calibration cache (every version; the only way on 11.x).
	INT8FromQDQ = "qdq"
	// INT8ByTensorRT: implicit INT8, TensorRT calibrating with its own
	// implementation of the algorithm from int8cal's data (8.6, 10.x).
	INT8ByTensorRT = "tensorrt"
)

// checkTensorRTINT8 fills the INT8 route's default for the TensorRT
// found and refuses what that version cannot do.
func (p *Pipeline) checkTensorRTINT8(major int, version string) error {
	t := &p.opts.Backend.TensorRT
	switch t.INT8 {
	case "":
		t.INT8 = INT8FromCache
		if major >= 11 || !p.opts.Exclude.Empty() { // only Q/DQ keeps excluded layers in FP32
			t.INT8 = INT8FromQDQ
		}
	case INT8FromQDQ:
	case INT8FromCache, INT8ByTensorRT:
		if !p.opts.Exclude.Empty() {
			// Implicit INT8 chooses per layer itself; only a Q/DQ model
			// tells TensorRT which layers stay in float.
			return fmt.Errorf("--tensorrt-int8=%s cannot keep layers in FP32 (--exclude-nodes, --exclude-op-types): TensorRT chooses each layer's precision itself there; use --tensorrt-int8=qdq", t.INT8)
		}
		if major >= 11 {
			return fmt.Errorf("--tensorrt-int8=%s needs implicit INT8 (IInt8Calibrator), which TensorRT %s removed; use --tensorrt-int8=qdq (the default there), or TensorRT 8.6 or 10.x", t.INT8, version)
		}
	default:
		return fmt.Errorf("--tensorrt-int8=%s unknown: want cache, qdq or tensorrt", t.INT8)
	}
	return nil
}

// tensorrtCalibrates says whether TensorRT itself calibrates.
func (p *Pipeline) tensorrtCalibrates() bool {
	return p.opts.Backend.Name == TensorRT && p.opts.Backend.TensorRT.INT8 == INT8ByTensorRT
}

// trtAlgorithms are TensorRT's calibration algorithms by the name of
// int8cal's calibrator plugin of the same algorithm.
var trtAlgorithms = map[string]string{
	"entropy2": calibtable.EntropyCalibration2,
	"entropy":  calibtable.EntropyCalibration,
	"minmax":   calibtable.MinMaxCalibration,
	"legacy":   trt.LegacyCalibration,
}

// trtCalibration is TensorRT calibrating with its own implementation of
// an algorithm when it builds INT8: where the batches come from and where
// its table goes.
type trtCalibration struct {
	algorithm string // TensorRT's name, a key of trt.Algorithms
	legacy    trt.LegacyParameters
	data      Data
	// first and samples choose the calibration samples, [first,
	// first+samples): those of int8cal's own calibration.
	first, samples int
	cache          string
}

// newTRTCalibration checks the calibrator's name and options for
// TensorRT's calibration.
func (p *Pipeline) newTRTCalibration(c Calibration, cache string) (*trtCalibration, error) {
	algorithm, ok := trtAlgorithms[c.Calibrator]
	if !ok {
		return nil, fmt.Errorf("--tensorrt-int8=tensorrt: TensorRT has no calibrator %q; it implements entropy2, entropy, minmax and legacy (other calibrators: --tensorrt-int8=cache or qdq)", c.Calibrator)
	}
	// TensorRT's BERT demo settings, as int8cal's legacy calibrator.
	legacy := trt.LegacyParameters{Quantile: 0.9999, RegressionCutoff: 1}
	for key, value := range c.Options {
		var dst *float64
		switch {
		case algorithm == trt.LegacyCalibration && key == "quantile":
			dst = &legacy.Quantile
		case algorithm == trt.LegacyCalibration && key == "regression_cutoff":
			dst = &legacy.RegressionCutoff
		default:
			return nil, fmt.Errorf("--calibrator-opt %s: TensorRT's %s calibrator has no such option (the legacy one takes quantile and regression_cutoff)", key, algorithm)
		}
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("--calibrator-opt %s=%s: want a number", key, value)
		}
		*dst = f
	}
	return &trtCalibration{algorithm: algorithm, legacy: legacy, data: c.Data, first: c.First, samples: c.Batch * c.Batches, cache: cache}, nil
}

// newTensorRT builds a TensorRT engine from the model file, opening
// TensorRT and the CUDA driver the first time.
func (p *Pipeline) newTensorRT(spec runSpec) (runner, error) {
	prec := spec.precision
	if prec == precision.INT8 && spec.cal == nil {
		return nil, fmt.Errorf("--backend tensorrt: INT8 needs a calibration step (--calibrator NAME, --cache PATH), which did not run")
	}
	if err := p.open(); err != nil {
		return nil, err
	}
	if err := p.checkTensorRTINT8(p.trt.ABI.Major, p.trt.Version()); err != nil {
		return nil, err
	}
	t, log, path := p.opts.Backend.TensorRT, p.log, p.opts.Model
	model, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--backend tensorrt: %w", err)
	}
	bo := trt.BuildOptions{Precision: prec, Batch: spec.batch, DLACore: -1,
		Workspace: uint64(t.WorkspaceMiB) << 20, AvgTimingIterations: t.AvgTimingIterations}
	if t.UseDLA {
		bo.DLACore = t.DLACore
	}
	if prec == precision.FP32 && bo.DLACore >= 0 {
		// DLA has no FP32, and the commands build an FP32 engine first
		// (the reference): that one runs on the GPU.
		log.Warn("--useDLACore: DLA runs fp16 and int8 only; the fp32 engine is built for the GPU", "dla_core", bo.DLACore)
		bo.DLACore = -1
	}
	var calibrated *trt.DataCalibrator
	if prec == precision.INT8 {
		switch cal := spec.cal; {
		case cal.tensorrt != nil:
			next, done, err := p.trtBatches(cal.tensorrt, spec.batch)
			if err != nil {
				return nil, fmt.Errorf("--backend tensorrt: %w", err)
			}
			defer done()
			if calibrated, err = p.trt.NewDataCalibrator(cal.tensorrt.algorithm, cal.tensorrt.legacy, next); err != nil {
				return nil, fmt.Errorf("--backend tensorrt: %w", err)
			}
			defer calibrated.Close()
			bo.Calibrator = calibrated
			log.Info("tensorrt int8: TensorRT calibrates", "algorithm", cal.tensorrt.algorithm)
		case t.INT8 == INT8FromQDQ:
			if model, err = qdqModel(path, cal.Cache, qdq.Options{Exclude: p.opts.Exclude}, p.log); err != nil {
				return nil, fmt.Errorf("--backend tensorrt: %w", err)
			}
			log.Info("tensorrt int8 from the Q/DQ model of the calibration cache", "cache", cal.Cache)
		default:
			_, table, err := calibtable.ReadFileBytes(cal.Cache) // bounded, scales checked
			if err != nil {
				return nil, fmt.Errorf("--backend tensorrt: INT8: %w", err)
			}
			tc, err := trt.NewCacheCalibrator(table, cal.Cache)
			if err != nil {
				return nil, fmt.Errorf("--backend tensorrt: %w", err)
			}
			bo.Calibrator = tc
			log.Info("tensorrt int8 from the calibration cache", "cache", cal.Cache, "algorithm", tc.Algorithm())
		}
	}
	e, err := p.trt.Build(model, bo)
	if err != nil {
		return nil, fmt.Errorf("--backend tensorrt: building %s: %w", path, err)
	}
	if calibrated != nil {
		if err := p.keepTRTTable(spec.cal.tensorrt, calibrated); err != nil {
			e.Close()
			return nil, fmt.Errorf("--backend tensorrt: %w", err)
		}
	}
	return trtRunner{e}, nil
}

// trtBatches opens the calibration data and returns the reader of its
// batches for a TensorRT engine built for batch: the calibration samples
// in whole batches of that size (a rest smaller than one is left out and
// logged), each served once.
func (p *Pipeline) trtBatches(c *trtCalibration, batch int) (next func(names []string) ([][]float32, error), done func(), err error) {
	src, err := p.OpenData(c.data)
	if err != nil {
		return nil, nil, err
	}
	n := c.samples / batch
	switch {
	case n == 0:
		src.Close()
		return nil, nil, fmt.Errorf("TensorRT's calibration: the %d calibration samples (--cal-batch × --cal-batches) make no batch of %d, the size the engine is built for", c.samples, batch)
	case c.first+c.samples > src.Len():
		src.Close()
		return nil, nil, fmt.Errorf("TensorRT's calibration: samples %d to %d asked for (--cal-first, --cal-batch × --cal-batches), but the calibration data (%s) has %d", c.first, c.first+c.samples-1, src.Describe(), src.Len())
	case n*batch < c.samples:
		p.log.Info("TensorRT calibrates on whole batches of the engine's batch size", "batch", batch, "batches", n, "samples_left_out", c.samples-n*batch)
	}
	images := make([]float32, batch*tensor.NumElements(src.SampleShape()))
	labels := make([]int, batch)
	bar := progress.New("TensorRT calibration", n, p.log)
	i := 0
	next = func(names []string) ([][]float32, error) {
		if len(names) != 1 {
			return nil, fmt.Errorf("TensorRT asks for the inputs %q; the calibration data feeds one", names)
		}
		if i == n {
			return nil, nil
		}
		first := c.first + i*batch
		if err := src.Read(first, batch, images, labels); err != nil {
			return nil, err // names the data set and the sample
		}
		i++
		bar.Add(1)
		return [][]float32{images}, nil
	}
	return next, func() { bar.Finish(); src.Close() }, nil
}

// keepTRTTable writes the table TensorRT computed to the cache file
// (atomically), after checking it parses, and removes the cache's
// sidecar.
func (p *Pipeline) keepTRTTable(c *trtCalibration, cal *trt.DataCalibrator) error {
	table := cal.Table()
	if len(table) == 0 {
		return fmt.Errorf("TensorRT built the INT8 engine after %d calibration batches but wrote no calibration table", cal.Batches())
	}
	t, err := calibtable.Parse(bytes.NewReader(table), "TensorRT's calibration table")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(c.cache, table); err != nil {
		return err
	}
	// A sidecar left by an earlier int8cal calibration describes another
	// table: without it, the cache reads as one TensorRT made.
	if err := os.Remove(calibtable.SidecarPath(c.cache)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	p.log.Info("TensorRT's calibration table written", "cache", c.cache, "header", t.Header(), "tensors", len(t.Entries), "batches", cal.Batches())
	return nil
}

// qdqModel is the model file with Q/DQ nodes from the calibration cache,
// as ExportQDQ makes it with opts, encoded for TensorRT's parser.
func qdqModel(path, cache string, opts qdq.Options, log hclog.Logger) ([]byte, error) {
	q, rep, warnings, err := ExportQDQ(path, cache, opts)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		log.Warn("Q/DQ model: " + w)
	}
	log.Debug("Q/DQ model", "activations", len(rep.Activations), "weights", len(rep.Weights))
	for _, x := range rep.Excluded {
		log.Info("Q/DQ model: " + x.String())
	}
	return onnx.Encode(q)
}

// trtRunner is a TensorRT engine as a runner: it runs the model, but
// cannot show the intermediate tensors calibration observes.
type trtRunner struct{ *trt.Engine }

func (trtRunner) RunObserved(map[string]*tensor.Tensor, func(string, *tensor.Tensor)) (map[string]*tensor.Tensor, error) {
	return nil, fmt.Errorf("--backend tensorrt cannot show a model's intermediate tensors: calibrate with --backend cpu or cuda")
}
