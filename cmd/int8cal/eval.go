package main

import (
	"fmt"
	"io"

	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/datasets/mnist"
)

const evalSynopsis = `Scores a model in FP32 on an MNIST split (train or t10k), by default on
every image, and prints Top-1, Top-5 and throughput.`

func evalCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", evalSynopsis)
	var c commonFlags
	c.register(fs)
	batch := fs.Int("batch", 32, "images per batch")
	start := fs.Int("start", 0, "first batch scored")
	score := fs.Int("score", 0, "number of batches scored (default: all that fit)")
	split := fs.String("split", mnist.Test, "MNIST split: train or t10k")
	if err := parse(fs, sampleArgs(args, "batch", "start", "score"), stdout, stderr); err != nil {
		return err
	}
	if err := c.resolve(); err != nil {
		return err
	}
	log := c.logger(stderr)
	src, err := mnist.Open(c.dataDir, *split)
	if err != nil {
		return err
	}
	m, err := openModel(c.model, c.workers, *batch, src.SampleShape(), log)
	if err != nil {
		return err
	}
	cfg := session.ScoreConfig{Batch: *batch, Start: *start, Batches: *score}
	if cfg.Batches == 0 && cfg.Batch > 0 {
		cfg.Batches = src.Len()/cfg.Batch - cfg.Start
	}
	if err := session.CheckRange(cfg, src.Len()); err != nil {
		return err
	}
	s, err := m.score(src, cfg, "FP32", log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "model %s, MNIST %s, FP32: %d batches of size %d starting at %d\n", c.model, *split, s.Batches, s.Batch, cfg.Start)
	printScore(stdout, s)
	fmt.Fprintf(stdout, "Throughput: %.0f images/s\n", s.ImagesPerSecond())
	return nil
}
