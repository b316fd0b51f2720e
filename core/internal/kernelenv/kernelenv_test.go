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
	t.Setenv(Variable, "sse")
	if err := Force(); err == nil || !strings.Contains(err.Error(), "INT8CAL_KERNELS=\"sse\": want avx2 or go") {
		t.Errorf("an unknown name: %v", err)
	}
}
