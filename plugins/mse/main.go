// Command int8cal-calibrator-mse serves the mse calibrator
// (github.com/int8cal/int8cal/calib/mse) as an int8cal plugin.
package main

import (
	"github.com/int8cal/int8cal/calib/mse"
	"github.com/int8cal/int8cal/plugins/sdk"
)

func main() { sdk.Serve(mse.NewCalibrator()) }
