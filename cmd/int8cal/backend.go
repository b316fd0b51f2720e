package main

import (
	"flag"
	"fmt"
	"strconv"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/calibrate"
	"github.com/int8cal/int8cal/core/cuda"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/session"
	trt "github.com/int8cal/int8cal/core/tensorrt"
	"github.com/int8cal/int8cal/loader/cublaslt"
	"github.com/int8cal/int8cal/loader/cudadriver"
	"github.com/int8cal/int8cal/loader/nvrtc"
	"github.com/int8cal/int8cal/loader/tensorrt"
)

// backendFlags choose where models run.
type backendFlags struct {
	name   string
	device int
	libs   cuda.Libraries
	trtLib string
	gpu    *cuda.Backend // opened on first use, shared by the command's engines
	trt    *trt.Backend  // likewise, for --backend tensorrt
	// model is the ONNX file the command runs (set by resolve): TensorRT
	// builds its engine from the file's bytes.
	model string
	// dla is --useDLACore: the DLA core TensorRT builds for, with GPU
	// fallback; its zero value is none.
	dla dlaFlag
	// trtINT8 is --tensorrt-int8, how TensorRT builds INT8 (check fills
	// the default for the version found).
	trtINT8 string
	// trtWorkspaceMiB and trtAvgTiming are the builder's workspace limit
	// and timing iterations (0: TensorRT's defaults).
	trtWorkspaceMiB, trtAvgTiming int
}

// dlaFlag is --useDLACore=N; unset (the zero value) or -1 is none.
type dlaFlag struct {
	core int
	set  bool
}

func (d *dlaFlag) String() string {
	if d == nil || !d.set {
		return "-1"
	}
	return strconv.Itoa(d.core)
}

func (d *dlaFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("want a DLA core number (0, 1, …) or -1 for none")
	}
	d.core, d.set = n, n != -1
	if n < -1 {
		return fmt.Errorf("%d: want a DLA core number (0, 1, …) or -1 for none", n)
	}
	return nil
}

// Core is the DLA core, -1 for none.
func (d dlaFlag) Core() int {
	if !d.set {
		return -1
	}
	return d.core
}

func (b *backendFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.name, "backend", "cpu", "where the model runs: cpu (pure Go, anywhere), cuda (an NVIDIA GPU through the CUDA driver, NVRTC and cuBLASLt) or tensorrt (an engine built by TensorRT 8.6, 10.x or 11.x; fp32, fp16 on 8.6 and 10.x, int8 as --tensorrt-int8 says)")
	fs.IntVar(&b.trtWorkspaceMiB, "tensorrt-workspace", 0, "with --backend tensorrt: the builder's workspace memory pool limit in MiB (default 0: TensorRT's, the device's memory)")
	fs.IntVar(&b.trtAvgTiming, "tensorrt-avg-timing", 0, "with --backend tensorrt: timing iterations averaged per tactic by the builder (default 0: TensorRT's, 1)")
	fs.StringVar(&b.trtINT8, "tensorrt-int8", "", "with --backend tensorrt, how INT8 is built: cache (TensorRT reads the calibration cache of --calibrator; 8.6 and 10.x), qdq (the model with Q/DQ nodes from that cache, as int8cal export writes it; every version), or tensorrt (TensorRT calibrates with its own implementation of --calibrator's algorithm, entropy2, entropy, minmax or legacy, from the calibration data, and writes its table to --cache; 8.6 and 10.x) (default: cache, qdq on 11.x)")
	fs.Var(&b.dla, "useDLACore", "with --backend tensorrt: build for this DLA core (Jetson, DRIVE), with GPU fallback; fp16 and int8 engines only, fp32 ones stay on the GPU (default -1: none)")
	b.registerLibraries(fs)
}

// registerLibraries registers the flags that locate the GPU libraries.
func (b *backendFlags) registerLibraries(fs *flag.FlagSet) {
	fs.IntVar(&b.device, "device", 0, "CUDA device ordinal, for --backend cuda")
	fs.StringVar(&b.libs.Driver, "cuda-lib", "", "path of the CUDA driver library (default: $INT8CAL_CUDA_LIB, then libcuda.so.1 through the system loader)")
	fs.StringVar(&b.libs.NVRTC, "nvrtc-lib", "", "path of NVRTC (default: $INT8CAL_NVRTC_LIB, then libnvrtc.so.13, .so.12)")
	fs.StringVar(&b.libs.CublasLt, "cublaslt-lib", "", "path of cuBLASLt (default: $INT8CAL_CUBLASLT_LIB, then libcublasLt.so.13, .so.12)")
	fs.StringVar(&b.trtLib, "tensorrt-lib", "", "path of libnvinfer (default: $INT8CAL_TENSORRT_LIB, then libnvinfer.so.11, .so.10, .so.8)")
}

