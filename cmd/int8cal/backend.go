package main

import (
	"flag"
	"fmt"

	"github.com/int8cal/int8cal/core/cuda"
	"github.com/int8cal/int8cal/core/pipeline"
)

// backendFlags choose where models run.
type backendFlags struct {
	name   string
	device int
	libs   cuda.Libraries
	// dla is --useDLACore: the DLA core TensorRT builds for, with GPU
	// fallback; -1 is none.
	dla int
	// trt are the TensorRT backend's settings but DLA.
	trt pipeline.TensorRTOptions
}

func (b *backendFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.name, "backend", "cpu", "where the model runs: cpu (pure Go, anywhere), cuda (an NVIDIA GPU through the CUDA driver, NVRTC and cuBLASLt) or tensorrt (an engine built by TensorRT 8.6, 10.x or 11.x; fp32, fp16 on 8.6 and 10.x, int8 as --tensorrt-int8 says)")
	fs.IntVar(&b.trt.WorkspaceMiB, "tensorrt-workspace", 0, "with --backend tensorrt: the builder's workspace memory pool limit in MiB (default 0: TensorRT's, the device's memory)")
	fs.IntVar(&b.trt.AvgTimingIterations, "tensorrt-avg-timing", 0, "with --backend tensorrt: timing iterations averaged per tactic by the builder (default 0: TensorRT's, 1)")
	fs.StringVar(&b.trt.INT8, "tensorrt-int8", "", "with --backend tensorrt, how INT8 is built: cache (TensorRT reads the calibration cache of --calibrator; 8.6 and 10.x), qdq (the model with Q/DQ nodes from that cache, as int8cal export writes it; every version), or tensorrt (TensorRT calibrates with its own implementation of --calibrator's algorithm, entropy2, entropy, minmax or legacy, from the calibration data, and writes its table to --cache; 8.6 and 10.x) (default: cache, qdq on 11.x)")
	fs.IntVar(&b.dla, "useDLACore", -1, "with --backend tensorrt: build for this DLA core (Jetson, DRIVE), with GPU fallback; fp16 and int8 engines only, fp32 ones stay on the GPU; -1: none)")
	b.registerLibraries(fs)
}

// registerLibraries registers the flags that locate the GPU libraries.
func (b *backendFlags) registerLibraries(fs *flag.FlagSet) {
	fs.IntVar(&b.device, "device", 0, "CUDA device ordinal, for --backend cuda")
	fs.StringVar(&b.libs.Driver, "cuda-lib", "", "path of the CUDA driver library (default: $INT8CAL_CUDA_LIB, then libcuda.so.1 through the system loader)")
	fs.StringVar(&b.libs.NVRTC, "nvrtc-lib", "", "path of NVRTC (default: $INT8CAL_NVRTC_LIB, then libnvrtc.so.13, .so.12)")
	fs.StringVar(&b.libs.CublasLt, "cublaslt-lib", "", "path of cuBLASLt (default: $INT8CAL_CUBLASLT_LIB, then libcublasLt.so.13, .so.12)")
	fs.StringVar(&b.trt.Lib, "tensorrt-lib", "", "path of libnvinfer (default: $INT8CAL_TENSORRT_LIB, then libnvinfer.so.11, .so.10, .so.8)")
}

// options checks the flags that only one backend takes and returns the
// pipeline's backend options (the pipeline checks the backend itself).
func (b *backendFlags) options() (pipeline.Backend, error) {
	if b.dla < -1 {
		return pipeline.Backend{}, fmt.Errorf("--useDLACore=%d: want a DLA core number (0, 1, …) or -1 for none", b.dla)
	}
	if b.dla >= 0 && b.name != pipeline.TensorRT {
		return pipeline.Backend{}, fmt.Errorf("--useDLACore=%d: DLA cores are used only by --backend tensorrt, not --backend %s", b.dla, b.name)
	}
	if b.trt.INT8 != "" && b.name != pipeline.TensorRT {
		return pipeline.Backend{}, fmt.Errorf("--tensorrt-int8=%s: only --backend tensorrt builds INT8 that way, not --backend %s", b.trt.INT8, b.name)
	}
	t := b.trt
	t.UseDLA, t.DLACore = b.dla >= 0, max(b.dla, 0)
	return pipeline.Backend{Name: b.name, Device: b.device, Libs: b.libs, TensorRT: t}, nil
}
