// Command int8cal calibrates ONNX networks for INT8 and runs them, after
// TensorRT's sampleINT8. Run `int8cal help` for the subcommands.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/int8cal/int8cal/core/pluginhost"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "the sample: score the model on MNIST in FP32 and report Top-1/Top-5 and speed", runCommand},
		{"eval", "score a model on a data split and print Top-1/Top-5 and throughput", evalCommand},
		{"calibrate", "calibrate a model with a calibrator plugin and write a TensorRT calibration cache", calibrateCommand},
		{"merge", "merge the statistics files of a calibration's shards (calibrate --shard) and write its table", mergeCommand},
		{"plugins", "list the plugins found, with their versions and options", pluginsCommand},
		{"compare", "calibrate with several calibrators and compare their INT8 accuracy in one table", compareCommand},
		{"debug", "compare FP32 and INT8 layer by layer: SQNR, cosine and abs error of every quantized layer, worst first", debugCommand},
		{"fallback", "find the layers to keep in FP32 so that INT8 loses at most --max-drop of Top-1, and write them for --exclude-file", fallbackCommand},
		{"export", "write a QDQ (explicitly quantized) ONNX model from a model and its calibration cache", exportCommand},
		{"doctor", "report the GPU libraries found (CUDA driver, NVRTC, cuBLASLt, TensorRT) and which backends are usable", doctorCommand},
		{"version", "print the version", func(_ []string, stdout, _ io.Writer) error {
			fmt.Fprintln(stdout, "int8cal", version)
			return nil
		}},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "int8cal: post-training INT8 calibration and inference, after TensorRT's sampleINT8")
	fmt.Fprintln(w, "\nUsage: int8cal <command> [options]    (int8cal <command> --help for options)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}

// errSilent marks an error whose message has already been printed.
var errSilent = errors.New("")

func main() {
	// Plugins run in process groups of their own: on SIGINT or SIGTERM,
	// and before exiting, the host kills them and whatever they started,
	// and removes their socket directory.
	stop := pluginhost.HandleSignals()
	code := runMain(os.Args[1:], os.Stdout, os.Stderr)
	stop()
	pluginhost.Shutdown()
	os.Exit(code)
}

func runMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, errHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		case errors.Is(err, errSilent):
			return 1
		}
		fmt.Fprintf(stderr, "int8cal %s: %s\n", c.name, oneLine(err.Error()))
		return 1
	}
	fmt.Fprintf(stderr, "int8cal: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

// oneLine keeps multi-line errors (a list of unsupported nodes) readable
// in a log by indenting continuation lines.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }
