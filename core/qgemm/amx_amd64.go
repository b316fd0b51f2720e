//go:build amd64 && !purego

package qgemm

import (
	"sync"

	"golang.org/x/sys/cpu"

	"github.com/int8cal/int8cal/core/internal/panel"
)

// The AMX path of MulTaps (ImplAMX): Intel's tile matrix multiply
// (Sapphire Rapids and later Xeons) does a 16×16×64 int8 product in one
// instruction, about ten times VPDPBUSD's rate on one core. Tiles load
// rows at a fixed stride, but MulTaps's B rows (k groups) sit at offsets
// of their own, so each block of 32 columns first copies its rows into a
// staging buffer (one 64-byte move each, shared by every tile of A);
// A gets a row-major copy when packed (PackedA.amx). Products are exact
// int32 sums, the same as every other kernel's.

// hasAMX reports whether the AMX kernel can run: the CPU has AMX tiles
// and int8 products, AVX-512 for the staging, and the OS lets this
// process use the tile state (amxPermitted).
func hasAMX() bool {
	return hasVNNI() && cpu.X86.HasAMXTile && cpu.X86.HasAMXInt8 && amxPermitted()
}

// The tile geometry: 16 rows of 64 bytes; a block of columns is two C
// tiles wide.
const (
	amxRows  = 16
	amxBytes = 64
	amxCols  = 2 * NR
)

// amxConfig is the LDTILECFG operand (palette 1): C0, C1 16×16 int32
// (64 bytes a row), A 16 rows × 64 k bytes, B0, B1 16 k groups × 64
// bytes; tiles 3, 6 and 7 unused.
var amxConfig = func() *[64]byte {
	var c [64]byte
	c[0] = 1
	for _, t := range []int{0, 1, 2, 4, 5} {
		c[16+2*t] = amxBytes
		c[48+t] = amxRows
	}
	return &c
}()

// amxFrame is one amxTaps call as the assembly reads it (byte strides).
type amxFrame struct {
	cfg    *byte
	a      *int8
	lda    int
	ktiles int
	mtiles int
	mfull  int // tiles of A stored straight into C
	mrem   int // rows of the partial last tile (mtiles > mfull)
	src    *int8
	offs   *int32
	kg     int
	stage  *int8
	c      *int32
	ldc    int
	ctail  *int32
	blocks int
	nb     int // 16-column halves per block: 2, or 1 for a last one
}

//go:noescape
func amxTaps(f *amxFrame)

// amxScratch is one call's working memory, pooled: MulTaps runs on many
// workers at once against one PackedA.
type amxScratch struct {
	stage []int8  // staged B: two halves of ktiles·16 rows of 64 bytes
	ctail []int32 // the partial last tile of A's products: 16×32
	cols  []int32 // the last, partial column block's products: all rows × 32
}

var amxPool = sync.Pool{New: func() any { return new(amxScratch) }}

// packAMX makes p.amx, the row-major copy of a the AMX kernel reads: rows
// padded to whole tiles of 16, k to whole tiles of 64 bytes, zeros in the
// padding.
func (p *PackedA) packAMX(m, k int, a []int8, lda int) {
	lda64 := (p.kp + amxBytes - 1) / amxBytes * amxBytes
	rows := (m + amxRows - 1) / amxRows * amxRows
	p.amx = panel.Aligned[int8](rows * lda64)
	p.amxLd = lda64
	for i := 0; i < m; i++ {
		copy(p.amx[i*lda64:i*lda64+k], a[i*lda:i*lda+k])
	}
}

// mulTapsAMX is MulTaps on the AMX kernel (the caller checked the
// arguments and that p has its AMX copy).
func (p *PackedA) mulTapsAMX(n int, src []int8, offs []int32, c []int32, ldc int) {
	sc := amxPool.Get().(*amxScratch)
	defer amxPool.Put(sc)
	ktiles := p.amxLd / amxBytes
	mtiles := (p.m + amxRows - 1) / amxRows
	if len(sc.stage) < 2*ktiles*amxRows*amxBytes {
		sc.stage = panel.Aligned[int8](2 * ktiles * amxRows * amxBytes)
	}
	if len(sc.ctail) < amxRows*amxCols {
		sc.ctail = make([]int32, amxRows*amxCols)
	}
	f := amxFrame{
		cfg: &amxConfig[0], a: &p.amx[0], lda: p.amxLd, ktiles: ktiles, mtiles: mtiles,
		mfull: p.m / amxRows, mrem: p.m % amxRows,
		offs: &offs[0], kg: len(offs), stage: &sc.stage[0], ctail: &sc.ctail[0], nb: 2,
	}
	if full := n / amxCols; full > 0 {
		f.src, f.c, f.ldc, f.blocks = &src[0], &c[0], 4*ldc, full
		amxTaps(&f)
	}
	rem := n % amxCols
	if rem == 0 {
		return
	}
	// The last columns: one block of one or two halves into a scratch C
	// of whole tiles (it reads B up to TapsSpan(n), as the other kernels
	// do), copied out.
	j0 := n - rem
	rows := mtiles * amxRows
	if len(sc.cols) < rows*amxCols {
		sc.cols = make([]int32, rows*amxCols)
	}
	f.src, f.c, f.ldc, f.blocks = &src[KGroup*j0], &sc.cols[0], 4*amxCols, 1
	f.nb = (rem + NR - 1) / NR
	f.mfull = mtiles
	amxTaps(&f)
	for i := 0; i < p.m; i++ {
		copy(c[i*ldc+j0:i*ldc+n], sc.cols[i*amxCols:i*amxCols+rem])
	}
}
