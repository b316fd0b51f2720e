//go:build amd64 && !purego

package engine

import "github.com/int8cal/int8cal/core/gemm"

//go:noescape
func chainAVX512(a, o, x, y *float32, n int)

//go:noescape
func chainAVX2(a, o, x, y *float32, n int)

// chainValues is chainGo with the vector kernel of the GEMM's
// implementation (gemm.SetImpl forces both, as for core/ops's other
// vector code): AVX-512 for every value, AVX2 for the whole vectors of 8
// and chainGo for the rest.
func chainValues(a, o, x, y []float32) {
	n := len(o)
	if n == 0 {
		return
	}
	x = x[:n]
	var pa, py *float32
	if a != nil {
		a, y = a[:n], y[:n]
		pa, py = &a[0], &y[0]
	}
	switch gemm.CurrentImpl() {
	case gemm.ImplAVX512:
		chainAVX512(pa, &o[0], &x[0], py, n)
		return
	case gemm.ImplAVX2:
		if k := n &^ 7; k > 0 {
			chainAVX2(pa, &o[0], &x[0], py, k)
			if a != nil {
				a, y = a[k:], y[k:]
			}
			o, x = o[k:], x[k:]
		}
	}
	chainGo(a, o, x, y)
}
