package session

import (
	"fmt"
	"time"

	"github.com/int8cal/int8cal/core/tensor"
)

// Source is labelled data of one sample shape.
type Source interface {
	Len() int
	SampleShape() []int
	// Read writes samples [first, first+n) into images (n×SampleShape,
	// row-major) and their class indices into labels.
	Read(first, n int, images []float32, labels []int) error
}

// Runner runs the model on named inputs; *engine.Engine is one.
type Runner interface {
	Run(inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error)
}

// ScoreConfig chooses the batches scored, as the sample's batch=, start=
// and score= options do.
type ScoreConfig struct {
	Batch   int // images per batch
	Start   int // first batch scored (batches before it are skipped)
	Batches int // number of batches scored
	Input   string
	Output  string
	// Progress, when set, is called after each batch.
	Progress func(batchesDone int)
}

// Score is the outcome of a scoring pass.
type Score struct {
	Images     int
	Top1, Top5 float64
	// Compute is the time spent inside the model runs, without loading
	// data; the sample's ms/image and ms/batch come from it.
	Compute time.Duration
	Batches int
	Batch   int
}

// MsPerImage returns the average inference time per image in milliseconds.
func (s *Score) MsPerImage() float64 {
	return float64(s.Compute.Nanoseconds()) / 1e6 / float64(s.Images)
}

// MsPerBatch returns the average inference time per batch in milliseconds.
func (s *Score) MsPerBatch() float64 {
	return float64(s.Compute.Nanoseconds()) / 1e6 / float64(s.Batches)
}

// ImagesPerSecond is the throughput of the model runs.
func (s *Score) ImagesPerSecond() float64 { return float64(s.Images) / s.Compute.Seconds() }

// CheckRange verifies that the data set holds the batches cfg asks for.
func CheckRange(cfg ScoreConfig, available int) error {
	if cfg.Batch <= 0 || cfg.Batches <= 0 || cfg.Start < 0 {
		return fmt.Errorf("batch size (%d) and batch count (%d) must be positive and the start batch (%d) not negative", cfg.Batch, cfg.Batches, cfg.Start)
	}
	need := (cfg.Start + cfg.Batches) * cfg.Batch
	if need > available {
		return fmt.Errorf("scoring %d batches of %d from batch %d needs %d samples; the data set has %d (lower score= or start=)", cfg.Batches, cfg.Batch, cfg.Start, need, available)
	}
	return nil
}

// Evaluate scores the model on the configured batches of src.
func Evaluate(r Runner, src Source, cfg ScoreConfig) (*Score, error) {
	if err := CheckRange(cfg, src.Len()); err != nil {
		return nil, err
	}
	shape := append([]int{cfg.Batch}, src.SampleShape()...)
	images := make([]float32, tensor.NumElements(shape))
	labels := make([]int, cfg.Batch)
	input := tensor.FromFloat32(images, shape...)
	s := &Score{Batch: cfg.Batch}
	var hits1, hits5 int
	for b := 0; b < cfg.Batches; b++ {
		first := (cfg.Start + b) * cfg.Batch
		if err := src.Read(first, cfg.Batch, images, labels); err != nil {
			return nil, err
		}
		began := time.Now()
		out, err := r.Run(map[string]*tensor.Tensor{cfg.Input: input})
		s.Compute += time.Since(began)
		if err != nil {
			return nil, err
		}
		scores, ok := out[cfg.Output]
		if !ok {
			return nil, fmt.Errorf("the model has no output %q", cfg.Output)
		}
		h1, h5, err := topK(scores, labels)
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", cfg.Output, err)
		}
		hits1 += h1
		hits5 += h5
		s.Batches++
		s.Images += cfg.Batch
		if cfg.Progress != nil {
			cfg.Progress(s.Batches)
		}
	}
	s.Top1 = float64(hits1) / float64(s.Images)
	s.Top5 = float64(hits5) / float64(s.Images)
	return s, nil
}

// topK counts the images whose label is within the best 1 and 5 scores.
// As in sampleINT8, a label's rank is the number of classes scored strictly
// higher, so ties go in the label's favour.
func topK(scores *tensor.Tensor, labels []int) (top1, top5 int, err error) {
	n := len(labels)
	if scores.Len()%n != 0 || len(scores.Shape) == 0 || scores.Shape[0] != n {
		return 0, 0, fmt.Errorf("shape %s does not hold one score vector per image of the batch of %d", tensor.ShapeString(scores.Shape), n)
	}
	classes := scores.Len() / n
	for i, label := range labels {
		if label < 0 || label >= classes {
			return 0, 0, fmt.Errorf("label %d of image %d is outside the %d classes", label, i, classes)
		}
		row := scores.F32[i*classes : (i+1)*classes]
		rank := 0
		for _, v := range row {
			if v > row[label] {
				rank++
			}
		}
		if rank < 1 {
			top1++
		}
		if rank < 5 {
			top5++
		}
	}
	return top1, top5, nil
}
