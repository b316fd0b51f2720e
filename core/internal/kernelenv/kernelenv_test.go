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
	t.Setenv(Variable, "sse")
	if err := Force(); err == nil || !strings.Contains(err.Error(), "INT8CAL_KERNELS=\"sse\": want avx2, avx512 or go") {
		t.Errorf("an unknown name: %v", err)
	}
}
