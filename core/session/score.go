package session

import (
	"fmt"
	"math"
	"time"

	"github.com/int8cal/int8cal/core/graph"
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

// Planner is a Runner that can make its plan for a batch's shapes before
// running it (the CPU and GPU engines: lowering, tactic timing, weights
// packed), which its first Run would otherwise do inside the timed
// region. Evaluate has the plan made before it starts the clock, as
// TensorRT's sample builds its engine before it times inference.
type Planner interface {
	MakePlan(inputs map[string]*tensor.Tensor) error
}

// Stager is a Planner whose plan stages its inputs in buffers of its own
// (the GPU engine: page-locked memory the device copies from). Evaluate
// has the data read straight into them (Feed.ReadInto), so that Run
// copies nothing on the host: one copy of every batch fewer.
type Stager interface {
	Planner
	// InputBuffer returns the staging buffer of float32 input name of
	// the last plan made, nil when there is none.
	InputBuffer(name string) []float32
}

// ScoreConfig chooses the batches scored, as the sample's batch=, start=
// and score= options do.
type ScoreConfig struct {
	Batch   int // images per batch
	Start   int // first batch scored (batches before it are skipped)
	Batches int // number of batches scored
	// Inputs are the model's inputs, which the data is matched with
	// (NewFeed); without, a Source's float32 samples feed the input named
	// Input.
	Inputs []graph.Value
	Input  string
	Output string
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
	// Output is the output tensor scored.
	Output string
	// NonFinite counts the NaN and infinite scores seen; the images they
	// belong to may have counted as wrong (see [Evaluate]).
	NonFinite NonFinite
}

// NonFinite counts the NaN and infinite values of the scored output.
type NonFinite struct {
	Values int // NaN and ±Inf scores
	Images int // images with at least one
	// FirstBatch is the data set's batch number (counted from the first
	// sample, as ScoreConfig.Start) of the first batch that had one.
	FirstBatch int
}

// Finite reports whether every score of the pass was a finite number. A
// pass that was not is not a result to compare or to pass.
func (s *Score) Finite() bool { return s.NonFinite.Values == 0 }

// NonFiniteReport says, for a pass whose scores were not all finite, what
// was seen and where; it is empty for a finite pass.
func (s *Score) NonFiniteReport() string {
	if s.Finite() {
		return ""
	}
	n := s.NonFinite
	return fmt.Sprintf("output %q held %d NaN or infinite values in %d of the %d images scored (first in batch %d); an image whose label score is not finite, or whose scores hold a NaN, counted as wrong",
		s.Output, n.Values, n.Images, s.Images, n.FirstBatch)
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

// Evaluate scores the model on the configured batches of src. Samples must
// be finite (an error names the sample otherwise). A non-finite score is
// never a correct answer: an image whose label score is NaN or ±Inf, or
// whose scores hold a NaN, counts as wrong for Top-1 and Top-5, and the
// Score counts them (Score.NonFinite).
func Evaluate(r Runner, src Source, cfg ScoreConfig) (*Score, error) {
	if err := CheckRange(cfg, src.Len()); err != nil {
		return nil, err
	}
	model := cfg.Inputs
	if len(model) == 0 {
		model = []graph.Value{{Name: cfg.Input, DType: tensor.Float32}}
	}
	feed, err := NewFeed(src, model, cfg.Batch)
	if err != nil {
		return nil, err
	}
	if pl, ok := r.(Planner); ok {
		// The shapes are the feed's; the values do not matter yet.
		if err := pl.MakePlan(feed.Inputs()); err != nil {
			return nil, err
		}
		if st, ok := r.(Stager); ok {
			for name := range feed.Inputs() {
				if buf := st.InputBuffer(name); buf != nil {
					feed.ReadInto(name, buf)
				}
			}
		}
	}
	labels := make([]int, cfg.Batch)
	s := &Score{Batch: cfg.Batch, Output: cfg.Output}
	var hits1, hits5 int
	for b := 0; b < cfg.Batches; b++ {
		first := (cfg.Start + b) * cfg.Batch
		inputs, err := feed.Read(first, labels)
		if err != nil {
			return nil, err
		}
		began := time.Now()
		out, err := r.Run(inputs)
		s.Compute += time.Since(began)
		if err != nil {
			return nil, err
		}
		scores, ok := out[cfg.Output]
		if !ok {
			return nil, fmt.Errorf("the model has no output %q", cfg.Output)
		}
		k, err := topK(scores, labels)
		if err != nil {
			return nil, fmt.Errorf("output %q, batch %d (samples %d to %d): %w", cfg.Output, cfg.Start+b, first, first+cfg.Batch-1, err)
		}
		hits1 += k.top1
		hits5 += k.top5
		if k.nonFinite.Values > 0 {
			if s.NonFinite.Values == 0 {
				s.NonFinite.FirstBatch = cfg.Start + b
			}
			s.NonFinite.Values += k.nonFinite.Values
			s.NonFinite.Images += k.nonFinite.Images
		}
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

// ranks is one batch's outcome: images whose label is within the best 1
// and 5 scores, and the non-finite scores seen.
type ranks struct {
	top1, top5 int
	nonFinite  NonFinite
}

// topK ranks each image's label among its scores. As in sampleINT8, a
// label's rank is the number of classes scored strictly higher, so ties go
// in the label's favour. A comparison with NaN is false, so without a check
// a NaN row would rank its label first: an image whose label score is not
// finite, or whose scores hold a NaN, is wrong instead. An infinite score of
// another class ranks as the number it is.
func topK(scores *tensor.Tensor, labels []int) (ranks, error) {
	var k ranks
	n := len(labels)
	if scores.Len()%n != 0 || len(scores.Shape) == 0 || scores.Shape[0] != n {
		return k, fmt.Errorf("shape %s does not hold one score vector per image of the batch of %d", tensor.ShapeString(scores.Shape), n)
	}
	classes := scores.Len() / n
	for i, label := range labels {
		if label < 0 || label >= classes {
			return k, &LabelError{Image: i, Label: label, Classes: classes}
		}
		row := scores.F32[i*classes : (i+1)*classes]
		bad, nan := 0, false
		for _, v := range row {
			if math.IsNaN(float64(v)) {
				bad, nan = bad+1, true
			} else if math.IsInf(float64(v), 0) {
				bad++
			}
		}
		if bad > 0 {
			k.nonFinite.Values += bad
			k.nonFinite.Images++
		}
		if nan || math.IsInf(float64(row[label]), 0) {
			continue
		}
		rank := 0
		for _, v := range row {
			if v > row[label] {
				rank++
			}
		}
		if rank < 1 {
			k.top1++
		}
		if rank < 5 {
			k.top5++
		}
	}
	return k, nil
}

// LabelError is a label outside the classes of the output scored: the
// data set's labels and the model do not belong together.
type LabelError struct {
	Image   int // in the batch
	Label   int
	Classes int
}

func (e *LabelError) Error() string {
	return fmt.Sprintf("the label of image %d of the batch is %d, outside the output's %d classes (check the labels of the data set, or the output scored)", e.Image, e.Label, e.Classes)
}

// ReadFinite reads samples [first, first+n) of src and checks that every
// value is a finite number: NaN or ±Inf in the data would otherwise pass
// through the network and be blamed on it. The error names the sample and
// the element.
// A source that checks its own samples (a FiniteChecker) is read without
// scanning them again.
func ReadFinite(src Source, first, n int, images []float32, labels []int) error {
	if err := src.Read(first, n, images, labels); err != nil {
		return err
	}
	if c, ok := src.(FiniteChecker); ok && c.ChecksFinite() {
		return nil
	}
	shape := src.SampleShape()
	return checkFinite(images[:n*tensor.NumElements(shape)], first, shape, "")
}

// checkFinite checks the values of samples from first on, each of shape,
// of the named input ("" for a source's samples).
func checkFinite(values []float32, first int, shape []int, input string) error {
	size := tensor.NumElements(shape)
	for i, v := range values {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return &NonFiniteSampleError{Sample: first + i/size, Input: input, Index: unravel(i%size, shape), Value: v}
		}
	}
	return nil
}

// FiniteChecker is implemented by a Source whose Read already checks that
// its samples are finite (through ReadFinite, naming itself in the error),
// so that each sample is scanned once.
type FiniteChecker interface {
	ChecksFinite() bool
}

// NonFiniteSampleError is a sample holding NaN or ±Inf.
type NonFiniteSampleError struct {
	Sample int    // index in the data set
	Input  string // the input holding it, for a data set of named inputs
	Index  []int  // position in the sample (or its input)
	Value  float32
}

func (e *NonFiniteSampleError) Error() string {
	at := fmt.Sprint(e.Index)
	if e.Input != "" {
		at = fmt.Sprintf("%v of input %q", e.Index, e.Input)
	}
	return fmt.Sprintf("sample %d holds %v at %s; samples must be finite numbers (check the data file or the preprocessing options)", e.Sample, e.Value, at)
}

// unravel turns a row-major offset into an index of shape.
func unravel(offset int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			idx[d] = offset % shape[d]
			offset /= shape[d]
		}
	}
	return idx
}
