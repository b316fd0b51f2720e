package main

import (
	"testing"

	"github.com/int8cal/int8cal/calib/percentile"
	"github.com/int8cal/int8cal/plugins/sdk/calibratortest"
)

func TestConformance(t *testing.T) { calibratortest.Run(t, percentile.NewCalibrator()) }
