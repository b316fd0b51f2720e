// Command int8cal-calibrator-aciq serves the aciq calibrator
// (github.com/int8cal/int8cal/calib/aciq) as an int8cal plugin.
package main

import (
	"github.com/int8cal/int8cal/calib/aciq"
	"github.com/int8cal/int8cal/plugins/sdk"
)

func main() { sdk.Serve(aciq.NewCalibrator()) }
