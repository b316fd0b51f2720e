//go:build amd64 && !purego

package engine

import "golang.org/x/sys/cpu"

//go:noescape
func chainAVX512(a, o, x, y *float32, n int)

//go:noescape
func chainAVX2(a, o, x, y *float32, n int)

// chainImpls are the kernels this CPU can run, best first; tests force
// each through chainImpl.
var chainImpls = func() []string {
	var out []string
	if cpu.X86.HasAVX512F {
		out = append(out, "avx512")
	}
	if cpu.X86.HasAVX2 {
		out = append(out, "avx2")
	}
	return append(out, "go")
}()

var chainImpl = chainImpls[0]

// chainValues is chainGo with vector kernels: AVX-512 for every value,
// AVX2 for the whole vectors of 8 and chainGo for the rest.
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
	switch chainImpl {
	case "avx512":
		chainAVX512(pa, &o[0], &x[0], py, n)
		return
	case "avx2":
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
