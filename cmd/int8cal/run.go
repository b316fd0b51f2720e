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
keep the layers they name in FP32 in the INT8 run (mixed precision).
With --format json the report is one JSON object on stdout (the run's
metadata, each precision's score, the verdict and the rules it broke) and
the text goes to stderr.`

// runJSON is run's --format json.
type runJSON struct {
	Metadata *metadata   `json:"metadata,omitempty"`
	Batch    int         `json:"batch"`
	Start    int         `json:"start"`
	Batches  int         `json:"batches"`
	Scores   []scoreJSON `json:"scores"`
	// Status is the sample's verdict; Failed the rules broken, each with
	// its threshold and the values measured.
	Status string   `json:"status"`
	Failed []string `json:"failed,omitempty"`
	// Error is what stopped the run before a verdict.
	Error string `json:"error,omitempty"`
}

func runCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", runSynopsis)
	var c commonFlags
	c.register(fs)
	c.registerExclude(fs)
	batch := fs.Int("batch", 32, "images per batch")
	start := fs.Int("start", 16, "first batch scored")
	score := fs.Int("score", 1800, "number of batches scored")
	precisions := fs.String("precision", "fp32,fp16,int8", "precisions to run, in order: fp32, fp16, int8")
	format := fs.String("format", "text", "output: text or json (the report as JSON on stdout, the text on stderr)")
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
	if err := checkFormat(*format); err != nil {
		return err
	}
	text := stdout
	if *format == "json" {
		text = stderr
	}
	header := strings.TrimSpace("int8cal.run # int8cal run " + strings.Join(args, " "))
	fmt.Fprintln(text, "&&&& RUNNING", header)
	report, err := sample(&c, &cf, &d, *precisions, session.ScoreConfig{Batch: *batch, Start: *start, Batches: *score}, text, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "int8cal run: %s\n", oneLine(err.Error()))
		report.Status, report.Error = pipeline.Failed, oneLine(err.Error())
	}
	fmt.Fprintln(text, "&&&& "+report.Status, header)
	if *format == "json" {
		if err := writeJSON(stdout, report); err != nil {
			return err
		}
	}
	if report.Status != pipeline.Passed {
		return errSilent
	}
	return nil
}

// sample scores the model in each precision as the sample does, printing
// the sample's report, and returns it with its verdict; on an error, with
// what was done before it.
func sample(c *commonFlags, cf *calibFlags, d *dataFlags, precisions string, cfg session.ScoreConfig, stdout, stderr io.Writer) (*runJSON, error) {
	report := &runJSON{Scores: []scoreJSON{}}
	p, _, err := c.open(stderr)
	if err != nil {
		return report, err
	}
	defer p.Close()
	list, err := precision.ParseList(precisions)
	if err != nil {
		return report, fmt.Errorf("--precision: %w", err)
	}
	cal := cf.calibration(d.calibration())
	wantINT8 := slices.Contains(list, precision.INT8)
	if wantINT8 && cf.table == "" {
		if err := p.CheckCalibrationOutputs(cal, []string{p.CachePath(cal)}, cal.Data, d.evaluation(pipeline.Train)); err != nil {
			return report, err
		}
	}
	src, err := p.OpenData(d.evaluation(pipeline.Train))
	if err != nil {
		return report, err
	}
	defer src.Close()
	if cfg, err = p.Prepare(src, cfg); err != nil {
		return report, err
	}
	// The model is loaded and checked: its hash names what was run.
	if report.Metadata, err = newMetadata(p, c, d.evaluation(pipeline.Train), src, cf.table); err != nil {
		return report, err
	}
	report.Batch, report.Start, report.Batches = cfg.Batch, cfg.Start, cfg.Batches
	if wantINT8 && cf.table == "" {
		m := report.Metadata
		m.Calibrator, m.CalibratorOptions, m.Table = cal.Calibrator, cal.Options, p.CachePath(cal)
		m.addData(cal.Data, nil)
	}
	var table *pipeline.Calibrated
	if wantINT8 && cf.table != "" { // checked before any pass runs
		if table, err = p.TableAsGiven(cf.table); err != nil {
			return report, err
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
				return report, err
			}
		}
		fmt.Fprintf(stdout, "%s run:%d batches of size %d starting at %d\n", prec, cfg.Batches, cfg.Batch, cfg.Start)
		s, err := p.Evaluate(src, e)
		if err != nil {
			return report, err
		}
		printScore(stdout, s)
		scores = append(scores, pipeline.PrecisionScore{Precision: prec, Score: s})
		report.Scores = append(report.Scores, newScoreJSON(prec, s))
	}
	v := pipeline.Judge(scores)
	for _, why := range v.Reasons {
		fmt.Fprintf(stderr, "int8cal run: %s: %s\n", v.Status, why)
	}
	report.Status, report.Failed = v.Status, v.Reasons
	return report, nil
}

func printScore(w io.Writer, s *session.Score) {
	fmt.Fprintf(w, "Top1: %s, Top5: %s\n", pipeline.G6(s.Top1), pipeline.G6(s.Top5))
	fmt.Fprintf(w, "Processing %d images averaged %s ms/image and %s ms/batch.\n", s.Images, pipeline.G6(s.MsPerImage()), pipeline.G6(s.MsPerBatch()))
	if !s.Finite() {
		fmt.Fprintf(w, "Warning: %s.\n", s.NonFiniteReport())
	}
}
