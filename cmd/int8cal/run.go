package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/int8cal/int8cal/core/pipeline"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
)

const runSynopsis = `Runs TensorRT's sampleINT8 on the chosen backend (--backend cpu, the
pure-Go engine, by default; cuda on an NVIDIA GPU): scores the model on
MNIST training images (batch=32, start=16, score=1800: images 512 to 58111)
in each precision of --precision and prints the sample's report for each.
PASSED needs FP32 Top-1 and Top-5 of at least 0.99 and every other
precision's Top-1 within 0.01 of FP32's, as the sample, with every score a
finite number; otherwise FAILED, naming each rule broken with its threshold
and the measured values, and exit status 1 (int8cal eval scores without
thresholds).
Without fp32 in --precision nothing is compared: WAIVED, exit status 1.
The sample's spellings batch=N, start=N, score=N also work. With
--calibrator NAME it also calibrates (or reuses a valid cache) as the sample
does before building its INT8 engine; with --table FILE INT8 runs from that
table as given, nothing calibrated or written. --exclude-nodes and --exclude-op-types
keep the layers they name in FP32 in the INT8 run (mixed precision).`

func runCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", runSynopsis)
	var c commonFlags
	c.register(fs)
	c.registerExclude(fs)
	batch := fs.Int("batch", 32, "images per batch")
	start := fs.Int("start", 16, "first batch scored")
	score := fs.Int("score", 1800, "number of batches scored")
	precisions := fs.String("precision", "fp32,fp16,int8", "precisions to run, in order: fp32, fp16, int8")
	var cf calibFlags
	cf.register(fs, "entropy2")
	cf.registerTable(fs)
	var d dataFlags
	d.register(fs, true, true)
	if err := parse(fs, sampleArgs(args, "batch", "start", "score", "datadir", "model"), stdout, stderr); err != nil {
		return err
	}
	if err := cf.checkTable(); err != nil {
		return err
	}
	header := strings.TrimSpace("int8cal.run # int8cal run " + strings.Join(args, " "))
	fmt.Fprintln(stdout, "&&&& RUNNING", header)
	status, err := sample(&c, &cf, &d, *precisions, session.ScoreConfig{Batch: *batch, Start: *start, Batches: *score}, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "int8cal run: %s\n", oneLine(err.Error()))
		status = pipeline.Failed
	}
	fmt.Fprintln(stdout, "&&&& "+status, header)
	if status != pipeline.Passed {
		return errSilent
	}
	return nil
}

// sample scores the model in each precision as the sample does, printing
// the sample's report, and returns its verdict.
func sample(c *commonFlags, cf *calibFlags, d *dataFlags, precisions string, cfg session.ScoreConfig, stdout, stderr io.Writer) (string, error) {
	p, _, err := c.open(stderr)
	if err != nil {
		return "", err
	}
	defer p.Close()
	list, err := precision.ParseList(precisions)
	if err != nil {
		return "", fmt.Errorf("--precision: %w", err)
	}
	cal := cf.calibration(d.calibration())
	wantINT8 := slices.Contains(list, precision.INT8)
	if wantINT8 && cf.table == "" {
		if err := p.CheckCalibrationOutputs(cal, []string{p.CachePath(cal)}, cal.Data, d.evaluation(pipeline.Train)); err != nil {
			return "", err
		}
	}
	src, err := p.OpenData(d.evaluation(pipeline.Train))
	if err != nil {
		return "", err
	}
	defer src.Close()
	if cfg, err = p.Prepare(src, cfg); err != nil {
		return "", err
	}
	var table *pipeline.Calibrated
	if wantINT8 && cf.table != "" { // checked before any pass runs
		if table, err = p.TableAsGiven(cf.table); err != nil {
			return "", err
		}
	}
	var scores []pipeline.PrecisionScore
	for _, prec := range list {
		e := pipeline.Evaluation{Precision: prec, ScoreConfig: cfg}
		switch {
		case prec == precision.INT8 && table != nil:
			e.Calibration = table
		case prec == precision.INT8:
			// As in the sample, calibration (or the cache) comes right
			// before the INT8 engine is built.
			if e.Calibration, err = p.Calibrate(cal, stdout); err != nil {
				return "", err
			}
		}
		fmt.Fprintf(stdout, "%s run:%d batches of size %d starting at %d\n", prec, cfg.Batches, cfg.Batch, cfg.Start)
		s, err := p.Evaluate(src, e)
		if err != nil {
			return "", err
		}
		printScore(stdout, s)
		scores = append(scores, pipeline.PrecisionScore{Precision: prec, Score: s})
	}
	v := pipeline.Judge(scores)
	for _, why := range v.Reasons {
		fmt.Fprintf(stderr, "int8cal run: %s: %s\n", v.Status, why)
	}
	return v.Status, nil
}

func printScore(w io.Writer, s *session.Score) {
	fmt.Fprintf(w, "Top1: %s, Top5: %s\n", pipeline.G6(s.Top1), pipeline.G6(s.Top5))
	fmt.Fprintf(w, "Processing %d images averaged %s ms/image and %s ms/batch.\n", s.Images, pipeline.G6(s.MsPerImage()), pipeline.G6(s.MsPerBatch()))
	if !s.Finite() {
		fmt.Fprintf(w, "Warning: %s.\n", s.NonFiniteReport())
	}
}
