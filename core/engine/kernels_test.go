package engine_test

import "github.com/int8cal/int8cal/core/internal/kernelenv"

// INT8CAL_KERNELS=avx2 (or go) runs this package's tests and benchmarks on
// those kernels (tools/ort/compare.py --kernels).
func init() {
	if err := kernelenv.Force(); err != nil {
		panic(err)
	}
}
