// Package kernelenv lets tests and benchmarks run on the kernels the
// INT8CAL_KERNELS environment variable names instead of the best the CPU
// has: "avx2" (the path AVX2-only CPUs take, measured on an AVX-512
// machine), "avxvnni" (AVX2 with AVX-VNNI's 256-bit VPDPBUSD for the
// integer products: Intel's client CPUs from Alder Lake on, which lack
// AVX-512), "avx512" (AVX-512 VNNI without AMX: the path of the AVX-512
// CPUs before Sapphire Rapids, and of AMD's, measured on one with AMX) or
// "go" (the portable kernels). The float GEMM's, the integer
// GEMM's and the histograms' implementations switch together; the other
// vector code of core/ops and core/engine follows the float GEMM's.
// core/engine's and core/calibrate's tests call Force from an init, so
// tools/ort/compare.py and calib_bench.py can pass --kernels.
package kernelenv

import (
	"fmt"
	"os"

	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/qgemm"
)

// Variable is the environment variable Force reads.
const Variable = "INT8CAL_KERNELS"

// Force switches the kernels to those Variable names; unset or empty
// changes nothing. An unknown name, or one this CPU cannot run, is an
// error naming the variable.
func Force() error {
	name := os.Getenv(Variable)
	var f gemm.Impl
	var q qgemm.Impl
	var h histogram.Impl
	switch name {
	case "":
		return nil
	case "avx2":
		f, q, h = gemm.ImplAVX2, qgemm.ImplAVX2, histogram.ImplAVX2
	case "avxvnni":
		f, q, h = gemm.ImplAVX2, qgemm.ImplAVXVNNI, histogram.ImplAVX2
	case "avx512":
		f, q, h = gemm.ImplAVX512, qgemm.ImplVNNI, histogram.ImplAVX512
	case "go":
		f, q, h = gemm.ImplGo, qgemm.ImplGo, histogram.ImplGo
	default:
		return fmt.Errorf("%s=%q: want avx2, avxvnni, avx512 or go", Variable, name)
	}
	if _, err := gemm.SetImpl(f); err != nil {
		return fmt.Errorf("%s=%s: %w", Variable, name, err)
	}
	if _, err := qgemm.SetImpl(q); err != nil {
		return fmt.Errorf("%s=%s: %w", Variable, name, err)
	}
	if _, err := histogram.SetImpl(h); err != nil {
		return fmt.Errorf("%s=%s: %w", Variable, name, err)
	}
	return nil
}
