package percentile

import (
	"context"
	"errors"
	"strconv"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
)

// Version is the calibrator's version, reported in its Info.
const Version = "1.0.0"

// Calibrator is the percentile method as a calib.Calibrator: it asks the
// host for a 2048-bin histogram of |x| per tensor, the bin count of both
// ONNX Runtime's and pytorch-quantization's percentile calibrators.
type Calibrator struct{ opts Options }

// NewCalibrator returns the calibrator with the default percentile.
func NewCalibrator() *Calibrator { return &Calibrator{} }

var options = []calib.Option{
	{Name: "percentile", Default: strconv.FormatFloat(DefaultPercentile, 'g', -1, 64), Description: "percentile of |x| taken as the range, in (0,100]; 100 is max|x|"},
}

// Info describes the calibrator.
func (*Calibrator) Info() calib.Info {
	return calib.Info{
		Name: "percentile", Version: Version, Algorithm: "PercentileCalibration",
		Description: "a percentile of |x| (99.99 by default), as ONNX Runtime's and pytorch-quantization's percentile calibrators, interpolated inside the crossing bin",
		Statistics:  calib.AbsHistogram, Bins: histogram.DefaultBins, Options: options,
	}
}

// Configure resets to the default, then applies options.
func (c *Calibrator) Configure(opts map[string]string) error {
	var o Options
	err := calib.ParseOptions("percentile", options, opts, func(_, v string) error {
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || !(p > 0 && p <= 100) {
			return errors.New("want a number in (0,100]")
		}
		o.Percentile = p
		return nil
	})
	if err != nil {
		return err
	}
	c.opts = o
	return nil
}

// Calibrate takes the percentile of each tensor's histogram.
func (c *Calibrator) Calibrate(ctx context.Context, tensors []calib.TensorStats) ([]calib.Range, error) {
	return calib.ForEachHistogram(ctx, "percentile", tensors, func(t *calib.TensorStats) (calib.Range, error) {
		amax, err := AmaxFromBins(t.Histogram.Counts, t.Histogram.BinWidth(), t.MaxAbs(), c.opts)
		return calib.Range{Amax: amax}, err
	})
}
