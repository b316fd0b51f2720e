package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/int8cal/int8cal/core/cuda"
	trt "github.com/int8cal/int8cal/core/tensorrt"
)

const doctorSynopsis = `Reports what this machine offers int8cal's backends: the CUDA driver and
its GPUs, NVRTC, cuBLASLt and TensorRT (where each was found, or every place
searched and why it failed, and their versions), then which backends are
usable here and, for those that are not, why. It always exits 0; scripts
read the "backend" lines.`

func doctorCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("doctor", doctorSynopsis)
	var b backendFlags
	b.registerLibraries(fs)
	if err := parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	row := func(what, format string, a ...any) {
		fmt.Fprintf(stdout, "%-13s %s\n", what, fmt.Sprintf(format, a...))
	}
	library := func(what string, l cuda.Library, format string) {
		if l.Err != nil {
			row(what, "%s", oneLine(l.Err.Error()))
			return
		}
		row(what, format, l.File, l.Version)
	}

	c := cuda.Probe(b.libs)
	kernel := ""
	if c.KernelDriver != "" {
		kernel = ", kernel driver " + c.KernelDriver
	}
	library("CUDA driver", c.Driver, "%s, CUDA %s"+kernel)
	switch {
	case c.Driver.Err != nil:
	case c.InitErr != nil:
		row("GPU", "none: %s", oneLine(c.InitErr.Error()))
	case len(c.GPUs) == 0:
		row("GPU", "none found by the driver")
	}
	for i, g := range c.GPUs {
		if g.Err != nil {
			row(fmt.Sprintf("GPU %d", i), "unreadable: %s", oneLine(g.Err.Error()))
			continue
		}
		row(fmt.Sprintf("GPU %d", i), "%s, compute capability %d.%d, %d SMs, %.1f GiB", g.Info.Name, g.Info.Major, g.Info.Minor, g.Info.SMs, float64(g.Info.Memory)/(1<<30))
	}
	library("NVRTC", c.NVRTC, "%s, version %s")
	library("cuBLASLt", c.CublasLt, "%s, version %s")
	t := trt.Probe(b.trt.Lib)
	trtWhy := ""
	if t.Err != nil {
		row("TensorRT", "%s", oneLine(t.Err.Error()))
		trtWhy = "no TensorRT library"
	} else {
		row("TensorRT", "%s, version %s (supported: %s)", t.File, t.Version, trt.Supported)
		if t.Unsupported != nil {
			trtWhy = t.Unsupported.Error()
		}
	}

	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "backend cpu       usable: pure Go, %d cores (%s/%s)\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	cudaWhy := c.Why
	if cudaWhy == "" {
		// Everything was found: the proof is opening the backend, which
		// compiles the kernels for the GPU and creates a cuBLASLt handle.
		if dev, err := cuda.Check(b.libs, b.device); err != nil {
			cudaWhy = err.Error()
		} else {
			fmt.Fprintf(stdout, "backend cuda      usable: GPU %d, %s (sm_%d%d), kernels compiled\n", b.device, dev.Name, dev.Major, dev.Minor)
		}
	}
	if cudaWhy != "" {
		fmt.Fprintf(stdout, "backend cuda      not usable: %s\n", oneLine(cudaWhy))
	}
	if trtWhy == "" {
		// The library is supported: the proof is opening the backend,
		// its ONNX parser and a CUDA context.
		if version, precisions, err := trt.Check(trt.Options{Lib: b.trt.Lib, CUDALib: b.libs.Driver, Device: b.device}); err != nil {
			trtWhy = err.Error()
		} else {
			fmt.Fprintf(stdout, "backend tensorrt  usable: TensorRT %s on GPU %d (%s); %s\n", version, b.device, precisions, trt.Checked)
		}
	}
	if trtWhy != "" {
		fmt.Fprintf(stdout, "backend tensorrt  not usable: %s\n", oneLine(trtWhy))
	}
	return nil
}
