package pipeline

import (
	"fmt"

	"github.com/int8cal/int8cal/core/session"
)

// Thresholds of the input sanity checks (checkInputRange).
const (
	// rangeFactor is how far the data's max|x| may be from the table's
	// input amax: a factor 4 is 2 of INT8's 8 bits, lost to unused range
	// below it and to saturation above it. A calibrator's clipping keeps
	// an image input's amax within a factor 2 of its max (entropy2 gives
	// MNIST's input 1.0 for a max of 1), while normalization mistakes
	// are 255× (pixels against [0,1]) or ~2.6× ([0,1] against ImageNet's
	// mean/std, too close to clipping to be told apart and not flagged).
	rangeFactor = 4
	// normalizedMax and rawMin tell normalized input (|x| up to ~2.6
	// after mean/std, 1 after /255; below 10 either way) from raw pixels
	// ([0,255], an amax of 25 or more: a tenth of the pixel range).
	normalizedMax = 10
	rawMin        = 25
)

// inputStats are data's per-channel input statistics over batch samples
// from first (the first batch a pass reads), read once per Dataset and
// logged once per data and role, so that every run shows what it fed the
// model. Data of named inputs is not described (nil).
func (p *Pipeline) inputStats(data *Dataset, first, batch int) *session.InputStats {
	if data.stats != nil || len(data.SampleShape()) == 0 {
		return data.stats
	}
	s, err := session.ReadInputStats(data, first, min(batch, data.Len()-first))
	if err != nil {
		// The pass that reads these samples reports the error.
		p.log.Debug("input statistics not read", "role", data.role, "error", err)
		return nil
	}
	data.stats = s
	if p.once("stats " + data.role + " " + data.describe) {
		p.log.Info(data.role+" input statistics", "data", data.describe, "samples", s.Samples, "per_channel", s.String())
	}
	return s
}

// checkInput logs the evaluation data's statistics and, for INT8 from a
// table, warns once when their range disagrees with the range the table
// records for the model's input (inputRangeMismatch).
func (p *Pipeline) checkInput(data *Dataset, cfg session.ScoreConfig, cal *Calibrated) {
	s := p.inputStats(data, cfg.Start*cfg.Batch, cfg.Batch)
	if s == nil || cal == nil || cal.Result == nil {
		return
	}
	input := p.graph.Inputs[0].Name
	for _, e := range cal.Result.Table.Entries {
		if e.Name != input {
			continue
		}
		why := inputRangeMismatch(s, 127*float64(e.Scale))
		if why != "" && p.once("range "+data.describe+" "+cal.Cache) {
			p.log.Warn(why, "input", input, "table", cal.Cache, "data", data.describe)
		}
	}
}

// inputRangeMismatch says why data of statistics s looks wrong for an
// input whose calibration range is ±amax, or "".
func inputRangeMismatch(s *session.InputStats, amax float64) string {
	m := s.MaxAbs()
	switch {
	case s.NonNegative() && m > 2 && m <= 255 && amax < normalizedMax:
		return fmt.Sprintf("the %s data look like raw pixels (values in [0,%.4g]) but the model's input was calibrated on values within ±%.4g: normalize them as the model expects (a data set plugin's scale, mean and std options)", EvaluationRole, m, amax)
	case amax >= rawMin && m < normalizedMax:
		return fmt.Sprintf("the %s data look normalized (max|x| %.4g) but the model's input was calibrated on values up to %.4g, raw pixels perhaps: calibrate on data prepared as the evaluation data", EvaluationRole, m, amax)
	case m > rangeFactor*amax:
		return fmt.Sprintf("the %s data reach |x| = %.4g, more than %d× the input's calibrated range ±%.4g: values beyond it saturate in INT8; were they prepared as the calibration data?", EvaluationRole, m, rangeFactor, amax)
	case m < amax/rangeFactor:
		return fmt.Sprintf("the %s data reach only |x| = %.4g, under 1/%d of the input's calibrated range ±%.4g: INT8 uses few of its levels on them; were they prepared as the calibration data?", EvaluationRole, m, rangeFactor, amax)
	}
	return ""
}

// once says whether key is new to this pipeline, so that what every pass
// would say is said once per run.
func (p *Pipeline) once(key string) bool {
	if p.said == nil {
		p.said = map[string]bool{}
	}
	if p.said[key] {
		return false
	}
	p.said[key] = true
	return true
}
