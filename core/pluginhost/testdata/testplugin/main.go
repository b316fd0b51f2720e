// Command testplugin is a calibrator plugin for the host's tests. Its
// behaviour is fixed at build time with -ldflags "-X main.mode=...":
//
//	ok     answers amax = max|x|, logs one line per Calibrate
//	crash  exits with status 3 in the middle of Calibrate
//	hang   never answers Calibrate
//	badamax  answers NaN
//	v2     serves only protocol version 2 (a plugin from the future)
package main

import (
	"context"
	"math"
	"os"

	"github.com/hashicorp/go-plugin"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/internal/calibratorrpc"
	"github.com/int8cal/int8cal/plugins/sdk"
)

var mode = "ok"

type cal struct{}

func (cal) Info() calib.Info {
	return calib.Info{Name: "test-" + mode, Version: "0.0.1", Algorithm: "MinMaxCalibration", Statistics: calib.MinMax,
		Options: []calib.Option{{Name: "scale", Default: "1", Description: "multiplies amax"}}}
}

func (cal) Configure(opts map[string]string) error { return nil }

func (cal) Calibrate(ctx context.Context, stats []calib.TensorStats) ([]calib.Range, error) {
	sdk.Logger("test-"+mode).Info("calibrating", "tensors", len(stats))
	switch mode {
	case "crash":
		os.Exit(3)
	case "hang":
		<-make(chan struct{})
	}
	out := make([]calib.Range, len(stats))
	for i, s := range stats {
		out[i] = calib.Range{Name: s.Name, Amax: s.MaxAbs()}
		if mode == "badamax" {
			out[i].Amax = float32(math.NaN())
		}
	}
	return out, nil
}

func main() {
	if mode != "v2" {
		sdk.Serve(cal{})
		return
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  calibratorrpc.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{2: {calibratorrpc.PluginName: &calibratorrpc.Plugin{Impl: cal{}}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}
