package qgemm

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/int8cal/int8cal/core/internal/panel"
)

// NR is the width (columns) of one panel of the packed-B layout.
const NR = 16

// KGroup is the reduction granularity of the packed layouts: k is padded to
// a multiple of KGroup and each column stores KGroup consecutive k values
// in adjacent bytes (one VPDPBUSD dword lane).
const KGroup = 4

const flagAccumulate = 1 << 0 // kernel adds the old C tile

// Cache blocking (see doc.go). kcMax (a multiple of KGroup) bounds the depth
// of one rank-kc update: a B tile of kc×32 bytes (32 KiB) stays in L1 while
// every A panel of a row block passes over it, and an mc×kc block of A
// (≤ 384 KiB, 768 KiB as int16) stays in L2. k ≤ kcMax is one pass. ncMax
// is the width of the B block that Mul packs at a time.
const (
	kcMax = 1024
	mcMax = 384
	ncMax = 512
)

// Largest tile handled through the edge buffer.
const (
	maxTileRows = 16
	maxTileCols = 2 * NR
)

// PaddedK returns k rounded up to a multiple of KGroup: the depth of the
// packed layouts.
func PaddedK(k int) int { return (k + KGroup - 1) / KGroup * KGroup }

// PackedBSize returns the number of bytes of the packed-B layout of a k×n
// operand: ceil(n/NR) panels of PaddedK(k)·NR bytes each.
func PackedBSize(k, n int) int { return (n + NR - 1) / NR * NR * PaddedK(k) }

// PackedBOffset returns the index of B(p, j) (row p < k, column j) in the
// packed-B layout of a k×n operand:
//
//	(j/NR)·NR·PaddedK(k) + (p/4)·4·NR + (j%NR)·4 + p%4
//
// i.e. panel j/NR, group p/4 (one 64-byte line per group and panel), column
// j%NR within the line, 4 consecutive k of a column in adjacent bytes.
func PackedBOffset(k, p, j int) int {
	return j/NR*NR*PaddedK(k) + p/KGroup*KGroup*NR + j%NR*KGroup + p%KGroup
}

// MakePackedBBuffer returns a zeroed, 64-byte aligned buffer of
// PackedBSize(k, n) bytes, suitable for MulPackedBuf.
func MakePackedBBuffer(k, n int) []int8 { return panel.Aligned[int8](PackedBSize(k, n)) }

// PackedA is a left operand (weights) packed once for repeated
// multiplications. Its values are immutable and it is safe for concurrent
// use (the one thing a multiplication updates is an atomic scheduling
// hint, signedRuns).
type PackedA struct {
	m, k, kp, np int
	data         []int8  // packed A (see doc.go)
	data16       []int16 // the same values as int16 (AVX2 widening kernel), or empty
	corr         []int32 // corr[i] = −128·Σ_p A(i,p) (VNNI kernel)
	// amx is the row-major copy the AMX kernel reads (PackA on CPUs with
	// AMX), rows amxLd bytes apart; see amx_amd64.go.
	amx   []int8
	amxLd int
	// signedRuns: after a multiplication whose B had a negative byte
	// (kernels with a signed fallback, AVX2), the next ones start with the
	// fallback instead of wasting a tile on finding out again: a layer's
	// input is signed or post-ReLU every time. Every signedRetry-th one
	// tries the B ≥ 0 kernel again.
	signedRuns atomic.Int32
}

// signedRetry: see PackedA.signedRuns.
const signedRetry = 64

// M returns the number of rows of the packed operand.
func (p *PackedA) M() int { return p.m }

// K returns the number of columns (the reduction depth) of the packed operand.
func (p *PackedA) K() int { return p.k }

// RowSums returns a new slice holding Σ_p A(i,p) for each row i (len M()),
// e.g. for a caller that corrects for a zero point of its own.
func (p *PackedA) RowSums() []int32 {
	s := make([]int32, p.m)
	for i, c := range p.corr {
		s[i] = c / -128
	}
	return s
}

// PackA packs the m×k row-major int8 matrix a (leading dimension lda). Any
// int8 values are allowed; the exactness bound of doc.go assumes weights in
// [-127, 127].
func PackA(m, k int, a []int8, lda int) *PackedA {
	p := new(PackedA)
	p.pack(m, k, a, lda, needA16())
	return p
}

