package calibrate

import (
	"fmt"
	"os"

	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/core/gemm"
)

// INT8CAL_KERNELS=avx2 (or go) runs this package's tests and benchmarks
// on those kernels instead of the best the CPU has, as core/engine's do:
// the GEMM's (which the engine's other vector code follows) and the
// histograms', so that an AVX-512 machine measures the calibration AVX2
// CPUs run (tools/ort/calib_bench.py --kernels).
func init() {
	name := os.Getenv("INT8CAL_KERNELS")
	var f gemm.Impl
	var h histogram.Impl
	switch name {
	case "":
		return
	case "avx2":
		f, h = gemm.ImplAVX2, histogram.ImplAVX2
	case "go":
		f, h = gemm.ImplGo, histogram.ImplGo
	default:
		panic(fmt.Sprintf("INT8CAL_KERNELS=%q: want avx2 or go", name))
	}
	if _, err := gemm.SetImpl(f); err != nil {
		panic(fmt.Sprintf("INT8CAL_KERNELS=%s: %v", name, err))
	}
	if _, err := histogram.SetImpl(h); err != nil {
		panic(fmt.Sprintf("INT8CAL_KERNELS=%s: %v", name, err))
	}
}
