// Command int8cal-calibrator-minmax serves the minmax calibrator
// (github.com/int8cal/int8cal/calib/minmax) as an int8cal plugin.
package main

import (
	"github.com/int8cal/int8cal/calib/minmax"
	"github.com/int8cal/int8cal/plugins/sdk"
)

func main() { sdk.Serve(minmax.NewCalibrator()) }
