package qgemm

import (
	"fmt"
	"sync/atomic"
)

// Impl names a micro-kernel implementation.
type Impl int

const (
	// ImplGo is the portable pure-Go kernel (always available).
	ImplGo Impl = iota
	// ImplAVX2 is the AVX2 kernel: VPMADDUBSW on B as unsigned bytes when
	// B has no negative byte (12×8 register tile), else int8 widened to
	// int16, VPMADDWD pairs summed into int32 (6×8).
	ImplAVX2
	// ImplVNNI is the AVX-512 VNNI kernel: VPDPBUSD on u8×s8 groups of 4
	// (up to 12×32 register tile).
	ImplVNNI
	// ImplAVXVNNI is the AVX-VNNI kernel (VEX VPDPBUSD on YMM: Intel Alder
	// Lake and later client CPUs without AVX-512), otherwise the VNNI one
	// (6×16 register tile).
	ImplAVXVNNI
	// ImplAMX is the VNNI kernels with MulTaps (the implicit-GEMM
	// convolutions) on AMX tiles (TDPBSSD: Intel Xeons from Sapphire
	// Rapids on).
	ImplAMX
)

func (i Impl) String() string {
	switch i {
	case ImplGo:
		return "go"
	case ImplAVX2:
		return "avx2"
	case ImplVNNI:
		return "vnni"
	case ImplAVXVNNI:
		return "avxvnni"
	case ImplAMX:
		return "amx"
	}
	return fmt.Sprintf("Impl(%d)", int(i))
}

// kernels describes one implementation: the tile widths it has (columns of
// C, ascending) and the most rows a tile of each width may have.
type kernels struct {
	impl   Impl
	widths []int // tile widths in columns, ascending; each a multiple of 8
	mr     []int // mr[i]: max rows of a tile widths[i] wide
	a16    bool  // reads the int16 copy of packed A
	offset bool  // computes Σ A·(B+128): needs the −128·ΣA row correction
	// signed, when set, marks kernels that take only B ≥ 0 (AVX2's
	// VPMADDUBSW): a call returns the tiles it left uncomputed from the
	// first whose B has a negative byte, and these kernels take over the
	// rest of the multiplication.
	signed *kernels
}

// needsA16 reports whether these kernels (or their signed fallback) read
// the int16 copy of packed A.
func (ks *kernels) needsA16() bool { return ks.a16 || ks.signed != nil && ks.signed.a16 }

// call runs one micro-kernel on nt ≥ 1 adjacent rows×width tiles (see
// gen_kernels.go). as is in bytes of the A copy the kernel reads (a16 for
// the AVX2 kernel, a8 otherwise); pnl and ldc are in bytes. b starts at the
// first tile's B: with offs nil it is packed (group g of panel q at
// b[q·pnl+64g:]); else B is read in place (MulTaps), group g of panel q at
// b[offs[g]+64q:], pnl unused, and len(offs) = kg. It returns the number
// of tiles left uncomputed (always 0 unless ks.signed is set).
func (ks *kernels) call(rows, width, nt, kg int, a8 *int8, a16 *int16, as int, b []int8, offs []int32, pnl int, c *int32, ldc int, flags int, rb *int32) (left int) {
	if ks.impl == ImplGo {
		kernGo(rows, width/NR*nt, kg, a8, as, b, offs, pnl, c, ldc, flags, rb)
		return 0
	}
	bp := &b[0]
	switch {
	case ks.vnni() && offs == nil:
		kernVNNI(rows, width/NR, kg, a8, as, bp, pnl, c, ldc, flags, rb, nt)
	case ks.vnni():
		kernVNNIT(rows, width/NR, kg, a8, as, bp, &offs[0], c, ldc, flags, rb, nt)
	case ks.impl == ImplAVXVNNI && offs == nil:
		kernAVXVNNI(rows, width/NR, kg, a8, as, bp, pnl, c, ldc, flags, rb, nt)
	case ks.impl == ImplAVXVNNI:
		kernAVXVNNIT(rows, width/NR, kg, a8, as, bp, &offs[0], c, ldc, flags, rb, nt)
	case ks.signed != nil && offs == nil:
		return kernAVX2U8(rows, kg, a8, as, bp, pnl, c, ldc, flags, rb, nt)
	case ks.signed != nil:
		return kernAVX2U8T(rows, kg, a8, as, bp, &offs[0], c, ldc, flags, rb, nt)
	case offs == nil:
		kernAVX2(rows, kg, a16, as, bp, pnl, c, ldc, flags, rb, nt)
	default:
		kernAVX2T(rows, kg, a16, as, bp, &offs[0], c, ldc, flags, rb, nt)
	}
	return 0
}

// vnni reports whether these are the AVX-512 VNNI kernels (ImplAMX uses
// them for all but MulTaps).
func (ks *kernels) vnni() bool { return ks.impl == ImplVNNI || ks.impl == ImplAMX }

// rowsPacked is the micro-panel height used when packing A for this
// implementation (the rows of its widest tile).
func (ks *kernels) rowsPacked() int { return ks.mr[len(ks.mr)-1] }

// maxWidth is the widest tile.
func (ks *kernels) maxWidth() int { return ks.widths[len(ks.widths)-1] }

// tileFor returns the index of the narrowest tile width covering w columns,
// or of the widest tile.
func (ks *kernels) tileFor(w int) int {
	for i, tw := range ks.widths {
		if tw >= w {
			return i
		}
	}
	return len(ks.widths) - 1
}

var goKernels = kernels{impl: ImplGo, widths: []int{NR}, mr: []int{8}}

var current atomic.Pointer[kernels]

func init() {
	current.Store(bestKernels())
}

func active() *kernels { return current.Load() }

// Available reports the implementations usable on this CPU and build, best last.
func Available() []Impl {
	out := []Impl{ImplGo}
	for _, i := range []Impl{ImplAVX2, ImplAVXVNNI, ImplVNNI, ImplAMX} {
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
		return CurrentImpl(), fmt.Errorf("qgemm: implementation %v not available on this CPU/build", i)
	}
	return current.Swap(ks).impl, nil
}