// PackTapsA is PackA for a left operand of MulTaps (a convolution's
// weights): on a CPU with AMX it also makes the row-major copy the AMX
// kernel reads (AMXCopyBytes(m, k) more bytes).
func PackTapsA(m, k int, a []int8, lda int) *PackedA {
	p := PackA(m, k, a, lda)
	if hasAMX() && m > 0 && k > 0 {
		p.packAMX(m, k, a, lda)
	}
	return p
}

// AMXCopyBytes is the size of the copy PackTapsA adds for the AMX kernel
// to an m×k operand on this CPU: rows rounded up to 16, PaddedK(k) to 64
// bytes; 0 without AMX.
func AMXCopyBytes(m, k int) int64 {
	if !hasAMX() {
		return 0
	}
	return int64((m+15)/16*16) * int64((PaddedK(k)+63)/64*64)
}

// Repack packs the m×k row-major int8 matrix a (leading dimension lda)
// into p, reusing its buffers when they are large enough: the left operand
// of a product of two activations, packed for every multiplication, where
// PackA's allocations would cost as much as the product. Unlike PackA's,
// the result is valid only under the implementation active when it was
// packed (the int16 copy for AVX2's widening kernel is made only when AVX2
// is the active one), and p must not be in use by a multiplication.
func (p *PackedA) Repack(m, k int, a []int8, lda int) {
	p.pack(m, k, a, lda, active().needsA16())
}

// pack fills p with the packed a, with the int16 copy when a16 is set.
func (p *PackedA) pack(m, k int, a []int8, lda int, a16 bool) {
	checkMat("A", m, k, a, lda)
	kp := PaddedK(k)
	np := 0
	if m > 0 {
		np = panel.Count(m, active().rowsPacked())
	}
	p.m, p.k, p.kp, p.np = m, k, kp, np
	p.signedRuns.Store(0)
	if cap(p.data) < m*kp {
		p.data = panel.Aligned[int8](m * kp)
	} else {
		// The pad columns k..kp-1 are read as zeros by the kernels.
		p.data = p.data[:m*kp]
		clear(p.data)
	}
	p.corr = growInt32(p.corr, m)
	for i := 0; i < np && k > 0; i++ {
		row0, rows := panel.Rows(m, np, i)
		dst := p.data[row0*kp : (row0+rows)*kp]
		for r := 0; r < rows; r++ {
			src := a[(row0+r)*lda:][:k]
			// Group q/KGroup of row r is at (q/KGroup)·KGroup·rows + r·KGroup:
			// whole groups move as one 4-byte word.
			d := dst[r*KGroup:]
			sb, db := asBytes(src), asBytes(d)
			q := 0
			for ; q+KGroup <= k; q += KGroup {
				binary.LittleEndian.PutUint32(db[q*rows:], binary.LittleEndian.Uint32(sb[q:]))
			}
			for ; q < k; q++ {
				d[q/KGroup*KGroup*rows+q%KGroup] = src[q]
			}
			p.corr[row0+r] = -128 * rowSum(src)
		}
	}
	p.data16 = p.data16[:0]
	if a16 {
		if cap(p.data16) < m*kp {
			p.data16 = panel.Aligned[int16](m * kp)
		}
		p.data16 = p.data16[:m*kp]
		for i, v := range p.data {
			p.data16[i] = int16(v)
		}
	}
}

// rowSum returns the sum of v, eight values per step: each byte made
// unsigned (+128), pairs of bytes added into four 16-bit lanes of a word,
// the lanes folded every 128 steps before they could overflow (2·255·128
// < 2^16).
func rowSum(v []int8) int32 {
	b := asBytes(v)
	var total int64
	i := 0
	for i+8 <= len(b) {
		var lanes uint64
		for end := min(len(b)&^7, i+8*128); i < end; i += 8 {
			x := binary.LittleEndian.Uint64(b[i:]) ^ 0x8080808080808080
			lanes += x&0x00FF00FF00FF00FF + x>>8&0x00FF00FF00FF00FF
		}
		total += int64(lanes&0xFFFF + lanes>>16&0xFFFF + lanes>>32&0xFFFF + lanes>>48)
	}
	total -= 128 * int64(i)
	for _, x := range v[i:] {
		total += int64(x)
	}
	return int32(total)
}

