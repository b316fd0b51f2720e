package gemm

import (
	"fmt"
	"sync/atomic"
)

// Impl names a micro-kernel implementation.
type Impl int

const (
	// ImplGo is the portable pure-Go kernel (always available).
	ImplGo Impl = iota
	// ImplAVX2 is the AVX2+FMA assembly kernel (6×16 register tile).
	ImplAVX2
	// ImplAVX512 is the AVX-512F assembly kernel (8×32 register tile).
	ImplAVX512
)

func (i Impl) String() string {
	switch i {
	case ImplGo:
		return "go"
	case ImplAVX2:
		return "avx2"
	case ImplAVX512:
		return "avx512"
	}
	return fmt.Sprintf("Impl(%d)", int(i))
}

// kernels describes one implementation: how many B panels (of NR columns)
// the widest tile spans and the largest number of rows a tile may have for a
// given panel count.
type kernels struct {
	impl Impl
	maxP int    // panels per full-width tile
	mr   [4]int // mr[p]: max rows of a tile that is p panels wide
}

// rowsPacked is the micro-panel height used when packing A for this
// implementation (the rows of a full tile).
func (ks *kernels) rowsPacked() int { return ks.mr[ks.maxP] }

var goKernels = kernels{impl: ImplGo, maxP: 1, mr: [4]int{0, 8}}

var current atomic.Pointer[kernels]

func init() {
	current.Store(bestKernels())
}

func active() *kernels { return current.Load() }

// Available reports the implementations usable on this CPU and build, best last.
func Available() []Impl {
	out := []Impl{ImplGo}
	for _, i := range []Impl{ImplAVX2, ImplAVX512} {
		if kernelsFor(i) != nil {
			out = append(out, i)
		}
	}
	return out
}

// CurrentImpl returns the implementation used by the package functions.
func CurrentImpl() Impl { return active().impl }

// SetImpl selects the implementation used by subsequent calls and returns the
// previous one. It exists for tests and benchmarks (comparing the assembly
// and pure-Go paths); it must not be called while other goroutines are
// running multiplications. Values packed under another implementation stay
// valid.
func SetImpl(i Impl) (prev Impl, err error) {
	ks := kernelsFor(i)
	if ks == nil {
		return CurrentImpl(), fmt.Errorf("gemm: implementation %v not available on this CPU/build", i)
	}
	return current.Swap(ks).impl, nil
}

// call runs one micro-kernel: a rows×(NR·panels) tile. Strides are in
// bytes; co is where C's old values are read when accumulating (C
// itself, or a residual in C's layout).
func (ks *kernels) call(rows, panels, k int, a *float32, as int, b *float32, pnl int, c *float32, ldc int, flags int, rb, cb *float32, lo, hi float32, co *float32) {
	switch ks.impl {
	case ImplAVX512:
		kernAVX512(rows, panels, k, a, as, b, pnl, c, ldc, flags, rb, cb, lo, hi, co)
	case ImplAVX2:
		kernAVX2(rows, panels, k, a, as, b, pnl, c, ldc, flags, rb, cb, lo, hi, co)
	default:
		kernGo(rows, panels, k, a, as, b, pnl, c, ldc, flags, rb, cb, lo, hi, co)
	}
}

// callD runs one direct micro-kernel: as call, A's rows read in place,
// as bytes apart.
func (ks *kernels) callD(rows, panels, k int, a *float32, as int, b *float32, pnl int, c *float32, ldc int, flags int, rb, cb *float32, lo, hi float32, co *float32) {
	switch ks.impl {
	case ImplAVX512:
		kernAVX512D(rows, panels, k, a, as, b, pnl, c, ldc, flags, rb, cb, lo, hi, co)
	case ImplAVX2:
		kernAVX2D(rows, panels, k, a, as, b, pnl, c, ldc, flags, rb, cb, lo, hi, co)
	default:
		panic("gemm: no direct Go kernel")
	}
}

// direct reports whether the implementation has direct kernels (callD);
// the Go one packs A instead.
func (ks *kernels) direct() bool { return ks.impl != ImplGo }

// indirect reports whether the implementation has indirect kernels
// (callI); the Go one packs such operands instead.
func (ks *kernels) indirect() bool { return ks.impl != ImplGo }

// masked reports whether the implementation has masked indirect kernels
// (callIM), which read partial tiles in place; these implementations also
// have two-panel indirect kernels (pairs of grid lines).
func (ks *kernels) masked() bool { return ks.impl == ImplAVX512 }

// callIM runs masked indirect micro-kernels: as callI, panel q under
// mask q.
func (ks *kernels) callIM(rows, panels, k int, a *float32, as int, b *float32, off *int, c *float32, ldc int, flags int, rb, cb *float32, lo, hi float32, bq, cq, np, mask0, mask1 int, co *float32) {
	if ks.impl != ImplAVX512 {
		panic("gemm: no masked kernel")
	}
	kernAVX512IM(rows, panels, k, a, as, b, off, c, ldc, flags, rb, cb, lo, hi, bq, cq, np, mask0, mask1, co)
}

// callI runs np indirect micro-kernels down C (A's panels of rows rows
// one after the other, C's rows and the row bias going on): row p of the
// B tile is read at b + 4·off[p] bytes, its panel 1 bq bytes further,
// stored cq bytes after panel 0 in C.
func (ks *kernels) callI(rows, panels, k int, a *float32, as int, b *float32, off *int, c *float32, ldc int, flags int, rb, cb *float32, lo, hi float32, bq, cq, np int, co *float32) {
	switch ks.impl {
	case ImplAVX512:
		kernAVX512I(rows, panels, k, a, as, b, off, c, ldc, flags, rb, cb, lo, hi, bq, cq, np, co)
	case ImplAVX2:
		kernAVX2I(rows, panels, k, a, as, b, off, c, ldc, flags, rb, cb, lo, hi, bq, cq, np, co)
	default:
		panic("gemm: no indirect Go kernel")
	}
}
