package aciq

import (
	"context"
	"errors"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
)

// Version is the calibrator's version, reported in its Info.
const Version = "1.0.0"

// Calibrator is ACIQ as a calib.Calibrator: it asks the host for a
// 2048-bin histogram of |x| per tensor and uses its min and max to tell
// one-sided tensors.
type Calibrator struct{ opts Options }

// NewCalibrator returns the calibrator with the Laplace prior.
func NewCalibrator() *Calibrator { return &Calibrator{} }

var options = []calib.Option{
	{Name: "prior", Default: string(Laplace), Description: "distribution fitted to each tensor: laplace (amax 9.89·mean|x|) or gauss (amax 3.92·rms(x))"},
}

// Info describes the calibrator.
func (*Calibrator) Info() calib.Info {
	return calib.Info{
		Name: "aciq", Version: Version, Algorithm: "ACIQCalibration",
		Description: "ACIQ (Banner et al., NeurIPS 2019): the MSE-optimal clipping of a Laplace or Gaussian prior fitted to |x|",
		Statistics:  calib.AbsHistogram, Bins: histogram.DefaultBins, Options: options,
	}
}

// Configure resets to the defaults, then applies options.
func (c *Calibrator) Configure(opts map[string]string) error {
	var o Options
	err := calib.ParseOptions("aciq", options, opts, func(_, v string) error {
		if p := Prior(v); p != Laplace && p != Gauss {
			return errors.New("want laplace or gauss")
		}
		o.Prior = Prior(v)
		return nil
	})
	if err != nil {
		return err
	}
	c.opts = o
	return nil
}

// Calibrate fits the prior to each tensor's histogram.
func (c *Calibrator) Calibrate(ctx context.Context, tensors []calib.TensorStats) ([]calib.Range, error) {
	return calib.ForEachHistogram(ctx, "aciq", tensors, func(t *calib.TensorStats) (calib.Range, error) {
		amax, _, err := AmaxFromBins(t.Histogram.Counts, t.Histogram.BinWidth(), t.MaxAbs(), t.Min >= 0 || t.Max <= 0, c.opts)
		return calib.Range{Amax: amax}, err
	})
}
