package mse

import (
	"context"
	"errors"
	"strconv"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
)

// Version is the calibrator's version, reported in its Info.
const Version = "1.0.0"

// Calibrator is the MSE search as a calib.Calibrator: it asks the host for
// a 2048-bin histogram of |x| per tensor, pytorch-quantization's bin count.
type Calibrator struct{ opts Options }

// NewCalibrator returns the calibrator with pytorch-quantization's
// settings.
func NewCalibrator() *Calibrator { return &Calibrator{} }

var options = []calib.Option{
	{Name: "start", Default: strconv.Itoa(DefaultStart), Description: "first candidate bin: amax candidates are the bin centers from here up to max|x|"},
}

// Info describes the calibrator.
func (*Calibrator) Info() calib.Info {
	return calib.Info{
		Name: "mse", Version: Version, Algorithm: "MSECalibration",
		Description: "the amax minimizing the INT8 quantization mean squared error over the |x| histogram (bin centers as candidates), as pytorch-quantization's mse method",
		Statistics:  calib.AbsHistogram, Bins: histogram.DefaultBins, Options: options,
	}
}

// Configure resets to the defaults, then applies options.
func (c *Calibrator) Configure(opts map[string]string) error {
	var o Options
	err := calib.ParseOptions("mse", options, opts, func(_, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errors.New("want a positive integer")
		}
		o.Start = n
		return nil
	})
	if err != nil {
		return err
	}
	c.opts = o
	return nil
}

// Calibrate runs the search on each tensor's histogram; the MSE curve and
// the index of the chosen candidate in it travel back as diagnostics.
func (c *Calibrator) Calibrate(ctx context.Context, tensors []calib.TensorStats) ([]calib.Range, error) {
	return calib.ForEachHistogram(ctx, "mse", tensors, func(t *calib.TensorStats) (calib.Range, error) {
		amax, d, err := AmaxFromBins(t.Histogram.Counts, t.Histogram.BinWidth(), t.MaxAbs(), c.opts)
		return calib.Range{Amax: amax, Curve: d.MSE, Chosen: d.Best - d.Start}, err
	})
}
