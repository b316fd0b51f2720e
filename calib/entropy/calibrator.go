package entropy

import (
	"context"
	"strconv"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/entropy2"
	"github.com/int8cal/int8cal/calib/histogram"
)

// Version is the calibrator's version, reported in its Info.
const Version = "1.0.0"

// Calibrator is EntropyCalibration (v1) as a calib.Calibrator: it asks the
// host for a 2048-bin histogram of |x| per tensor, the talk's bin count.
type Calibrator struct{ opts Options }

// NewCalibrator returns the calibrator with the defaults of the package doc.
func NewCalibrator() *Calibrator { return &Calibrator{} }

var options = []calib.Option{
	{Name: "start", Default: strconv.Itoa(DefaultStart), Description: "smallest candidate cut (bins kept)"},
	{Name: "levels", Default: strconv.Itoa(DefaultLevels), Description: "quantized levels the reference is compared with"},
	{Name: "keep_zero_bin", Default: "false", Description: "keep bin 0 as counted, as the talk's pseudocode reads, instead of replacing it by bin 1 (clips ReLU outputs hard)"},
	{Name: "last_minimum", Default: "false", Description: "take the last of equal minima instead of the first"},
}

// Info describes the calibrator. Algorithm is the name TensorRT writes in
// the cache header of IInt8EntropyCalibrator (calibration-anchors.md 1.3).
func (*Calibrator) Info() calib.Info {
	return calib.Info{
		Name: "entropy", Version: Version, Algorithm: "EntropyCalibration",
		Description: "TensorRT's EntropyCalibration (v1) as the GTC 2017 talk publishes it: the cut below the last bin of the |x| histogram minimizing the KL divergence to its 128-level quantization",
		Statistics:  calib.AbsHistogram, Bins: histogram.DefaultBins, Options: options,
	}
}

// Configure resets to the defaults, then applies options.
func (c *Calibrator) Configure(opts map[string]string) error {
	var o entropy2.Options // the same options as EntropyCalibration2's
	if err := calib.ParseOptions("entropy", options, opts, o.Set); err != nil {
		return err
	}
	c.opts = Options(o)
	return nil
}

// Calibrate runs the search on each tensor's histogram; the divergence
// curve and the index of the chosen cut in it travel back as diagnostics.
func (c *Calibrator) Calibrate(ctx context.Context, tensors []calib.TensorStats) ([]calib.Range, error) {
	return calib.ForEachHistogram(ctx, "entropy", tensors, func(t *calib.TensorStats) (calib.Range, error) {
		amax, d, err := AmaxFromBins(t.Histogram.Counts, t.Histogram.BinWidth(), t.MaxAbs(), c.opts)
		return calib.Range{Amax: amax, Curve: d.Divergence, Chosen: d.Best - d.Start}, err
	})
}