func (b *backendFlags) check() error {
	if b.dla.Core() >= 0 && b.name != "tensorrt" {
		return fmt.Errorf("--useDLACore=%d: DLA cores are used only by --backend tensorrt, not --backend %s", b.dla.Core(), b.name)
	}
	if b.trtINT8 != "" && b.name != "tensorrt" {
		return fmt.Errorf("--tensorrt-int8=%s: only --backend tensorrt builds INT8 that way, not --backend %s", b.trtINT8, b.name)
	}
	if b.trtWorkspaceMiB < 0 || b.trtAvgTiming < 0 {
		return fmt.Errorf("--tensorrt-workspace=%d, --tensorrt-avg-timing=%d: want 0 (TensorRT's default) or more", b.trtWorkspaceMiB, b.trtAvgTiming)
	}
	switch b.name {
	case "cpu", "cuda":
		return nil
	case "tensorrt":
		lib, err := tensorrt.Open(b.trtLib)
		if err != nil {
			return fmt.Errorf("--backend tensorrt: %s; usable here: %s (see int8cal doctor)", oneLine(err.Error()), b.usable())
		}
		defer lib.Lib.Close()
		if err := lib.Supported(); err != nil {
			return fmt.Errorf("--backend tensorrt: %s; usable here: %s (see int8cal doctor)", oneLine(err.Error()), b.usable())
		}
		if !lib.Builder {
			return fmt.Errorf("--backend tensorrt: %s exports no createInferBuilder_INTERNAL (a lean or dispatch runtime cannot build engines); give the full libnvinfer with --tensorrt-lib; usable here: %s (see int8cal doctor)", lib.Lib.File(), b.usable())
		}
		return b.checkTensorRTINT8(lib.Major, lib.VersionString())
	}
	return fmt.Errorf("--backend %q unknown; backends: cpu, cuda, tensorrt (usable here: %s)", b.name, b.usable())
}

// usable lists the backends this machine can run: cpu always, cuda where
// the driver finds a GPU and NVRTC and cuBLASLt load.
func (b *backendFlags) usable() string {
	drv, err := cudadriver.Open(b.libs.Driver)
	if err != nil || drv.Init() != nil {
		return "cpu"
	}
	if n, err := drv.DeviceCount(); err != nil || n == 0 {
		return "cpu"
	}
	if _, err := nvrtc.Open(b.libs.NVRTC); err != nil {
		return "cpu"
	}
	if _, err := cublaslt.Open(b.libs.CublasLt); err != nil {
		return "cpu"
	}
	return "cpu, cuda"
}

// runner is what commands need of an engine, whichever the backend.
type runner interface {
	session.Runner
	calibrate.ObservedRunner
}

// runSpec is what a runner is made for, besides the engine options.
type runSpec struct {
	// batch is the command's batch size: TensorRT fixes a dynamic batch
	// dimension to it (min = opt = max).
	batch int
	// observe asks for a runner that shows every tensor (calibration);
	// TensorRT engines cannot, so the CPU engine stands in for them.
	observe bool
	// int8Cache is the calibration cache the calibration step wrote or
	// reused: --backend tensorrt builds INT8 from its ranges.
	int8Cache string
	// tensorrt, with --tensorrt-int8 tensorrt, has TensorRT calibrate
	// while it builds INT8 (instead of int8Cache).
	tensorrt *trtCalibration
}

// newRunner makes an engine for g on the chosen backend.
func (b *backendFlags) newRunner(g *graph.Graph, opts engine.Options, spec runSpec, log hclog.Logger) (runner, error) {
	if b.name == "tensorrt" && !spec.observe {
		return b.newTensorRT(opts, spec, log)
	}
	if b.name != "cuda" {
		return engine.New(g, opts), nil
	}
	if b.gpu == nil {
		gpu, err := cuda.Open(b.libs, b.device, log)
		if err != nil {
			return nil, fmt.Errorf("--backend cuda: %w (the cpu backend is available: --backend cpu; int8cal doctor says what was found)", err)
		}
		log.Info("cuda backend", "device", gpu.Device.Name, "compute_capability", fmt.Sprintf("%d.%d", gpu.Device.Major, gpu.Device.Minor))
		b.gpu = gpu
	}
	return b.gpu.NewEngine(g, opts), nil
}

// release frees an engine's device memory (nothing for the CPU engine).
func release(r runner) {
	if c, ok := r.(interface{ Close() error }); ok {
		c.Close()
	}
}

// close releases the GPU, when one was opened.
func (b *backendFlags) close() {
	if b.trt != nil {
		b.trt.Close()
		b.trt = nil
	}
	if b.gpu != nil {
		b.gpu.Close()
		b.gpu = nil
	}
}
