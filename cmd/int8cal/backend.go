package main

import (
	"flag"
	"fmt"
	"os"

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
}

func (b *backendFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.name, "backend", "cpu", "where the model runs: cpu (pure Go, anywhere), cuda (an NVIDIA GPU through the CUDA driver, NVRTC and cuBLASLt) or tensorrt (an engine built by TensorRT 8.6, 10.x or 11.x; fp32 and fp16)")
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

// newRunner makes an engine for g on the chosen backend.
func (b *backendFlags) newRunner(g *graph.Graph, opts engine.Options, log hclog.Logger) (runner, error) {
	if b.name == "tensorrt" {
		return b.newTensorRT(opts, log)
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
func (b *backendFlags) newTensorRT(opts engine.Options, log hclog.Logger) (runner, error) {
	var p trt.Precision
	switch opts.Precision {
	case engine.FP32:
		p = trt.FP32
	case engine.FP16:
		p = trt.FP16
	default:
		return nil, fmt.Errorf("--backend tensorrt: %s is not supported yet (INT8 with the calibration table's ranges needs per-tensor dynamic ranges, not yet wired); use --backend cpu or cuda for INT8", opts.Precision)
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
	e, err := b.trt.Build(model, trt.BuildOptions{Precision: p, DLACore: -1})
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
