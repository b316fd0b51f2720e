// Command int8cal-calibrator-percentile serves the percentile calibrator
// (github.com/int8cal/int8cal/calib/percentile) as an int8cal plugin.
package main

import (
	"github.com/int8cal/int8cal/calib/percentile"
	"github.com/int8cal/int8cal/plugins/sdk"
)

func main() { sdk.Serve(percentile.NewCalibrator()) }
