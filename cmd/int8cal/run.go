package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/datasets/mnist"
	"github.com/int8cal/int8cal/internal/progress"
)

const runSynopsis = `Runs TensorRT's sampleINT8 on the chosen backend (--backend cpu, the
pure-Go engine, by default; cuda on an NVIDIA GPU): scores the model on
MNIST training images (batch=32, start=16, score=1800: images 512 to 58111)
in each precision of --precision and prints the sample's report for each.
PASSED needs FP32 Top-1 and Top-5 of at least 0.99 and every other
precision's Top-1 within 0.01 of FP32's, as the sample; otherwise FAILED and
exit status 1. The sample's spellings batch=N, start=N, score=N also work.
With --calibrator NAME it also calibrates (or reuses a valid cache) as the
sample does before building its INT8 engine.`

func runCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", runSynopsis)
	var c commonFlags
	c.register(fs)
	batch := fs.Int("batch", 32, "images per batch")
	start := fs.Int("start", 16, "first batch scored")
	score := fs.Int("score", 1800, "number of batches scored")
	precisions := fs.String("precision", "fp32,fp16,int8", "precisions to run, in order: fp32, fp16, int8")
	var cf calibFlags
	cf.register(fs, "entropy2")
	var d dataFlags
	d.register(fs, true, true)
	if err := parse(fs, sampleArgs(args, "batch", "start", "score", "datadir", "model"), stdout, stderr); err != nil {
		return err
	}
	header := strings.TrimSpace("int8cal.run # int8cal run " + strings.Join(args, " "))
	fmt.Fprintln(stdout, "&&&& RUNNING", header)
	err := c.resolve()
	defer c.backend.close()
	var list []engine.Precision
	if err == nil {
		list, err = parsePrecisions(*precisions)
	}
	if err == nil {
		var pass bool
		calibrate := func() (*calibrated, error) {
			return runCalibration(&c, &cf, d.calibration(), stdout, c.logger(stderr))
		}
		pass, err = sample(&c, list, d.evaluation(mnist.Train), calibrate, session.ScoreConfig{Batch: *batch, Start: *start, Batches: *score}, stdout, stderr)
		if err == nil && !pass {
			fmt.Fprintln(stdout, "&&&& FAILED", header)
			return errSilent
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "int8cal run: %s\n", oneLine(err.Error()))
		fmt.Fprintln(stdout, "&&&& FAILED", header)
		return errSilent
	}
	fmt.Fprintln(stdout, "&&&& PASSED", header)
	return nil
}

func parsePrecisions(s string) ([]engine.Precision, error) {
	var out []engine.Precision
	for _, name := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "fp32":
			out = append(out, engine.FP32)
		case "fp16":
			out = append(out, engine.FP16)
		case "int8":
			out = append(out, engine.INT8)
		default:
			return nil, fmt.Errorf("--precision: %q unknown (fp32, fp16, int8)", name)
		}
	}
	return out, nil
}

// sample scores the model in each precision as the sample does and
// reports whether the results meet its criterion: FP32 Top-1 and Top-5 of
// at least 0.99, every other precision's Top-1 within 0.01 of FP32's.
func sample(c *commonFlags, precisions []engine.Precision, data role, calibrate func() (*calibrated, error), cfg session.ScoreConfig, stdout, stderr io.Writer) (bool, error) {
	log := c.logger(stderr)
	src, err := data.open(c, log)
	if err != nil {
		return false, err
	}
	defer src.close()
	m, err := openModel(c, cfg.Batch, src.SampleShape(), false, log)
	if err != nil {
		return false, err
	}
	release(m.eng) // each precision below gets its own engine
	if err := session.CheckRange(cfg, src.Len()); err != nil {
		return false, err
	}
	pass := true
	fp32 := -1.0
	for _, p := range precisions {
		var cal *calibrated
		if p == engine.INT8 {
			// As in the sample, calibration (or the cache) comes right
			// before the INT8 engine is built.
			if cal, err = calibrate(); err != nil {
				return false, err
			}
		}
		fmt.Fprintf(stdout, "%s run:%d batches of size %d starting at %d\n", p, cfg.Batches, cfg.Batch, cfg.Start)
		mp, err := m.withPrecision(p, cal, log)
		if err != nil {
			return false, err
		}
		s, err := mp.score(src, cfg, p.String(), log)
		release(mp.eng)
		if err != nil {
			return false, err
		}
		printScore(stdout, s)
		switch {
		case p == engine.FP32:
			fp32 = s.Top1
			pass = pass && s.Top1 >= 0.99 && s.Top5 >= 0.99
		case fp32 >= 0:
			pass = pass && s.Top1 >= fp32-0.01
		}
	}
	return pass, nil
}

func printScore(w io.Writer, s *session.Score) {
	fmt.Fprintf(w, "Top1: %s, Top5: %s\n", g6(s.Top1), g6(s.Top5))
	fmt.Fprintf(w, "Processing %d images averaged %s ms/image and %s ms/batch.\n", s.Images, g6(s.MsPerImage()), g6(s.MsPerBatch()))
}

// g6 formats like C++ iostreams' default (6 significant digits), as the
// sample prints.
func g6(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// model is a loaded network ready to score.
type model struct {
	graph  *graph.Graph
	c      *commonFlags
	eng    runner
	batch  int // the batch size openModel checked
	input  string
	output string
}

// withPrecision returns the model running in precision p (with the
// calibration's scales and cache for INT8) on the same backend.
func (m *model) withPrecision(p engine.Precision, cal *calibrated, log hclog.Logger) (*model, error) {
	v := *m
	opts := engine.Options{Workers: m.c.workers, Precision: p, Log: log}
	spec := runSpec{batch: m.batch}
	if cal != nil {
		opts.Int8Scales, spec.int8Cache, spec.tensorrt = cal.scales(), cal.cache, cal.tensorrt
	}
	var err error
	v.eng, err = m.c.backend.newRunner(m.graph, opts, spec, log)
	return &v, err
}

// openModel loads the ONNX file of c and checks that batches of the
// data's sample shape fit its input before any work is done. observe asks
// for an engine that shows every tensor (calibration).
func openModel(c *commonFlags, batch int, sample []int, observe bool, log hclog.Logger) (*model, error) {
	path := c.model
	g, err := graph.Load(path)
	if err != nil {
		return nil, err
	}
	if len(g.Inputs) != 1 || len(g.Outputs) < 1 {
		return nil, fmt.Errorf("%s: the model has %d inputs and %d outputs; one input and at least one output are needed", path, len(g.Inputs), len(g.Outputs))
	}
	if err := engine.New(g, engine.Options{Workers: 1}).CheckInput(g.Inputs[0].Name, append([]int{batch}, sample...)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	log.Debug("model loaded", "path", path, "opset", g.Opset, "nodes", len(g.Nodes), "input", g.Inputs[0].Name, "output", g.Outputs[0].Name)
	m := &model{graph: g, c: c, input: g.Inputs[0].Name, output: g.Outputs[0].Name}
	m.batch = batch
	m.eng, err = c.backend.newRunner(g, engine.Options{Workers: c.workers}, runSpec{batch: batch, observe: observe}, log)
	return m, err
}

func (m *model) score(src session.Source, cfg session.ScoreConfig, label string, log hclog.Logger) (*session.Score, error) {
	cfg.Input, cfg.Output = m.input, m.output
	bar := progress.New(label+" run", cfg.Batches, log)
	defer bar.Finish()
	cfg.Progress = func(int) { bar.Add(1) }
	return session.Evaluate(m.eng, src, cfg)
}
