package legacy

import (
	"context"
	"strconv"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
)

// Version is the calibrator's version, reported in its Info.
const Version = "1.0.0"

// Calibrator is the legacy calibrator as a calib.Calibrator. Its defaults
// are TensorRT's BERT demo settings (quantile 0.9999, regression_cutoff 1:
// the 99.99th percentile of |x|), the only published setting documented to
// calibrate well; Polygraphy's 0.5/0.5 is one option away.
type Calibrator struct{ opts Options }

// NewCalibrator returns the calibrator with the BERT demo settings.
func NewCalibrator() *Calibrator { return &Calibrator{opts: BERTDemo} }

var options = []calib.Option{
	{Name: "quantile", Default: strconv.FormatFloat(BERTDemo.Quantile, 'g', -1, 64), Description: "quantile of |x| taken as the range (getQuantile), in [0,1]"},
	{Name: "regression_cutoff", Default: strconv.FormatFloat(BERTDemo.RegressionCutoff, 'g', -1, 64), Description: "fraction of max |x| bounding the tail regression (getRegressionCutoff), in [0,1]; 1 uses the quantile alone"},
}

// Info describes the calibrator.
func (*Calibrator) Info() calib.Info {
	return calib.Info{
		Name: "legacy", Version: Version, Algorithm: "LegacyCalibration",
		Description: "TensorRT's legacy calibrator interface: a quantile of |x|, or a regression over the tail of its distribution (algorithm in the package doc)",
		Statistics:  calib.AbsHistogram, Bins: histogram.DefaultBins, Options: options,
	}
}

// Configure resets to the defaults, then applies options.
func (c *Calibrator) Configure(opts map[string]string) error {
	o := BERTDemo
	err := calib.ParseOptions("legacy", options, opts, func(name, v string) error {
		f, err := calib.ParseUnit(v)
		if name == "quantile" {
			o.Quantile = f
		} else {
			o.RegressionCutoff = f
		}
		return err
	})
	if err != nil {
		return err
	}
	c.opts = o
	return nil
}

// Calibrate estimates each tensor's range from its histogram.
func (c *Calibrator) Calibrate(ctx context.Context, tensors []calib.TensorStats) ([]calib.Range, error) {
	return calib.ForEachHistogram(ctx, "legacy", tensors, func(t *calib.TensorStats) (calib.Range, error) {
		amax, _, err := AmaxFromBins(t.Histogram.Counts, t.Histogram.BinWidth(), t.MaxAbs(), c.opts)
		return calib.Range{Amax: amax}, err
	})
}
