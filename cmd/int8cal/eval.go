package main

import (
	"fmt"
	"io"

	"github.com/int8cal/int8cal/core/pipeline"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
)

const evalSynopsis = `Scores a model in FP32 on labelled data, by default every sample, and prints
Top-1, Top-5 and throughput. The data is an MNIST split of --datadir (t10k by
default) or a data set plugin: --eval-data npy --eval-opt x=... --eval-opt y=...
(int8cal plugins lists the plugins and their options).`

func evalCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", evalSynopsis)
	var c commonFlags
	c.register(fs)
	batch := fs.Int("batch", 32, "images per batch")
	start := fs.Int("start", 0, "first batch scored")
	score := fs.Int("score", 0, "number of batches scored (default: all that fit)")
	split := fs.String("split", pipeline.Test, "MNIST split when no data set plugin is named: train or t10k")
	var d dataFlags
	d.register(fs, false, true)
	if err := parse(fs, sampleArgs(args, "batch", "start", "score"), stdout, stderr); err != nil {
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
	s, err := p.Evaluate(src, pipeline.Evaluation{Precision: precision.FP32, ScoreConfig: cfg})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "model %s, data %s, FP32: %d batches of size %d starting at %d\n", c.model, src.Describe(), s.Batches, s.Batch, cfg.Start)
	printScore(stdout, s)
	fmt.Fprintf(stdout, "Throughput: %.0f images/s\n", s.ImagesPerSecond())
	if !s.Finite() {
		return fmt.Errorf("the scores were not all finite numbers: %s", s.NonFiniteReport())
	}
	return nil
}
