// Command int8cal-calibrator-entropy serves the entropy (EntropyCalibration v1) calibrator
// (github.com/int8cal/int8cal/calib/entropy) as an int8cal plugin.
package main

import (
	"github.com/int8cal/int8cal/calib/entropy"
	"github.com/int8cal/int8cal/plugins/sdk"
)

func main() { sdk.Serve(entropy.NewCalibrator()) }
