// Command testplugin is a calibrator plugin for the host's tests. Its
// behaviour is fixed at build time with -ldflags "-X main.mode=...", or
// else by its file name, int8cal-calibrator-test-<mode> (any other name:
// ok). It calls itself test-<mode>.
//
//	ok       answers amax = max|x|, logs one line per Calibrate
//	crash    exits with status 3 in the middle of Calibrate
//	hang     never answers Calibrate
//	badamax  answers NaN
//	v2       serves only protocol version 2 (a plugin from the future)
//	child    starts `sleep 300` (in its process group) before serving
//	ansi     fails Configure and logs with ANSI escapes and newlines
//	early    writes a few lines to stderr and exits with status 7 before
//	         its handshake
//	badlog   writes JSON log lines whose hclog fields are not strings
//	         (badLogLines) to stderr in Configure, then succeeds
package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-plugin"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/internal/calibratorrpc"
	"github.com/int8cal/int8cal/plugins/sdk"
)

var mode = ""

func init() {
	if mode == "" {
		mode = "ok"
		if m, ok := strings.CutPrefix(filepath.Base(os.Args[0]), "int8cal-calibrator-test-"); ok {
			mode = m
		}
	}
}

type cal struct{}

func (cal) Info() calib.Info {
	return calib.Info{Name: "test-" + mode, Version: "0.0.1", Algorithm: "MinMaxCalibration", Statistics: calib.MinMax,
		Options: []calib.Option{{Name: "scale", Default: "1", Description: "multiplies amax"}}}
}

// ansiText is what the ansi mode puts in its error and log line.
const ansiText = "\x1b[31mred\x1b[0m alert\nsecond line\x07\x1b]0;title\x07 end"

// badLogLines are JSON log lines go-plugin's parser would panic on: an
// hclog field that is not a string (one key spelled with a JSON escape).
var badLogLines = []string{`{"@message":1}`, `{"@level":["warn"]}`, `{"@timestamp":{}}`, `{"\u0040message":null,"@level":"info"}`}

func (cal) Configure(opts map[string]string) error {
	if mode == "badlog" {
		// File descriptor 2 itself: go-plugin's Serve points os.Stderr at
		// its stdio stream, which the host does not parse.
		stderr := os.NewFile(2, "stderr")
		for _, l := range badLogLines {
			fmt.Fprintln(stderr, l)
		}
		return nil
	}
	if mode == "ansi" {
		sdk.Logger("test-"+mode).Warn(ansiText, "detail", ansiText)
		return errors.New(ansiText)
	}
	return nil
}

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
	switch mode {
	case "child":
		if err := exec.Command("sleep", "300").Start(); err != nil {
			panic(err)
		}
	case "early":
		fmt.Fprintln(os.Stderr, "loading weights")
		fmt.Fprintln(os.Stderr, "fatal: \x1b[1mno such file\x1b[0m: /nonexistent")
		os.Exit(7)
	}
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