// asBytes views int8 values as the bytes that hold them.
func asBytes(v []int8) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v))
}

func growInt32(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

func checkMat[T int8 | int32 | float32](name string, rows, cols int, s []T, ld int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("qgemm: negative dimension of %s (%d×%d)", name, rows, cols))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if ld < cols {
		panic(fmt.Sprintf("qgemm: leading dimension of %s is %d < %d", name, ld, cols))
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("qgemm: %s has %d elements, need %d", name, len(s), need))
	}
}

// scratch holds the packed-B block of Mul; recycled through a sync.Pool so
// that the steady state does not allocate.
type scratch struct{ b []int8 }

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func (s *scratch) bbuf(n int) []int8 {
	if cap(s.b) < n {
		s.b = panel.Aligned[int8](n)
	}
	return s.b[:n]
}

// Mul computes C = Apacked·B (int32, exact; see doc.go) for a row-major
// int8 k×n B (leading dimension ldb, k = p.K()) and a row-major m×n C
// (leading dimension ldc), on the calling goroutine. B is packed per call
// in blocks of ncMax columns into a pooled buffer.
func (p *PackedA) Mul(n int, b []int8, ldb int, c []int32, ldc int) {
	checkMat("B", p.k, n, b, ldb)
	checkMat("C", p.m, n, c, ldc)
	if p.m == 0 || n == 0 {
		return
	}
	if p.k == 0 {
		zeroC(c, p.m, n, ldc)
		return
	}
	sc := scratchPool.Get().(*scratch)
	for jc := 0; jc < n; jc += ncMax {
		nb := min(ncMax, n-jc)
		buf := sc.bbuf(PackedBSize(p.k, nb))
		packBBlock(buf, p.k, b, ldb, jc, nb)
		j := job{ks: active(), pa: p, n: nb, bp: buf, c: c[jc:], ldc: ldc}
		j.run()
	}
	scratchPool.Put(sc)
}

// MulPackedBuf computes C = Apacked·B where B (k×n, k = p.K()) is already in
// the packed-B layout in packedB (len ≥ PackedBSize(k, n); see
// PackedBOffset), into the row-major m×n C (leading dimension ldc). This is
// the convolution path: im2col writes straight into packedB (PackBRow). It
// never allocates.
func (p *PackedA) MulPackedBuf(n int, packedB []int8, c []int32, ldc int) {
	checkMat("C", p.m, n, c, ldc)
	if n < 0 || len(packedB) < PackedBSize(p.k, n) {
		panic(fmt.Sprintf("qgemm: packed B has %d bytes, need %d", len(packedB), PackedBSize(p.k, n)))
	}
	if p.m == 0 || n == 0 {
		return
	}
	if p.k == 0 {
		zeroC(c, p.m, n, ldc)
		return
	}
	j := job{ks: active(), pa: p, n: n, bp: packedB, c: c, ldc: ldc}
	j.run()
}

// TapsSpan returns how many bytes of src after each offset MulTaps may read
// for n columns: 4·n rounded up to whole 16-column panels (64 bytes), the
// same under every implementation. (A 32-column tile runs only where more
// than 16 columns remain, so it never ends past the panel holding column
// n−1.)
func TapsSpan(n int) int { return (n + NR - 1) / NR * NR * KGroup }

