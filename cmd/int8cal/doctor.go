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

// doctorJSON is doctor's --format json: each library probe and each
// backend, the values the text prints.
type doctorJSON struct {
	Driver libraryJSON `json:"cuda_driver"`
	// KernelDriver is the kernel module's version, when known.
	KernelDriver string      `json:"kernel_driver,omitempty"`
	GPUError     string      `json:"gpu_error,omitempty"`
	GPUs         []gpuJSON   `json:"gpus"`
	NVRTC        libraryJSON `json:"nvrtc"`
	CublasLt     libraryJSON `json:"cublaslt"`
	TensorRT     libraryJSON `json:"tensorrt"`
	// TensorRTSupported is the TensorRT versions int8cal drives.
	TensorRTSupported string          `json:"tensorrt_supported"`
	Backends          []backendStatus `json:"backends"`
}

// libraryJSON is one library probe: where it was found and its version,
// or the error saying every place searched.
type libraryJSON struct {
	Found   bool   `json:"found"`
	Path    string `json:"path,omitempty"`
	Version string `json:"version,omitempty"`
	Error   string `json:"error,omitempty"`
}

type gpuJSON struct {
	Ordinal           int    `json:"ordinal"`
	Name              string `json:"name,omitempty"`
	ComputeCapability string `json:"compute_capability,omitempty"`
	SMs               int    `json:"sms,omitempty"`
	MemoryBytes       uint64 `json:"memory_bytes,omitempty"`
	Error             string `json:"error,omitempty"`
}

// backendStatus says whether a backend is usable here: Detail what it
// runs on when it is, Why not when it is not.
type backendStatus struct {
	Name   string `json:"name"`
	Usable bool   `json:"usable"`
	Detail string `json:"detail,omitempty"`
	Why    string `json:"why,omitempty"`
}

func newLibraryJSON(file, version string, err error) libraryJSON {
	if err != nil {
		return libraryJSON{Error: oneLine(err.Error())}
	}
	return libraryJSON{Found: true, Path: file, Version: version}
}

func doctorCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("doctor", doctorSynopsis)
	var b backendFlags
	b.registerLibraries(fs)
	format := fs.String("format", "text", formatUsage)
	if err := parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	c := cuda.Probe(b.libs)
	t := trt.Probe(b.trt.Lib)
	backends := checkBackends(&b, c, t)
	if *format == "json" {
		d := doctorJSON{Driver: newLibraryJSON(c.Driver.File, c.Driver.Version, c.Driver.Err), KernelDriver: c.KernelDriver,
			GPUs: []gpuJSON{}, NVRTC: newLibraryJSON(c.NVRTC.File, c.NVRTC.Version, c.NVRTC.Err),
			CublasLt: newLibraryJSON(c.CublasLt.File, c.CublasLt.Version, c.CublasLt.Err),
			TensorRT: newLibraryJSON(t.File, t.Version, t.Err), TensorRTSupported: trt.Supported, Backends: backends}
		if c.InitErr != nil {
			d.GPUError = oneLine(c.InitErr.Error())
		}
		for i, g := range c.GPUs {
			if g.Err != nil {
				d.GPUs = append(d.GPUs, gpuJSON{Ordinal: i, Error: oneLine(g.Err.Error())})
				continue
			}
			d.GPUs = append(d.GPUs, gpuJSON{Ordinal: i, Name: g.Info.Name, ComputeCapability: fmt.Sprintf("%d.%d", g.Info.Major, g.Info.Minor), SMs: g.Info.SMs, MemoryBytes: g.Info.Memory})
		}
		return writeJSON(stdout, d)
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
	if t.Err != nil {
		row("TensorRT", "%s", oneLine(t.Err.Error()))
	} else {
		row("TensorRT", "%s, version %s (supported: %s)", t.File, t.Version, trt.Supported)
	}
	fmt.Fprintln(stdout)
	for _, s := range backends {
		if s.Usable {
			fmt.Fprintf(stdout, "backend %-9s usable: %s\n", s.Name, s.Detail)
		} else {
			fmt.Fprintf(stdout, "backend %-9s not usable: %s\n", s.Name, s.Why)
		}
	}
	return nil
}

// checkBackends says which backends are usable, opening those whose
// libraries the probes found: the proof a backend runs here.
func checkBackends(b *backendFlags, c *cuda.Report, t *trt.Report) []backendStatus {
	out := []backendStatus{{Name: "cpu", Usable: true, Detail: fmt.Sprintf("pure Go, %d cores (%s/%s)", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)}}
	status := func(name, detail, why string) {
		if why != "" {
			out = append(out, backendStatus{Name: name, Why: oneLine(why)})
		} else {
			out = append(out, backendStatus{Name: name, Usable: true, Detail: detail})
		}
	}
	cudaWhy, cudaDetail := c.Why, ""
	if cudaWhy == "" {
		// Everything was found: opening the backend compiles the kernels
		// for the GPU and creates a cuBLASLt handle.
		if dev, err := cuda.Check(b.libs, b.device); err != nil {
			cudaWhy = err.Error()
		} else {
			cudaDetail = fmt.Sprintf("GPU %d, %s (sm_%d%d), kernels compiled", b.device, dev.Name, dev.Major, dev.Minor)
		}
	}
	status("cuda", cudaDetail, cudaWhy)
	trtWhy, trtDetail := "", ""
	switch {
	case t.Err != nil:
		trtWhy = "no TensorRT library"
	case t.Unsupported != nil:
		trtWhy = t.Unsupported.Error()
	default:
		// The library is supported: opening the backend opens its ONNX
		// parser and a CUDA context.
		if version, precisions, err := trt.Check(trt.Options{Lib: b.trt.Lib, CUDALib: b.libs.Driver, Device: b.device}); err != nil {
			trtWhy = err.Error()
		} else {
			trtDetail = fmt.Sprintf("TensorRT %s on GPU %d (%s); %s", version, b.device, precisions, trt.Checked)
		}
	}
	status("tensorrt", trtDetail, trtWhy)
	return out
}
