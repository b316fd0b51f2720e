package main

import (
	"flag"
	"fmt"
	"strconv"

	"github.com/int8cal/int8cal/core/cuda"
	"github.com/int8cal/int8cal/core/pipeline"
)

// backendFlags choose where models run.
type backendFlags struct {
	name   string
	device int
	libs   cuda.Libraries
	// dla is --useDLACore: the DLA core TensorRT builds for, with GPU
	// fallback; its zero value is none.
	dla dlaFlag
	// trt are the TensorRT backend's settings but DLA.
	trt pipeline.TensorRTOptions
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
	fs.IntVar(&b.trt.WorkspaceMiB, "tensorrt-workspace", 0, "with --backend tensorrt: the builder's workspace memory pool limit in MiB (default 0: TensorRT's, the device's memory)")
	fs.IntVar(&b.trt.AvgTimingIterations, "tensorrt-avg-timing", 0, "with --backend tensorrt: timing iterations averaged per tactic by the builder (default 0: TensorRT's, 1)")
	fs.StringVar(&b.trt.INT8, "tensorrt-int8", "", "with --backend tensorrt, how INT8 is built: cache (TensorRT reads the calibration cache of --calibrator; 8.6 and 10.x), qdq (the model with Q/DQ nodes from that cache, as int8cal export writes it; every version), or tensorrt (TensorRT calibrates with its own implementation of --calibrator's algorithm, entropy2, entropy, minmax or legacy, from the calibration data, and writes its table to --cache; 8.6 and 10.x) (default: cache, qdq on 11.x)")
	fs.Var(&b.dla, "useDLACore", "with --backend tensorrt: build for this DLA core (Jetson, DRIVE), with GPU fallback; fp16 and int8 engines only, fp32 ones stay on the GPU (default -1: none)")
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
	if b.dla.Core() >= 0 && b.name != pipeline.TensorRT {
		return pipeline.Backend{}, fmt.Errorf("--useDLACore=%d: DLA cores are used only by --backend tensorrt, not --backend %s", b.dla.Core(), b.name)
	}
	if b.trt.INT8 != "" && b.name != pipeline.TensorRT {
		return pipeline.Backend{}, fmt.Errorf("--tensorrt-int8=%s: only --backend tensorrt builds INT8 that way, not --backend %s", b.trt.INT8, b.name)
	}
	t := b.trt
	t.UseDLA, t.DLACore = b.dla.set, b.dla.core
	return pipeline.Backend{Name: b.name, Device: b.device, Libs: b.libs, TensorRT: t}, nil
}
