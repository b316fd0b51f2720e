package minmax

import (
	"context"
	"fmt"

	"github.com/int8cal/int8cal/calib"
)

// Version is the calibrator's version, reported in its Info.
const Version = "1.0.0"

// Calibrator is MinMaxCalibration as a calib.Calibrator: it needs only the
// host's min and max per tensor.
type Calibrator struct{}

// NewCalibrator returns the calibrator.
func NewCalibrator() *Calibrator { return &Calibrator{} }

// Info describes the calibrator.
func (*Calibrator) Info() calib.Info {
	return calib.Info{
		Name: "minmax", Version: Version, Algorithm: "MinMaxCalibration",
		Description: "amax = max |x| over all calibration batches (TensorRT's IInt8MinMaxCalibrator)",
		Statistics:  calib.MinMax,
	}
}

// Configure refuses every option: there are none.
func (c *Calibrator) Configure(options map[string]string) error {
	return calib.ParseOptions("minmax", nil, options, nil)
}

// Calibrate answers max |x| for each tensor.
func (*Calibrator) Calibrate(_ context.Context, tensors []calib.TensorStats) ([]calib.Range, error) {
	out := make([]calib.Range, len(tensors))
	for i, t := range tensors {
		amax, err := AmaxFromMinMax(t.Min, t.Max)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		out[i] = calib.Range{Name: t.Name, Amax: amax}
	}
	return out, nil
}
