package sdk_test

import (
	"context"
	"fmt"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/plugins/sdk/calibratortest"
)

// halfMax is a toy calibrator: amax is half the largest magnitude.
type halfMax struct{}

func (halfMax) Info() calib.Info {
	return calib.Info{Name: "halfmax", Version: "0.1.0", Algorithm: "HalfMax", Statistics: calib.MinMax}
}

func (halfMax) Configure(opts map[string]string) error {
	for k := range opts {
		return fmt.Errorf("unknown option %q", k)
	}
	return nil
}

func (halfMax) Calibrate(_ context.Context, ts []calib.TensorStats) ([]calib.Range, error) {
	out := make([]calib.Range, len(ts))
	for i, t := range ts {
		out[i] = calib.Range{Name: t.Name, Amax: t.MaxAbs() / 2}
	}
	return out, nil
}

// A plugin's main is one line, `sdk.Serve(halfMax{})`; here the calibrator
// is called directly on statistics built the way the host builds them.
func Example() {
	c := halfMax{}
	stats := calibratortest.Summarize("conv1", []float32{-3, 1, 2}, c.Info())
	ranges, _ := c.Calibrate(context.Background(), []calib.TensorStats{stats})
	fmt.Println(ranges[0].Name, ranges[0].Amax)
	// Output: conv1 1.5
}
