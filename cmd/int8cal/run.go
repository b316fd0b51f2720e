package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/datasets/mnist"
	"github.com/int8cal/int8cal/internal/progress"
)

const runSynopsis = `Runs TensorRT's sampleINT8 on the chosen backend (--backend cpu, the
pure-Go engine, by default; cuda on an NVIDIA GPU): scores the model on
MNIST training images (batch=32, start=16, score=1800: images 512 to 58111)
in each precision of --precision and prints the sample's report for each.
PASSED needs FP32 Top-1 and Top-5 of at least 0.99 and every other
precision's Top-1 within 0.01 of FP32's, as the sample, with every score a
finite number; otherwise FAILED, saying which rule failed, and exit status 1.
Without fp32 in --precision nothing is compared: WAIVED, exit status 1. The sample's spellings batch=N, start=N, score=N also work.
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
	var list []precision.Precision
	if err == nil {
		if list, err = precision.ParseList(*precisions); err != nil {
			err = fmt.Errorf("--precision: %w", err)
		}
	}
	if err == nil && slices.Contains(list, precision.INT8) {
		err = cf.preflight(&c, []string{cf.cachePath(&c)}, d.calibration(), d.evaluation(mnist.Train))
	}
	if err == nil {
		calibrate := func() (*calibrated, error) {
			return runCalibration(&c, &cf, d.calibration(), stdout, c.logger(stderr))
		}
		var scores []precisionScore
		scores, err = sample(&c, list, d.evaluation(mnist.Train), calibrate, session.ScoreConfig{Batch: *batch, Start: *start, Batches: *score}, stdout, stderr)
		if err == nil {
			v := judge(scores)
			for _, why := range v.reasons {
				fmt.Fprintf(stderr, "int8cal run: %s: %s\n", v.status, why)
			}
			if v.status != passed {
				fmt.Fprintln(stdout, "&&&& "+v.status, header)
				return errSilent
			}
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

// precisionScore is one precision's scoring pass.
type precisionScore struct {
	precision precision.Precision
	score     *session.Score
}

// sample scores the model in each precision as the sample does.
func sample(c *commonFlags, precisions []precision.Precision, data role, calibrate func() (*calibrated, error), cfg session.ScoreConfig, stdout, stderr io.Writer) ([]precisionScore, error) {
	log := c.logger(stderr)
	src, err := data.open(c, log)
	if err != nil {
		return nil, err
	}
	defer src.close()
	m, err := openModel(c, cfg.Batch, src.SampleShape(), false, log)
	if err != nil {
		return nil, err
	}
	release(m.eng) // each precision below gets its own engine
	if err := session.CheckRange(cfg, src.Len()); err != nil {
		return nil, err
	}
	var scores []precisionScore
	for _, p := range precisions {
		var cal *calibrated
		if p == precision.INT8 {
			// As in the sample, calibration (or the cache) comes right
			// before the INT8 engine is built.
			if cal, err = calibrate(); err != nil {
				return nil, err
			}
		}
		fmt.Fprintf(stdout, "%s run:%d batches of size %d starting at %d\n", p, cfg.Batches, cfg.Batch, cfg.Start)
		mp, err := m.withPrecision(p, cal, log)
		if err != nil {
			return nil, err
		}
		s, err := mp.score(src, cfg, p.String(), log)
		release(mp.eng)
		if err != nil {
			return nil, err
		}
		printScore(stdout, s)
		scores = append(scores, precisionScore{p, s})
	}
	return scores, nil
}

// The sample's verdicts, as TensorRT's samples log them after "&&&& ".
const (
	passed = "PASSED"
	failed = "FAILED"
	waived = "WAIVED"
)

// verdict is the sample's criterion applied to a command's passes.
type verdict struct {
	status  string
	reasons []string // why it did not pass, one rule each
}

// judge applies the sample's criterion: FP32 Top-1 and Top-5 of at least
// 0.99, every other precision's Top-1 within 0.01 of FP32's. A pass whose
// scores were not all finite fails whatever its numbers; without an FP32
// pass in the same command there is nothing to compare against, and the
// run is waived rather than passed.
func judge(scores []precisionScore) verdict {
	const minFP32, maxDrop = 0.99, 0.01
	var v verdict
	var fp32 *session.Score
	for _, ps := range scores {
		if !ps.score.Finite() {
			v.reasons = append(v.reasons, fmt.Sprintf("%s %s", ps.precision, ps.score.NonFiniteReport()))
		}
		if ps.precision == precision.FP32 && fp32 == nil {
			fp32 = ps.score
		}
	}
	if fp32 == nil {
		if len(v.reasons) > 0 {
			return verdict{failed, v.reasons}
		}
		return verdict{waived, []string{"no FP32 pass ran in this command, so the other precisions were compared against nothing; add fp32 to --precision for the sample's criterion"}}
	}
	if fp32.Top1 < minFP32 || fp32.Top5 < minFP32 {
		v.reasons = append(v.reasons, fmt.Sprintf("FP32 Top-1 %s and Top-5 %s must both be at least %v (the sample's MNIST criterion)", g6(fp32.Top1), g6(fp32.Top5), minFP32))
	}
	for _, ps := range scores {
		if ps.precision != precision.FP32 && ps.score.Top1 < fp32.Top1-maxDrop {
			v.reasons = append(v.reasons, fmt.Sprintf("%s Top-1 %s is more than %v below FP32's %s", ps.precision, g6(ps.score.Top1), maxDrop, g6(fp32.Top1)))
		}
	}
	if len(v.reasons) > 0 {
		v.status = failed
	} else {
		v.status = passed
	}
	return v
}

func printScore(w io.Writer, s *session.Score) {
	fmt.Fprintf(w, "Top1: %s, Top5: %s\n", g6(s.Top1), g6(s.Top5))
	fmt.Fprintf(w, "Processing %d images averaged %s ms/image and %s ms/batch.\n", s.Images, g6(s.MsPerImage()), g6(s.MsPerBatch()))
	if !s.Finite() {
		fmt.Fprintf(w, "Warning: %s.\n", s.NonFiniteReport())
	}
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
func (m *model) withPrecision(p precision.Precision, cal *calibrated, log hclog.Logger) (*model, error) {
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
	log.Debug("memory limit", "limit", c.budgetHow)
	g, err := graph.Options{Budget: c.budget}.Load(path)
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

func (m *model) score(src *openedData, cfg session.ScoreConfig, label string, log hclog.Logger) (*session.Score, error) {
	cfg.Input, cfg.Output = m.input, m.output
	bar := progress.New(label+" run", cfg.Batches, log)
	defer bar.Finish()
	cfg.Progress = func(int) { bar.Add(1) }
	s, err := session.Evaluate(m.eng, src, cfg)
	if le := (*session.LabelError)(nil); errors.As(err, &le) {
		err = src.errorf(err)
	}
	return s, err
}
