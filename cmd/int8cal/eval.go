package main

import (
	"fmt"
	"io"

	"github.com/int8cal/int8cal/core/pipeline"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
)

const evalSynopsis = `Scores a model in one precision (--precision fp32, fp16 or int8) on labelled
data, by default every sample, and prints Top-1, Top-5 and throughput; no
thresholds are applied (int8cal run applies the sample's). INT8 runs from
the calibration table --table FILE, used as given and never written (int8cal
calibrate writes one); --exclude-nodes and --exclude-op-types keep the
layers they name in FP32. The data is an MNIST split of --datadir (t10k by
default) or a data set plugin: --eval-data npy --eval-opt x=... --eval-opt y=...
(int8cal plugins lists the plugins and their options).`

// evalJSON is eval's --format json: the run's inputs, then its scores.
type evalJSON struct {
	Metadata *metadata `json:"metadata"`
	Model    string    `json:"model"`
	Data     string    `json:"data"`
	Table    string    `json:"table,omitempty"`
	Batch    int       `json:"batch"`
	Start    int       `json:"start"`
	Batches  int       `json:"batches"`
	scoreJSON
	Input *session.InputStats `json:"input_statistics,omitempty"`
}

func evalCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", evalSynopsis)
	var c commonFlags
	c.register(fs)
	c.registerExclude(fs)
	prec := fs.String("precision", "fp32", "the precision scored: fp32, fp16 or int8 (int8 needs --table)")
	table := fs.String("table", "", tableUsage+" (--precision int8)")
	format := fs.String("format", "text", formatUsage+" (the scores, the run's metadata and the data's per-channel statistics)")
	batch := fs.Int("batch", 32, "images per batch")
	start := fs.Int("start", 0, "first batch scored")
	score := fs.Int("score", 0, "number of batches scored (default: all that fit)")
	split := fs.String("split", pipeline.Test, "MNIST split when no data set plugin is named: train or t10k")
	var d dataFlags
	d.register(fs, false, true)
	if err := parse(fs, sampleArgs(args, "batch", "start", "score"), stdout, stderr); err != nil {
		return err
	}
	pr, err := precision.Parse(*prec)
	switch {
	case err != nil:
		return fmt.Errorf("--precision: %w", err)
	case pr == precision.INT8 && *table == "":
		return fmt.Errorf("--precision int8 needs --table FILE, the calibration table INT8 runs from (int8cal calibrate writes one; int8cal run calibrates and scores)")
	case pr != precision.INT8 && *table != "":
		return fmt.Errorf("--table %s is for --precision int8; %s uses no table", *table, pr)
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	p, _, err := c.open(stderr)
	if err != nil {
		return err
	}
	defer p.Close()
	src, err := p.OpenData(d.evaluation(*split))
	if err != nil {
		return err
	}
	defer src.Close()
	cfg, err := p.Prepare(src, session.ScoreConfig{Batch: *batch, Start: *start, Batches: *score})
	if err != nil {
		return err
	}
	e := pipeline.Evaluation{Precision: pr, ScoreConfig: cfg}
	from := ""
	if *table != "" {
		if e.Calibration, err = p.TableAsGiven(*table); err != nil {
			return err
		}
		from = ", table " + *table
	}
	s, err := p.Evaluate(src, e)
	if err != nil {
		return err
	}
	if *format == "json" {
		m, err := newMetadata(p, &c, d.evaluation(*split), src, *table)
		if err != nil {
			return err
		}
		err = writeJSON(stdout, evalJSON{Metadata: m, Model: c.model, Data: src.Describe(), Table: *table,
			Batch: s.Batch, Start: cfg.Start, Batches: s.Batches, scoreJSON: newScoreJSON(pr, s), Input: src.InputStats()})
		if err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "model %s, data %s%s, %s: %d batches of size %d starting at %d\n", c.model, src.Describe(), from, pr, s.Batches, s.Batch, cfg.Start)
		printScore(stdout, s)
		fmt.Fprintf(stdout, "Throughput: %.0f images/s\n", s.ImagesPerSecond())
	}
	if !s.Finite() {
		return fmt.Errorf("the scores were not all finite numbers: %s", s.NonFiniteReport())
	}
	return nil
}
