package kernelenv

import (
	"strings"
	"testing"

	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/qgemm"
)

func TestForce(t *testing.T) {
	f, q, h := gemm.CurrentImpl(), qgemm.CurrentImpl(), histogram.CurrentImpl()
	defer func() {
		gemm.SetImpl(f)
		qgemm.SetImpl(q)
		histogram.SetImpl(h)
	}()
	t.Setenv(Variable, "go")
	if err := Force(); err != nil {
		t.Fatal(err)
	}
	if gemm.CurrentImpl() != gemm.ImplGo || qgemm.CurrentImpl() != qgemm.ImplGo || histogram.CurrentImpl() != histogram.ImplGo {
		t.Errorf("INT8CAL_KERNELS=go left %v, %v, %v", gemm.CurrentImpl(), qgemm.CurrentImpl(), histogram.CurrentImpl())
	}
	// avx512: where the CPU has AVX-512 VNNI (else an error naming it).
	t.Setenv(Variable, "avx512")
	if err := Force(); err == nil {
		if qgemm.CurrentImpl() != qgemm.ImplVNNI || gemm.CurrentImpl() != gemm.ImplAVX512 {
			t.Errorf("INT8CAL_KERNELS=avx512 left %v, %v", gemm.CurrentImpl(), qgemm.CurrentImpl())
		}
	} else if !strings.Contains(err.Error(), "INT8CAL_KERNELS=avx512") {
		t.Errorf("avx512 where the CPU lacks it: %v", err)
	}
	// avxvnni: where the CPU has AVX-VNNI, the integer products on it and
	// everything else on AVX2.
	t.Setenv(Variable, "avxvnni")
	if err := Force(); err == nil {
		if qgemm.CurrentImpl() != qgemm.ImplAVXVNNI || gemm.CurrentImpl() != gemm.ImplAVX2 || histogram.CurrentImpl() != histogram.ImplAVX2 {
			t.Errorf("INT8CAL_KERNELS=avxvnni left %v, %v, %v", gemm.CurrentImpl(), qgemm.CurrentImpl(), histogram.CurrentImpl())
		}
	} else if !strings.Contains(err.Error(), "INT8CAL_KERNELS=avxvnni") {
		t.Errorf("avxvnni where the CPU lacks it: %v", err)
	}
	t.Setenv(Variable, "sse")
	if err := Force(); err == nil || !strings.Contains(err.Error(), "INT8CAL_KERNELS=\"sse\": want avx2, avxvnni, avx512 or go") {
		t.Errorf("an unknown name: %v", err)
	}
}
