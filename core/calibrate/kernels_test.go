package calibrate

import "github.com/int8cal/int8cal/core/internal/kernelenv"

// INT8CAL_KERNELS=avx2 (or go) runs this package's tests and benchmarks on
// those kernels (tools/ort/calib_bench.py --kernels).
func init() {
	if err := kernelenv.Force(); err != nil {
		panic(err)
	}
}