// MulTaps computes C = A·B (C m×n at stride ldc, overwritten) with B read
// in place from src instead of a packed-B buffer: B(p, j) is
// src[offs[p/4] + 4·j + p%4]. len(offs) must be PaddedK(k)/KGroup.
// Whole tiles of columns are read, so every offs[g] + TapsSpan(n) must
// be ≤ len(src) (products of the extra columns are discarded).
//
// This is the packed-B layout with a panel stride of 64 bytes and a base
// offset per group instead of +64 per group: a stride-1 convolution over a
// channel-interleaved image ([C/4][pixels][4] bytes) reads its 4 channels
// × 16 output columns of one tap as one 64-byte line of the image itself,
// so it needs no unfolding and no packing. The pad rows k..PaddedK(k)-1
// meet the zeros of the packed A, so their bytes are irrelevant. It never
// allocates; offsets outside the bound panic.
func (p *PackedA) MulTaps(n int, src []int8, offs []int32, c []int32, ldc int) {
	checkMat("C", p.m, n, c, ldc)
	if len(offs) != p.kp/KGroup {
		panic(fmt.Sprintf("qgemm: MulTaps has %d offsets, need %d (k = %d)", len(offs), p.kp/KGroup, p.k))
	}
	if p.m == 0 || n == 0 {
		return
	}
	span := TapsSpan(n)
	for g, o := range offs {
		if o < 0 || int(o) > len(src)-span {
			panic(fmt.Sprintf("qgemm: MulTaps offset %d of group %d: %d columns read [%d, %d), src has %d bytes", o, g, n, o, int(o)+span, len(src)))
		}
	}
	if p.k == 0 {
		zeroC(c, p.m, n, ldc)
		return
	}
	if active().impl == ImplAMX && p.amx != nil { // packed by PackTapsA
		p.mulTapsAMX(n, src, offs, c, ldc)
		return
	}
	j := job{ks: active(), pa: p, n: n, bp: src, offs: offs, c: c, ldc: ldc}
	j.run()
}

func zeroC(c []int32, m, n, ldc int) {
	for i := 0; i < m; i++ {
		clear(c[i*ldc : i*ldc+n])
	}
}

// job is one multiplication of a packed A by a packed B (or, with offs,
// B read in place; see MulTaps) into C.
type job struct {
	ks   *kernels
	pa   *PackedA
	n    int
	bp   []int8  // packed B, k×n, or MulTaps's src
	offs []int32 // MulTaps: offset of each group of B in bp
	c    []int32
	ldc  int
}

// run computes C. Loop nest (outer to inner): k block → row block of A →
// column block (the full-width tiles of one kernel call) → A panel; the
// last, narrower tile column comes after the column blocks.
func (j *job) run() {
	ks, pa := j.ks, j.pa
	if ks.needsA16() && len(pa.data16) == 0 {
		panic("qgemm: left operand repacked under another implementation than the active one")
	}
	if ks.signed != nil && pa.signedRuns.Load() > 0 && pa.signedRuns.Add(-1) > 0 {
		j.ks = ks.signed
	}
	kp := pa.kp
	kg := kp / KGroup
	nk := (kp + kcMax - 1) / kcMax
	kcg := (kg + nk - 1) / nk // groups per k block
	mcPanels := max(1, mcMax/ks.rowsPacked())
	tw := ks.maxWidth()
	nfull := j.n / tw
	rem := j.n - nfull*tw
	// Tiles per kernel call: their B (tiles·tw·4·kc bytes) stays in L1
	// while every A panel of the row block passes over it.
	per := max(1, l1Block/(tw*KGroup*kcg))
	if tw < NR {
		// AVX2 tiles are half panels: calls start at panel boundaries.
		h := NR / tw
		per = (per + h - 1) / h * h
	}
	for pg := 0; pg < kg; pg += kcg {
		kbg := min(kcg, kg-pg)
		flags := 0
		if pg > 0 {
			flags = flagAccumulate
		}
		var corr []int32
		if pg+kbg == kg && ks.offset {
			corr = pa.corr
		}
		for ig := 0; ig < pa.np; ig += mcPanels {
			ie := min(ig+mcPanels, pa.np)
			for t0 := 0; t0 < nfull; t0 += per {
				nt := min(per, nfull-t0)
				j.panels(ig, ie, len(ks.widths)-1, nt, tw, t0*tw, pg, kbg, flags, corr)
			}
			if rem > 0 {
				j.panels(ig, ie, ks.tileFor(rem), 1, rem, nfull*tw, pg, kbg, flags, corr)
			}
		}
	}
}

// l1Block bounds the B bytes of one kernel call (see run).
const l1Block = 24 << 10

// panels runs A panels [ig, ie) over k groups [pg, pg+kbg) against nt
// tiles of width ks.widths[ti] starting at column col, of which w columns
// are valid when nt == 1 (w = width otherwise).
func (j *job) panels(ig, ie, ti, nt, w, col, pg, kbg, flags int, corr []int32) {
	pa := j.pa
	t := tiles{ti: ti, nt: nt, w: w, col: col, pg: pg, kg: kbg, flags: flags, corr: corr}
	base, extra := pa.m/pa.np, pa.m%pa.np // panel i has base+1 rows if i < extra, else base
	row0, rows := panel.Rows(pa.m, pa.np, ig)
	for i := ig; i < ie; i++ {
		if i == extra {
			rows = base
		}
		j.rowsOf(row0, rows, 0, rows, 0, &t)
		row0 += rows
	}
}

