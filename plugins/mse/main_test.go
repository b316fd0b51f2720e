package main

import (
	"testing"

	"github.com/int8cal/int8cal/calib/mse"
	"github.com/int8cal/int8cal/plugins/sdk/calibratortest"
)

func TestConformance(t *testing.T) { calibratortest.Run(t, mse.NewCalibrator()) }
