package pipeline

import (
	"errors"
	"io"
	"time"

	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/internal/progress"
)

// Evaluation says how to score.
type Evaluation struct {
	// Precision is the arithmetic; INT8 needs Calibration.
	Precision   precision.Precision
	Calibration *Calibrated
	// Batch, Start and Batches choose the samples: Batches batches of
	// Batch from batch Start (0 Batches: every whole batch from Start).
	// Input, Output and Progress are the pipeline's.
	session.ScoreConfig
	// Label names the pass in the progress log ("": the precision).
	Label string
}

// Prepare loads the model (Load) for data's batches and checks that data
// holds the batches asked for, before any work; it returns cfg with a 0
// Batches filled in. Evaluate does the same; commands call it first to
// fail before printing anything.
func (p *Pipeline) Prepare(data *Dataset, cfg session.ScoreConfig) (session.ScoreConfig, error) {
	if cfg.Batches == 0 && cfg.Batch > 0 {
		cfg.Batches = data.Len()/cfg.Batch - cfg.Start
	}
	if err := p.Load(cfg.Batch, data); err != nil {
		return cfg, err
	}
	return cfg, session.CheckRange(cfg, data.Len())
}

// Evaluate builds a runner of the model for e's precision on the backend,
// scores the data with it and lets the runner go. When TensorRT
// calibrates (INT8ByTensorRT), building the INT8 runner is the
// calibration, and writes TensorRT's table.
func (p *Pipeline) Evaluate(data *Dataset, e Evaluation) (*session.Score, error) {
	cfg, err := p.Prepare(data, e.ScoreConfig)
	if err != nil {
		return nil, err
	}
	p.checkInput(data, cfg, e.Calibration)
	r, err := p.newRunner(runSpec{precision: e.Precision, batch: cfg.Batch, cal: e.Calibration})
	if err != nil {
		return nil, err
	}
	defer release(r)
	label := e.Label
	if label == "" {
		label = e.Precision.String()
	}
	return p.score(r, data, cfg, label)
}

// score scores data with r.
func (p *Pipeline) score(r runner, data *Dataset, cfg session.ScoreConfig, label string) (*session.Score, error) {
	cfg.Inputs, cfg.Output = p.graph.Inputs, p.graph.Outputs[0].Name
	bar := progress.New(label+" run", cfg.Batches, p.log)
	defer bar.Finish()
	cfg.Progress = func(int) { bar.Add(1) }
	s, err := session.Evaluate(r, data, cfg)
	if le := (*session.LabelError)(nil); errors.As(err, &le) {
		err = data.errorf(err)
	}
	return s, err
}

// Comparison is one calibrator's INT8 result (Compare).
type Comparison struct {
	// Calibrator is the calibrator's spec (Calibrator.String).
	Calibrator string
	Score      *session.Score
	// Calibration is how long calibrating took (when TensorRT calibrates,
	// with the INT8 build, where it happens); Reused says a valid table
	// was reused instead.
	Calibration time.Duration
	Reused      bool
	// Calibrated is the table scored, for a report's thresholds.
	Calibrated *Calibrated
}

// Compare calibrates with each calibrator of cals, each into its own
// table (ComparisonCache; the sample's calibration lines discarded), and
// scores INT8 with each table on data as e says (its precision and
// calibration are Compare's). The caller has checked cals
// (CheckCalibrators).
func (p *Pipeline) Compare(data *Dataset, e Evaluation, c Calibration, cals []Calibrator) ([]Comparison, error) {
	cfg, err := p.Prepare(data, e.ScoreConfig)
	if err != nil {
		return nil, err
	}
	var out []Comparison
	for _, spec := range cals {
		name := spec.String()
		run := c
		run.Calibrator, run.Options, run.Cache = spec.Name, spec.options(c.Options), p.ComparisonCache(c, spec)
		began := time.Now()
		cal, err := p.Calibrate(run, io.Discard)
		if err != nil {
			return nil, err
		}
		took := time.Since(began)
		p.checkInput(data, cfg, cal)
		r, err := p.newRunner(runSpec{precision: precision.INT8, batch: cfg.Batch, cal: cal})
		if err != nil {
			return nil, err
		}
		if cal.tensorrt != nil {
			took = time.Since(began) // TensorRT calibrates while it builds
		}
		s, err := p.score(r, data, cfg, "INT8 "+name)
		release(r)
		if err != nil {
			return nil, err
		}
		out = append(out, Comparison{Calibrator: name, Score: s, Calibration: took, Reused: cal.Reused(), Calibrated: cal})
	}
	return out, nil
}
