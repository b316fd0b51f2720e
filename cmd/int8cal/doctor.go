package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/cuda"
	trt "github.com/int8cal/int8cal/core/tensorrt"
	"github.com/int8cal/int8cal/loader/cublaslt"
	"github.com/int8cal/int8cal/loader/cudadriver"
	"github.com/int8cal/int8cal/loader/nvrtc"
	"github.com/int8cal/int8cal/loader/tensorrt"
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
	notFound := func(what string, err error) { row(what, "%s", oneLine(err.Error())) }

	var cudaWhy string
	drv, err := cudadriver.Open(b.libs.Driver)
	switch {
	case err != nil:
		notFound("CUDA driver", err)
		cudaWhy = "no CUDA driver"
	default:
		row("CUDA driver", "%s, CUDA %s%s", drv.Lib.File(), cudadriver.VersionString(drv.Version()), kernelDriverVersion())
		cudaWhy = describeGPUs(drv, row)
	}
	if lib, err := nvrtc.Open(b.libs.NVRTC); err != nil {
		notFound("NVRTC", err)
		cudaWhy = firstReason(cudaWhy, "no NVRTC")
	} else {
		major, minor := lib.Version()
		row("NVRTC", "%s, version %d.%d", lib.Lib.File(), major, minor)
	}
	if lib, err := cublaslt.Open(b.libs.CublasLt); err != nil {
		notFound("cuBLASLt", err)
		cudaWhy = firstReason(cudaWhy, "no cuBLASLt")
	} else {
		row("cuBLASLt", "%s, version %s", lib.Lib.File(), cublaslt.VersionString(lib.Version()))
	}
	trtWhy := ""
	if lib, err := tensorrt.Open(b.trtLib); err != nil {
		notFound("TensorRT", err)
		trtWhy = "no TensorRT library"
	} else {
		row("TensorRT", "%s, version %s (supported: %s)", lib.Lib.File(), lib.VersionString(), trt.Supported)
		if err := lib.Supported(); err != nil {
			trtWhy = oneLine(err.Error())
		}
	}

	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "backend cpu       usable: pure Go, %d cores (%s/%s)\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	if cudaWhy == "" {
		// Everything was found: the proof is opening the backend, which
		// compiles the kernels for the GPU and creates a cuBLASLt handle.
		gpu, err := cuda.Open(b.libs, b.device, hclog.NewNullLogger())
		if err != nil {
			cudaWhy = oneLine(err.Error())
		} else {
			fmt.Fprintf(stdout, "backend cuda      usable: GPU %d, %s (sm_%d%d), kernels compiled\n", b.device, gpu.Device.Name, gpu.Device.Major, gpu.Device.Minor)
			gpu.Close()
		}
	}
	if cudaWhy != "" {
		fmt.Fprintf(stdout, "backend cuda      not usable: %s\n", cudaWhy)
	}
	if trtWhy == "" {
		// The library is supported: the proof is opening the backend,
		// its ONNX parser and a CUDA context.
		t, err := trt.Open(trt.Options{Lib: b.trtLib, CUDALib: b.libs.Driver, Device: b.device})
		if err != nil {
			trtWhy = oneLine(err.Error())
		} else {
			fmt.Fprintf(stdout, "backend tensorrt  usable: TensorRT %s on GPU %d (%s); %s\n", t.Version(), b.device, t.Precisions(), trt.Checked)
			t.Close()
		}
	}
	if trtWhy != "" {
		fmt.Fprintf(stdout, "backend tensorrt  not usable: %s\n", trtWhy)
	}
	return nil
}

// describeGPUs prints each device and returns why the cuda backend cannot
// use any ("" when it can).
func describeGPUs(drv *cudadriver.Driver, row func(string, string, ...any)) string {
	if err := drv.Init(); err != nil {
		row("GPU", "none: %s", oneLine(err.Error()))
		return "no GPU (" + oneLine(err.Error()) + ")"
	}
	n, err := drv.DeviceCount()
	if err != nil || n == 0 {
		row("GPU", "none found by the driver")
		return "no GPU"
	}
	for i := 0; i < n; i++ {
		dev, err := drv.Device(i)
		if err == nil {
			var info cudadriver.DeviceInfo
			if info, err = drv.Describe(dev); err == nil {
				row(fmt.Sprintf("GPU %d", i), "%s, compute capability %d.%d, %d SMs, %.1f GiB", info.Name, info.Major, info.Minor, info.SMs, float64(info.Memory)/(1<<30))
				continue
			}
		}
		row(fmt.Sprintf("GPU %d", i), "unreadable: %s", oneLine(err.Error()))
	}
	return ""
}

// kernelDriverVersion reads the kernel module's version, which the driver
// API does not report.
func kernelDriverVersion() string {
	b, err := os.ReadFile("/proc/driver/nvidia/version")
	if err != nil {
		return ""
	}
	// "NVRM version: NVIDIA UNIX ... Kernel Module [for x86_64]  580.95.05  <date>"
	for _, w := range strings.Fields(string(b)) {
		if strings.Count(w, ".") >= 1 && strings.Trim(w, "0123456789.") == "" {
			return ", kernel driver " + w
		}
	}
	return ""
}

func firstReason(have, next string) string {
	if have != "" {
		return have
	}
	return next
}
