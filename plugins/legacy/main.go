// Command int8cal-calibrator-legacy serves the legacy calibrator
// (github.com/int8cal/int8cal/calib/legacy) as an int8cal plugin.
package main

import (
	"github.com/int8cal/int8cal/calib/legacy"
	"github.com/int8cal/int8cal/plugins/sdk"
)

func main() { sdk.Serve(legacy.NewCalibrator()) }
