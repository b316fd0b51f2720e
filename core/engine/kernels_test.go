package engine_test

import (
	"fmt"
	"os"

	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/qgemm"
)

// INT8CAL_KERNELS=avx2 (or go) runs this package's tests and benchmarks
// on those kernels instead of the best the CPU has, so that an AVX-512
// machine measures the path AVX2-only CPUs take (tools/ort/compare.py
// --kernels). The float and the integer kernels switch together; the
// other vector code of core/ops follows them.
func init() {
	name := os.Getenv("INT8CAL_KERNELS")
	var f gemm.Impl
	var q qgemm.Impl
	switch name {
	case "":
		return
	case "avx2":
		f, q = gemm.ImplAVX2, qgemm.ImplAVX2
	case "go":
		f, q = gemm.ImplGo, qgemm.ImplGo
	default:
		panic(fmt.Sprintf("INT8CAL_KERNELS=%q: want avx2 or go", name))
	}
	if _, err := gemm.SetImpl(f); err != nil {
		panic(fmt.Sprintf("INT8CAL_KERNELS=%s: %v", name, err))
	}
	if _, err := qgemm.SetImpl(q); err != nil {
		panic(fmt.Sprintf("INT8CAL_KERNELS=%s: %v", name, err))
	}
}
