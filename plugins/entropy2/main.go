// Command int8cal-calibrator-entropy2 serves the entropy2 calibrator
// (github.com/int8cal/int8cal/calib/entropy2) as an int8cal plugin.
package main

import (
	"github.com/int8cal/int8cal/calib/entropy2"
	"github.com/int8cal/int8cal/plugins/sdk"
)

func main() { sdk.Serve(entropy2.NewCalibrator()) }
