package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/calibrate"
	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/pluginhost"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/internal/atomicfile"
	"github.com/int8cal/int8cal/internal/filehash"
)

// defaultTRTVersion is the TensorRT version whose cache header we write
// unless told otherwise: 8.6.1, the last release line with sampleINT8's
// implicit calibration and the most common reader of these caches.
const defaultTRTVersion = "8.6.1"

// calibFlags are the options of a calibration, shared by calibrate and run.
type calibFlags struct {
	calibrator string
	options    keyValues
	batch      int
	batches    int
	first      int
	cache      string
	trtVersion string
	jsonOut    string
	histCache  string
}

func (c *calibFlags) register(fs *flag.FlagSet, defaultCalibrator string) {
	fs.StringVar(&c.calibrator, "calibrator", defaultCalibrator, "calibrator plugin name (int8cal plugins lists them)")
	fs.Var(&c.options, "calibrator-opt", "calibrator option KEY=VALUE (repeatable)")
	fs.IntVar(&c.batch, "cal-batch", 50, "calibration batch size")
	fs.IntVar(&c.batches, "cal-batches", 10, "number of calibration batches")
	fs.IntVar(&c.first, "cal-first", 0, "first calibration sample")
	fs.StringVar(&c.cache, "cache", "", "calibration cache file (default: CalibrationTable<model name> in the current directory)")
	fs.StringVar(&c.trtVersion, "trt-version", defaultTRTVersion, "TensorRT version written in the cache header (e.g. 8.6.1, 10.3)")
	fs.StringVar(&c.jsonOut, "json", "", "also write amax and scale per tensor as JSON to this file")
	fs.StringVar(&c.histCache, "histogram-cache", "", "keep the collected statistics in this file and reuse them when model, data and batches match (explore calibrator options without running the network)")
}

// keyValues is a repeatable KEY=VALUE flag.
type keyValues map[string]string

func (kv *keyValues) String() string {
	var parts []string
	for k, v := range *kv {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (kv *keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", s)
	}
	if *kv == nil {
		*kv = keyValues{}
	}
	(*kv)[k] = v
	return nil
}

const calibrateSynopsis = `Calibrates a model for INT8 as TensorRT's sampleINT8 does: runs it in FP32
over the calibration batches (by default the first 500 MNIST training images
in 10 batches of 50), gathers activation statistics of every tensor, asks the
calibrator plugin for each tensor's dynamic range and writes a TensorRT
calibration cache. A cache whose header and sidecar match the run is reused.`

func calibrateCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("calibrate", calibrateSynopsis)
	var c commonFlags
	c.register(fs)
	var cf calibFlags
	cf.register(fs, "entropy2")
	var d dataFlags
	d.register(fs, true, false)
	if err := parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	if err := c.resolve(); err != nil {
		return err
	}
	defer c.backend.close()
	if err := cf.preflight(&c, []string{cf.cachePath(&c)}, d.calibration()); err != nil {
		return err
	}
	log := c.logger(stderr)
	res, err := runCalibration(&c, &cf, d.calibration(), stdout, log)
	if err != nil || res.tensorrt == nil {
		return err
	}
	// TensorRT calibrates while it builds INT8: build an engine of the
	// calibration batch size for its table.
	r, err := c.backend.newTensorRT(engine.Options{Precision: precision.INT8}, runSpec{batch: cf.batch, tensorrt: res.tensorrt}, log)
	if err != nil {
		return err
	}
	release(r)
	fmt.Fprintf(stdout, "wrote %s (TensorRT's %s)\n", res.cache, res.tensorrt.algorithm)
	return nil
}

// calibrated is a calibration's result and the cache it wrote or reused;
// or, when TensorRT calibrates (--tensorrt-int8 tensorrt), what its INT8
// build needs for that.
type calibrated struct {
	*calibrate.Result // nil when TensorRT calibrates
	cache             string
	tensorrt          *trtCalibration
}

// scales are the per-tensor activation scales the table gives, as INT8
// engines take them (none when TensorRT calibrates).
func (c *calibrated) scales() map[string]float32 {
	scales := map[string]float32{}
	if c.Result != nil {
		for _, e := range c.Table.Entries {
			scales[e.Name] = e.Scale
		}
	}
	return scales
}

// reused says a valid cache was reused instead of calibrating.
func (c *calibrated) reused() bool { return c.Result != nil && c.Reused }

// runCalibration calibrates (or reuses the cache) and returns the result.
// The command has checked its outputs with calibFlags.preflight.
func runCalibration(c *commonFlags, cf *calibFlags, data role, stdout io.Writer, log hclog.Logger) (*calibrated, error) {
	version, err := calibtable.ParseTRTVersion(cf.trtVersion)
	if err != nil {
		return nil, fmt.Errorf("--trt-version: %w", err)
	}
	cache := cf.cachePath(c)
	if c.backend.tensorrtCalibrates() {
		// TensorRT calibrates when it builds the INT8 engine.
		t, err := newTRTCalibration(cf, cache, func() (*openedData, error) { return data.open(c, log) })
		if err != nil {
			return nil, err
		}
		return &calibrated{cache: cache, tensorrt: t}, nil
	}
	src, err := data.open(c, log)
	if err != nil {
		return nil, err
	}
	defer src.close()
	if c.backend.name == "tensorrt" {
		// TensorRT cannot show the intermediate tensors calibration
		// observes: the CPU engine calibrates, TensorRT builds INT8 from
		// the cache or its Q/DQ model.
		log.Info("--backend tensorrt: calibrating on the cpu backend")
	}
	m, err := openModel(c, cf.batch, src.SampleShape(), true, log)
	if err != nil {
		return nil, err
	}
	defer release(m.eng)
	hash, err := filehash.SHA256(c.model)
	if err != nil {
		return nil, err
	}
	found, err := c.findPlugin(pluginhost.CalibratorKind, cf.calibrator)
	if err != nil {
		return nil, err
	}
	cal, err := pluginhost.StartCalibrator(found, log)
	if err != nil {
		return nil, err
	}
	defer cal.Close()
	job := &calibrate.Job{
		Runner: m.eng, Input: m.input, Source: src,
		Batches:    calibrate.Batches{Batch: cf.batch, Batches: cf.batches, First: cf.first},
		Calibrator: cal, Info: cal.Info, Options: cf.options,
		CachePath: cache, Use: calibrate.Reuse, Tensors: graphTensors(m.graph),
		Version: version, StatsCache: cf.histCache,
		Provenance: calibtable.Sidecar{ModelSHA256: hash, Dataset: src.describe},
		Out:        stdout, Log: log,
	}
	res, err := job.Run()
	if err != nil {
		return nil, err
	}
	if cf.jsonOut != "" {
		if err := writeJSONTable(cf.jsonOut, res.Table); err != nil {
			return nil, err
		}
	}
	return &calibrated{Result: res, cache: cache}, nil
}

func writeJSONTable(path string, t *calibtable.Table) error {
	var b bytes.Buffer
	if err := calibtable.WriteJSON(&b, t); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.WriteFile(path, b.Bytes())
}

// graphTensors are the names of the model's tensors a calibration table
// may name: its input, every node's outputs and its constants (which
// include the tensors folded when it was loaded).
func graphTensors(g *graph.Graph) []string {
	var names []string
	for _, in := range g.Inputs {
		names = append(names, in.Name)
	}
	for _, n := range g.Nodes {
		names = append(names, n.Outputs...)
	}
	for name := range g.Constants {
		names = append(names, name)
	}
	return names
}

// modelName is the model file's name without directory and extension, the
// "network name" of the sample's CalibrationTable<network>.
func modelName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}