// tiles is the column side of the kernel calls of panels.
type tiles struct {
	ti, nt, w, col int // see panels
	pg, kg, flags  int
	corr           []int32
}

// rowsOf runs rows [lo, hi) of the A panel of rows rows at row0 over tiles
// [t0, t.nt), in kernel calls of at most mr rows (a panel packed for
// taller tiles, by another implementation, is split evenly).
func (j *job) rowsOf(row0, rows, lo, hi, t0 int, t *tiles) {
	for r := lo; r < hi; {
		ks := j.ks
		nsub := (hi - r + ks.mr[t.ti] - 1) / ks.mr[t.ti]
		rr := (hi - r + nsub - 1) / nsub
		if done := j.tile(row0, rows, r, rr, t0, t.nt, t); done < t.nt {
			// B has a negative byte, which the AVX2 kernel for B ≥ 0
			// cannot take: it computed tiles [t0, done) and stored nothing
			// else; the signed kernel does the rest of the multiplication.
			j.ks = ks.signed
			j.pa.signedRuns.Store(signedRetry)
			j.rowsOf(row0, rows, r, r+rr, done, t)
		}
		r += rr
	}
}

// tile runs one micro-kernel call for rows [r0, r0+rr) of the A panel of
// rows rows at row0 over tiles [t0, t1) and returns the end of the tiles
// it computed: t1, unless a kernel for B ≥ 0 met a negative byte. A call
// that would start in the second half of a 16-column panel (AVX2's
// 8-column tiles alternate between the halves) computes that tile alone
// first; a single tile with w < tw valid columns goes through a temporary
// tile.
func (j *job) tile(row0, rows, r0, rr, t0, t1 int, t *tiles) int {
	pa, ks := j.pa, j.ks
	tw := ks.widths[t.ti]
	col := t.col + t0*tw
	if col%NR != 0 && t1-t0 > 1 {
		if done := j.tile(row0, rows, r0, rr, t0, t0+1, t); done == t0 {
			return done
		}
		return j.tile(row0, rows, r0, rr, t0+1, t1, t)
	}
	kp := pa.kp
	// A: group g of row r0+i at (row0·kp + (pg+g)·4·rows + 4·(r0+i))
	// elements (int8 or int16 alike).
	aoff := row0*kp + t.pg*KGroup*rows + KGroup*r0
	as := KGroup * rows
	var a16 *int16
	if ks.a16 {
		a16 = &pa.data16[aoff]
		as *= 2
	}
	a8 := &pa.data[aoff]
	pnl := NR * kp
	boff := col/NR*pnl + col%NR*KGroup + t.pg*KGroup*NR
	var offs []int32
	if j.offs != nil {
		// In place: column col at 4·col, the block's groups at offs[pg:].
		boff, pnl = col*KGroup, KGroup*NR
		offs = j.offs[t.pg : t.pg+t.kg]
	}
	b := j.bp[boff:]
	var rb *int32
	if t.corr != nil {
		rb = &t.corr[row0+r0]
	}
	ci := (row0+r0)*j.ldc + col
	if t.w == tw {
		return t1 - ks.call(rr, tw, t1-t0, t.kg, a8, a16, as, b, offs, pnl, &j.c[ci], j.ldc*4, t.flags, rb)
	}
	var tmp [maxTileRows * maxTileCols]int32
	cs, w := j.c[ci:], t.w
	if t.flags&flagAccumulate != 0 {
		for r := 0; r < rr; r++ {
			copy(tmp[r*tw:r*tw+w], cs[r*j.ldc:r*j.ldc+w])
		}
	}
	if ks.call(rr, tw, 1, t.kg, a8, a16, as, b, offs, pnl, &tmp[0], tw*4, t.flags, rb) > 0 {
		return t0
	}
	for r := 0; r < rr; r++ {
		copy(cs[r*j.ldc:r*j.ldc+w], tmp[r*tw:r*tw+w])
	}
	return t1
}
