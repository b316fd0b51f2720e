package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/calibrate"
	"github.com/int8cal/int8cal/core/cuda"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/core/tensor"
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
	fs.StringVar(&b.name, "backend", "cpu", "where the model runs: cpu (pure Go, anywhere), cuda (an NVIDIA GPU through the CUDA driver, NVRTC and cuBLASLt) or tensorrt (an engine built by TensorRT 8.6, 10.x or 11.x; fp32, fp16, and int8 from the calibration cache on 8.6 and 10.x)")
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
		return nil
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

// newTensorRT builds a TensorRT engine from the model file for --backend
// tensorrt, opening TensorRT and the CUDA driver the first time.
func (b *backendFlags) newTensorRT(opts engine.Options, spec runSpec, log hclog.Logger) (runner, error) {
	var p trt.Precision
	switch opts.Precision {
	case engine.FP32:
		p = trt.FP32
	case engine.FP16:
		p = trt.FP16
	case engine.INT8:
		p = trt.INT8
		if spec.int8Cache == "" {
			return nil, fmt.Errorf("--backend tensorrt: INT8 needs the calibration cache of a calibration step (--calibrator NAME, --cache PATH), which did not run")
		}
	default:
		return nil, fmt.Errorf("--backend tensorrt: precision %s is not supported", opts.Precision)
	}
	if b.trt == nil {
		t, err := trt.Open(trt.Options{Lib: b.trtLib, CUDALib: b.libs.Driver, Device: b.device, Log: log})
		if err != nil {
			return nil, fmt.Errorf("--backend tensorrt: %s; usable here: %s (see int8cal doctor)", oneLine(err.Error()), b.usable())
		}
		log.Info("tensorrt backend", "version", t.Version(), "lib", t.TRT.Lib.File())
		b.trt = t
	}
	model, err := os.ReadFile(b.model)
	if err != nil {
		return nil, fmt.Errorf("--backend tensorrt: %w", err)
	}
	bo := trt.BuildOptions{Precision: p, Batch: spec.batch, DLACore: b.dla.Core()}
	if p == trt.FP32 && bo.DLACore >= 0 {
		// DLA has no FP32, and the commands build an FP32 engine first
		// (the reference): that one runs on the GPU.
		log.Warn("--useDLACore: DLA runs fp16 and int8 only; the fp32 engine is built for the GPU", "dla_core", bo.DLACore)
		bo.DLACore = -1
	}
	if p == trt.INT8 {
		if b.trt.ABI.Major >= 11 {
			return nil, fmt.Errorf("--backend tensorrt: INT8 from a calibration cache needs implicit INT8 (IInt8Calibrator), which TensorRT %s removed; write a Q/DQ model with `int8cal export` and build that, or use TensorRT 8.6 or 10.x", b.trt.Version())
		}
		table, err := os.ReadFile(spec.int8Cache)
		if err != nil {
			return nil, fmt.Errorf("--backend tensorrt: INT8: %w", err)
		}
		cal, err := trt.NewCacheCalibrator(table, spec.int8Cache)
		if err != nil {
			return nil, fmt.Errorf("--backend tensorrt: %w", err)
		}
		bo.Calibrator = cal
		log.Info("tensorrt int8 from the calibration cache", "cache", spec.int8Cache, "algorithm", cal.Algorithm())
	}
	e, err := b.trt.Build(model, bo)
	if err != nil {
		return nil, fmt.Errorf("--backend tensorrt: building %s: %w", b.model, err)
	}
	return trtRunner{e}, nil
}

// trtRunner is a TensorRT engine as a runner: it runs the model, but
// cannot show the intermediate tensors calibration observes.
type trtRunner struct{ *trt.Engine }

func (trtRunner) RunObserved(map[string]*tensor.Tensor, func(string, *tensor.Tensor)) (map[string]*tensor.Tensor, error) {
	return nil, fmt.Errorf("--backend tensorrt cannot show a model's intermediate tensors: calibrate with --backend cpu or cuda")
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
