package gemm

import (
	"fmt"
	"sync"

	"github.com/int8cal/int8cal/core/internal/panel"
)

// NR is the width (columns) of one panel of the packed-B layout. See doc.go
// and PackedBOffset.
const NR = 16

const (
	flagAccumulate = 1 << 0 // kernel adds the old C tile
	flagMax        = 1 << 1 // kernel raises the result to at least lo
	flagMin        = 1 << 2 // kernel lowers the result to at most hi
	// flagResidual (the job's, not the kernels'): the old C tile is the
	// epilogue's Residual, on the first k block.
	flagResidual = 1 << 3
)

// Cache blocking (BLIS-style loop nest, see doc.go). kcMax bounds the depth
// of one rank-kc update; the actual kc splits k evenly, so k ≤ kcMax runs in
// one pass and C is written once. A B tile (kc×32 floats, ≤ 64 KiB) is
// reused from L1/L2 by every A micro-panel of the row block, and an mc×kc
// block of A (≤ 768 KiB) stays in the 2 MiB L2 while the B tiles stream
// past it. Measured on the target Xeon, kc between 192 and full k (≤ 800)
// differed by less than the run-to-run noise; 512 keeps the A block
// L2-resident for large m. ncMax is the width of a B block packed at a time
// when B is not pre-packed (kc×ncMax ≤ 2 MiB).
const (
	kcMax = 512
	mcMax = 384
	ncMax = 1024
)

// Largest tile handled through the edge buffer.
const (
	maxTileRows = 16
	maxTileCols = 3 * NR
)

// Epilogue is applied to each C tile right after its last rank-kc update,
// while it is still in registers: C = act(acc + C_old + RowBias[i] +
// ColBias[j]) with each term present only if requested (C_old only when
// accumulating, or Residual's), act a ReLU and/or a clip. A nil *Epilogue or a zero
// Epilogue is a no-op.
type Epilogue struct {
	RowBias []float32 // len ≥ m; per row of C (per output channel of a conv), or nil
	ColBias []float32 // len ≥ n; per column of C (per output feature of a Gemm with batch rows), or nil
	// Residual, in C's layout (C(i, j) at i·ldc + j, or where a grid puts
	// it), is added where an accumulating product adds the old C: a fused
	// residual connection without copying it into C first. Not with
	// accumulate.
	Residual []float32
	ReLU     bool // clamp at zero (NaN is propagated)
	// Clip clamps to [Lo, Hi] (ONNX Clip, MobileNet's ReLU6): a value
	// below Lo becomes Lo, one above Hi becomes Hi, NaN is propagated.
	// With ReLU too, the lower bound is max(Lo, 0).
	Clip   bool
	Lo, Hi float32
}

func (ep *Epilogue) empty() bool {
	return ep == nil || (ep.RowBias == nil && ep.ColBias == nil && ep.Residual == nil && !ep.ReLU && !ep.Clip)
}

// bounds returns the kernel flags and bounds of the epilogue's clamp.
func (ep *Epilogue) bounds() (flags int, lo, hi float32) {
	if ep.ReLU {
		flags |= flagMax
	}
	if ep.Clip {
		flags |= flagMax | flagMin
		lo, hi = ep.Lo, ep.Hi
		if ep.ReLU {
			lo = max(lo, 0)
		}
	}
	return flags, lo, hi
}

// PackedBSize returns the number of float32 of the packed-B layout of a k×n
// operand: ceil(n/NR) panels of k×NR floats each.
func PackedBSize(k, n int) int { return (n + NR - 1) / NR * NR * k }

// PackedBOffset returns the index of B(p, j) (row p < k, column j) in the
// packed-B layout of a k×n operand:
//
//	(j/NR)·NR·k + p·NR + j%NR
//
// Elements of the last panel beyond column n-1 must be zero.
func PackedBOffset(k, p, j int) int { return j/NR*NR*k + p*NR + j%NR }

// PackedBPanel returns panel q (columns [q·NR, q·NR+NR)) of a packed-B
// buffer for depth k: k rows of NR floats, row p at [p·NR, p·NR+NR).
func PackedBPanel(packed []float32, k, q int) []float32 {
	return packed[q*NR*k : (q+1)*NR*k : (q+1)*NR*k]
}

// MakePackedBBuffer returns a zeroed, 64-byte aligned buffer of
// PackedBSize(k, n) floats, suitable for MulPackedBuf (aligned panels make
// every AVX-512 load hit a single cache line).
func MakePackedBBuffer(k, n int) []float32 { return panel.Aligned[float32](PackedBSize(k, n)) }

// PackedA is a left operand packed once (e.g. constant weights) for repeated
// multiplications. It is immutable and safe for concurrent use.
type PackedA struct {
	m, k, np int
	data     []float32
}

// M returns the number of rows of the packed operand.
func (p *PackedA) M() int { return p.m }

// K returns the number of columns (the reduction depth) of the packed operand.
func (p *PackedA) K() int { return p.k }

// PackA packs the m×k row-major matrix a (leading dimension lda).
func PackA(m, k int, a []float32, lda int) *PackedA {
	checkMat("A", m, k, a, lda)
	np := panel.Count(m, active().rowsPacked())
	p := &PackedA{m: m, k: k, np: np, data: panel.Aligned[float32](m * k)}
	packA(p.data, m, k, np, a, lda)
	return p
}

// packA writes a in the packed-A layout: np panels of consecutive rows, panel
// (row0, rows) occupying dst[row0·k : (row0+rows)·k] with A(row0+r, p) at
// row0·k + p·rows + r.
func packA(dst []float32, m, k, np int, a []float32, lda int) {
	if k == 0 {
		return
	}
	for i := 0; i < np; i++ {
		row0, rows := panel.Rows(m, np, i)
		packAPanel(dst[row0*k:(row0+rows)*k], rows, k, a[row0*lda:], lda)
	}
}

// packAPanelGo packs columns [p0, k) of one A panel (see packAPanel).
func packAPanelGo(dst []float32, rows, k int, a []float32, lda int, p0 int) {
	for r := 0; r < rows; r++ {
		src := a[r*lda:][:k]
		for p := p0; p < k; p++ {
			dst[p*rows+r] = src[p]
		}
	}
}

// PackedB is a right operand packed once (e.g. transposed FC weights). It is
// immutable and safe for concurrent use.
type PackedB struct {
	k, n int
	data []float32
}

// K returns the number of rows (the reduction depth) of the packed operand.
func (p *PackedB) K() int { return p.k }

// N returns the number of columns of the packed operand.
func (p *PackedB) N() int { return p.n }

// Data returns the packed-B layout (see PackedBOffset); do not modify it.
func (p *PackedB) Data() []float32 { return p.data }

// PackB packs the k×n operand B. If transposed is false, b is k×n row-major
// with leading dimension ldb; if true, b holds Bᵀ, an n×k row-major matrix
// (ONNX Gemm with transB=1), with leading dimension ldb ≥ k.
func PackB(k, n int, b []float32, ldb int, transposed bool) *PackedB {
	p := &PackedB{k: k, n: n, data: MakePackedBBuffer(k, n)}
	PackBInto(p.data, k, n, b, ldb, transposed)
	return p
}

// PackBInto writes B (as for PackB) into dst in the packed-B layout;
// len(dst) ≥ PackedBSize(k, n).
func PackBInto(dst []float32, k, n int, b []float32, ldb int, transposed bool) {
	if transposed {
		checkMat("B", n, k, b, ldb)
	} else {
		checkMat("B", k, n, b, ldb)
	}
	if len(dst) < PackedBSize(k, n) {
		panic(fmt.Sprintf("gemm: packed B buffer has %d floats, need %d", len(dst), PackedBSize(k, n)))
	}
	packBBlock(dst, b, ldb, transposed, 0, k, 0, n)
}

// PackBRow writes row p of a k×len(row) matrix B into dst, a buffer in the
// packed-B layout of PackedBSize(k, len(row)) floats, zero-filling the pad
// columns of the last panel. Producers that generate B a row at a time
// (im2col) use it to skip a separate packing pass.
func PackBRow(dst []float32, k, p int, row []float32) {
	n := len(row)
	if p < 0 || p >= k || len(dst) < PackedBSize(k, n) {
		panic(fmt.Sprintf("gemm: PackBRow row %d of %d into %d floats, need %d", p, k, len(dst), PackedBSize(k, n)))
	}
	full := n / NR
	if full > 0 {
		packBFull(dst[p*NR:], row, n, 1, full, NR*k)
	}
	if w := n - full*NR; w > 0 {
		d := dst[full*NR*k+p*NR:][:NR]
		clear(d[copy(d, row[full*NR:]):])
	}
}

// packBFullGo is the portable packBFull.
func packBFullGo(dst, b []float32, ldb, kb, np, pnl int) {
	for p := 0; p < kb; p++ {
		src := b[p*ldb:][:np*NR]
		for q := 0; q < np; q++ {
			*(*[NR]float32)(dst[q*pnl+p*NR:]) = *(*[NR]float32)(src[q*NR:])
		}
	}
}

// packBBlock packs rows [p0, p0+kb) and columns [j0, j0+nb) of B into dst as
// ceil(nb/NR) panels of kb×NR floats, zero-padding the last panel.
func packBBlock(dst, b []float32, ldb int, transposed bool, p0, kb, j0, nb int) {
	if kb == 0 {
		return
	}
	q0 := 0
	if !transposed && nb >= NR {
		q0 = nb / NR
		packBFull(dst, b[p0*ldb+j0:], ldb, kb, q0, NR*kb)
	}
	for q := q0; q*NR < nb; q++ {
		d := dst[q*NR*kb : (q+1)*NR*kb]
		jq := j0 + q*NR
		w := min(NR, nb-q*NR)
		switch {
		case transposed:
			for jj := 0; jj < w; jj++ {
				src := b[(jq+jj)*ldb+p0:][:kb]
				for p, v := range src {
					d[p*NR+jj] = v
				}
			}
			if w < NR {
				for p := 0; p < kb; p++ {
					clear(d[p*NR+w : p*NR+NR])
				}
			}
		case w == NR:
			for p := 0; p < kb; p++ {
				*(*[NR]float32)(d[p*NR:]) = *(*[NR]float32)(b[(p0+p)*ldb+jq:])
			}
		default:
			for p := 0; p < kb; p++ {
				dd := d[p*NR:][:NR]
				clear(dd[copy(dd, b[(p0+p)*ldb+jq:][:w]):])
			}
		}
	}
}

func checkMat(name string, rows, cols int, s []float32, ld int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("gemm: negative dimension of %s (%d×%d)", name, rows, cols))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if ld < cols {
		panic(fmt.Sprintf("gemm: leading dimension of %s is %d < %d", name, ld, cols))
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("gemm: %s has %d elements, need %d", name, len(s), need))
	}
}

// Transpose writes the rows×cols row-major matrix src transposed into dst
// (cols×rows, row-major): core/ops's layout conversions. Bands of 8 rows
// go through the A-packing kernel, which transposes 8×8 blocks in
// registers; the rest is copied in tiles that keep both sides' lines in
// cache.
func Transpose(dst, src []float32, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	if len(dst) < rows*cols || len(src) < rows*cols {
		panic(fmt.Sprintf("gemm: Transpose of %d×%d values from %d into %d", rows, cols, len(src), len(dst)))
	}
	r8, c8 := transposeFast(dst, src, rows, cols)
	transposeTiles(dst, src, rows, cols, 0, r8, c8, cols) // the columns past the blocks
	transposeTiles(dst, src, rows, cols, r8, rows, 0, cols)
}

// transposeTiles transposes rows [r0, r1) and columns [c0, c1) of src.
func transposeTiles(dst, src []float32, rows, cols, r0, r1, c0, c1 int) {
	const tile = 16
	for ra := r0; ra < r1; ra += tile {
		rb := min(ra+tile, r1)
		for ca := c0; ca < c1; ca += tile {
			cb := min(ca+tile, c1)
			for r := ra; r < rb; r++ {
				line := src[r*cols : r*cols+cb]
				for c := ca; c < cb; c++ {
					dst[c*rows+r] = line[c]
				}
			}
		}
	}
}

// checkEpilogue checks ep for an m×n product into C, whose rows span
// span values ldc apart.
func checkEpilogue(ep *Epilogue, m, n, span, ldc int, accumulate bool) {
	if ep == nil {
		return
	}
	if ep.Residual != nil {
		if accumulate {
			panic("gemm: a residual and accumulate both give C's old values")
		}
		checkMat("Residual", m, span, ep.Residual, ldc)
	}
	if ep.RowBias != nil && len(ep.RowBias) < m {
		panic(fmt.Sprintf("gemm: RowBias has %d elements, need %d", len(ep.RowBias), m))
	}
	if ep.ColBias != nil && len(ep.ColBias) < n {
		panic(fmt.Sprintf("gemm: ColBias has %d elements, need %d", len(ep.ColBias), n))
	}
}

// scratch holds per-call buffers; recycled through a sync.Pool so that the
// steady state does not allocate.
type scratch struct{ a, b []float32 }

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch  { return scratchPool.Get().(*scratch) }
func putScratch(s *scratch) { scratchPool.Put(s) }

func (s *scratch) abuf(n int) []float32 {
	if cap(s.a) < n {
		s.a = panel.Aligned[float32](n)
	}
	return s.a[:n]
}

func (s *scratch) bbuf(n int) []float32 {
	if cap(s.b) < n {
		s.b = panel.Aligned[float32](n)
	}
	return s.b[:n]
}

// Sgemm computes C = A·B (accumulate=false) or C += A·B (accumulate=true)
// for row-major A (m×k, leading dimension lda), B (k×n, ldb) and C (m×n,
// ldc), on the calling goroutine.
func Sgemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	SgemmEx(m, n, k, a, lda, b, ldb, c, ldc, accumulate, nil, 1)
}

// SgemmParallel is Sgemm split across up to workers goroutines.
func SgemmParallel(workers, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	SgemmEx(m, n, k, a, lda, b, ldb, c, ldc, accumulate, nil, workers)
}

// SgemmEx is Sgemm with an optional fused epilogue (nil for none) and a
// worker count: workers ≤ 1 runs on the calling goroutine, otherwise the
// work is split (over columns of C, or rows when C is narrow) across up to
// workers goroutines.
func SgemmEx(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool, ep *Epilogue, workers int) {
	checkMat("A", m, k, a, lda)
	checkMat("B", k, n, b, ldb)
	checkMat("C", m, n, c, ldc)
	checkEpilogue(ep, m, n, n, ldc, accumulate)
	if m == 0 || n == 0 {
		return
	}
	ks := active()
	sc := getScratch()
	np := panel.Count(m, ks.rowsPacked())
	ap := sc.abuf(m * k)
	packA(ap, m, k, np, a, lda)
	j := job{ks: ks, m: m, n: n, k: k, a: ap, np: np, b: b, ldb: ldb, c: c, ldc: ldc, acc: accumulate}
	j.setEpilogue(ep)
	j.do(workers, sc)
	putScratch(sc)
}

// Mul computes C = Apacked·B (or C += … with accumulate) for a row-major
// k×n B (leading dimension ldb) and m×n C, on the calling goroutine.
func (p *PackedA) Mul(n int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	p.MulEx(n, b, ldb, c, ldc, accumulate, nil, 1)
}

// MulEx is Mul with an optional epilogue and worker count (see SgemmEx).
func (p *PackedA) MulEx(n int, b []float32, ldb int, c []float32, ldc int, accumulate bool, ep *Epilogue, workers int) {
	checkMat("B", p.k, n, b, ldb)
	checkMat("C", p.m, n, c, ldc)
	checkEpilogue(ep, p.m, n, n, ldc, accumulate)
	if p.m == 0 || n == 0 {
		return
	}
	sc := getScratch()
	j := job{ks: active(), m: p.m, n: n, k: p.k, a: p.data, np: p.np, b: b, ldb: ldb, c: c, ldc: ldc, acc: accumulate}
	j.setEpilogue(ep)
	j.do(workers, sc)
	putScratch(sc)
}

// MulPackedBuf computes C = Apacked·B (or C += … with accumulate) where B
// (k×n, k = p.K()) is already in the packed-B layout in packedB (see
// PackedBOffset; len ≥ PackedBSize(k, n)). This is the convolution path:
// im2col writes straight into packedB. It never allocates.
func (p *PackedA) MulPackedBuf(n int, packedB []float32, c []float32, ldc int, accumulate bool) {
	p.MulPackedBufEx(n, packedB, c, ldc, accumulate, nil, 1)
}

// MulPackedBufEx is MulPackedBuf with an optional epilogue and worker count
// (see SgemmEx).
func (p *PackedA) MulPackedBufEx(n int, packedB []float32, c []float32, ldc int, accumulate bool, ep *Epilogue, workers int) {
	checkMat("C", p.m, n, c, ldc)
	checkEpilogue(ep, p.m, n, n, ldc, accumulate)
	if n < 0 || len(packedB) < PackedBSize(p.k, n) {
		panic(fmt.Sprintf("gemm: packed B has %d floats, need %d", len(packedB), PackedBSize(p.k, n)))
	}
	if p.m == 0 || n == 0 {
		return
	}
	j := job{ks: active(), m: p.m, n: n, k: p.k, a: p.data, np: p.np, bp: packedB, c: c, ldc: ldc, acc: accumulate}
	j.setEpilogue(ep)
	j.do(workers, nil)
}

// MulRowsEx computes C = Apacked·B (or C += … with accumulate) for a k×n B
// whose row p is b[off[p] : off[p]+n] (k = p.K() = len(off)), with an
// optional epilogue and worker count (see SgemmEx). It reads B in place:
// the rows of a convolution's input (a stride-1 convolution's zero-padded
// planes shifted by each tap) need no unfolding or packing. Whole tiles are read
// by the indirect kernels, a partial last one by the masked AVX-512 ones;
// the AVX2 implementation packs a partial last tile per k block, the Go
// one every tile.
func (p *PackedA) MulRowsEx(n int, b []float32, off []int, c []float32, ldc int, accumulate bool, ep *Epilogue, workers int) {
	p.MulGridEx(1, n, b, off, 0, c, ldc, 0, accumulate, ep, workers)
}

// MulGridEx is MulRowsEx over a grid of lines×width columns: column
// (y, x) of row p of B is b[off[p] + y·bPitch + x], and of row i of C
// c[i·ldc + y·cPitch + x]; ColBias, if any, is indexed by x. A
// convolution's output rows are its lines: B's rows are the taps' shifted
// rows of the padded input, and C is the output, so the padding columns
// that a single run of columns (MulRowsEx over the padded planes) would
// compute and drop are never computed.
func (p *PackedA) MulGridEx(lines, width int, b []float32, off []int, bPitch int, c []float32, ldc, cPitch int, accumulate bool, ep *Epilogue, workers int) {
	if lines < 0 || width < 0 || bPitch < 0 || cPitch < 0 {
		panic(fmt.Sprintf("gemm: grid of %d×%d columns, pitches %d and %d", lines, width, bPitch, cPitch))
	}
	checkEpilogue(ep, p.m, width, (max(lines, 1)-1)*cPitch+width, ldc, accumulate)
	if len(off) != p.k {
		panic(fmt.Sprintf("gemm: %d row offsets for k = %d", len(off), p.k))
	}
	if p.m == 0 || lines == 0 || width == 0 {
		return
	}
	span := (lines-1)*bPitch + width // of one B row
	for _, o := range off {
		if o < 0 || o > len(b)-span {
			panic(fmt.Sprintf("gemm: B row at %d of %d values past the %d of b", o, span, len(b)))
		}
	}
	checkMat("C", p.m, (lines-1)*cPitch+width, c, ldc)
	j := job{ks: active(), m: p.m, n: width, k: p.k, a: p.data, np: p.np, boff: off, ldc: ldc, acc: accumulate}
	j.setEpilogue(ep)
	// Lines no wider than a panel go two to a tile (the two-panel
	// kernels' panel 1 on the next line), where the kernels have masks
	// for their partial panels; not with a column bias, whose panels are
	// adjacent columns.
	step := 1
	if width <= NR && lines > 1 && j.ks.masked() && j.colBias == nil {
		step, j.bq, j.cq = 2, 4*bPitch, 4*cPitch
	}
	units := (lines + step - 1) / step
	if units == 1 {
		j.b, j.c, j.pair = b, c, step == 2
		sc := getScratch()
		j.do(workers, sc)
		putScratch(sc)
		return
	}
	runUnit := func(jt job, u int, sc *scratch) {
		y := u * step
		jt.b, jt.c, jt.pair = b[y*bPitch:], c[y*cPitch:], step == 2 && y+1 < lines
		if jt.res != nil { // in C's layout: the same line
			jt.res = jt.res[y*cPitch:]
		}
		jt.run(0, jt.np, 0, jt.n, sc)
	}
	// Workers split the units (each as much as the parallel variants'
	// least work).
	flops := 2 * float64(p.m) * float64(width) * float64(p.k) * float64(lines)
	nw := min(workers, units, max(1, int(flops/parMinFlops)))
	if nw <= 1 {
		sc := getScratch()
		for u := 0; u < units; u++ {
			runUnit(j, u, sc)
		}
		putScratch(sc)
		return
	}
	var wg sync.WaitGroup
	for t := 0; t < nw; t++ {
		wg.Add(1)
		go func(u0, u1 int) {
			defer wg.Done()
			sc := getScratch()
			for u := u0; u < u1; u++ {
				runUnit(j, u, sc)
			}
			putScratch(sc)
		}(t*units/nw, (t+1)*units/nw)
	}
	wg.Wait()
}

// packRows packs columns [j0, j0+nb) of the rows of b at offsets off (a k
// block) as ceil(nb/NR) panels of len(off)×NR floats, zero-padding the
// last panel.
func packRows(dst, b []float32, off []int, j0, nb int) {
	kb := len(off)
	for q := 0; q*NR < nb; q++ {
		d := dst[q*NR*kb : (q+1)*NR*kb]
		w := min(NR, nb-q*NR)
		for p, o := range off {
			src := b[o+j0+q*NR:][:w]
			dd := d[p*NR:][:NR]
			clear(dd[copy(dd, src):])
		}
	}
}

// MulPackedB computes C = A·Bpacked (or C += … with accumulate) for a
// row-major m×k A (leading dimension lda, k = p.K()) and m×n C (n = p.N()),
// on the calling goroutine.
func MulPackedB(m int, a []float32, lda int, p *PackedB, c []float32, ldc int, accumulate bool) {
	MulPackedBEx(m, a, lda, p, c, ldc, accumulate, nil, 1)
}

// MulPackedBEx is MulPackedB with an optional epilogue and worker count (see
// SgemmEx).
func MulPackedBEx(m int, a []float32, lda int, p *PackedB, c []float32, ldc int, accumulate bool, ep *Epilogue, workers int) {
	checkMat("A", m, p.k, a, lda)
	checkMat("C", m, p.n, c, ldc)
	checkEpilogue(ep, m, p.n, p.n, ldc, accumulate)
	if m == 0 || p.n == 0 {
		return
	}
	ks := active()
	np := panel.Count(m, ks.rowsPacked())
	j := job{ks: ks, m: m, n: p.n, k: p.k, np: np, bp: p.data, c: c, ldc: ldc, acc: accumulate}
	j.setEpilogue(ep)
	if ks.direct() { // A's rows read in place by the direct kernels
		j.a, j.lda = a, lda
		j.do(workers, nil)
		return
	}
	sc := getScratch()
	j.a = sc.abuf(m * p.k)
	packA(j.a, m, p.k, np, a, lda)
	j.do(workers, sc)
	putScratch(sc)
}

// job is one multiplication: packed A times packed or raw B into C.
type job struct {
	ks      *kernels
	m, n, k int
	a       []float32 // packed A, or A itself (lda > 0)
	lda     int       // A's row stride where the direct kernels read it in place, else 0
	np      int       // number of A panels
	bp      []float32 // packed B over the full k, or nil
	b       []float32 // raw B (used when bp == nil)
	ldb     int
	boff    []int // B's row offsets in b (MulRowsEx), or nil: rows ldb apart
	// pair: each tile is two lines of a grid, n ≤ NR columns each, the
	// second bq bytes after the first in B and cq bytes in C (MulGridEx).
	pair    bool
	bq, cq  int
	c       []float32
	ldc     int
	acc     bool
	rowBias []float32
	colBias []float32
	res     []float32 // the epilogue's Residual, C's old values on the first k block
	clamp   int       // flagMax|flagMin of the last k block
	lo, hi  float32
}

func (j *job) setEpilogue(ep *Epilogue) {
	if ep.empty() {
		return
	}
	j.rowBias, j.colBias, j.res = ep.RowBias, ep.ColBias, ep.Residual
	j.clamp, j.lo, j.hi = ep.bounds()
}

// do runs the job on up to workers goroutines. sc may be nil when B is
// pre-packed (no scratch needed).
func (j *job) do(workers int, sc *scratch) {
	if workers <= 1 {
		j.run(0, j.np, 0, j.n, sc)
		return
	}
	// Waking goroutines costs a few µs: give each at least parMinFlops.
	flops := 2 * float64(j.m) * float64(j.n) * float64(j.k)
	if w := int(flops / parMinFlops); w < workers {
		workers = max(w, 1)
	}
	if workers <= 1 {
		j.run(0, j.np, 0, j.n, sc)
		return
	}
	runParallel(*j, workers, sc)
}

// parMinFlops is the least work handed to one goroutine by the parallel
// variants (on the target Xeon a 2-way split of a 3 MFLOP conv GEMM was not
// faster, of a 4.7 MFLOP one it was).
var parMinFlops = 2e6

func runParallel(j job, workers int, sc *scratch) {
	tileW := NR * j.ks.maxP
	colTiles := (j.n + tileW - 1) / tileW
	type part struct{ p0, p1, c0, c1 int }
	var parts [64]part
	nw := min(workers, len(parts))
	if colTiles >= nw || colTiles >= j.np {
		nw = min(nw, colTiles)
		for t := 0; t < nw; t++ {
			lo, hi := t*colTiles/nw, (t+1)*colTiles/nw
			parts[t] = part{0, j.np, lo * tileW, min(hi*tileW, j.n)}
		}
	} else {
		nw = min(nw, j.np)
		for t := 0; t < nw; t++ {
			parts[t] = part{t * j.np / nw, (t + 1) * j.np / nw, 0, j.n}
		}
	}
	var wg sync.WaitGroup
	for t := 1; t < nw; t++ {
		wg.Add(1)
		go func(pt part) {
			defer wg.Done()
			var s *scratch
			if j.bp == nil {
				s = getScratch()
				defer putScratch(s)
			}
			j.run(pt.p0, pt.p1, pt.c0, pt.c1, s)
		}(parts[t])
	}
	j.run(parts[0].p0, parts[0].p1, parts[0].c0, parts[0].c1, sc)
	wg.Wait()
}

// run computes the C block made of A panels [p0, p1) and columns [c0, c1),
// c0 a multiple of NR. Loop nest (outer to inner): column block (raw B
// only) → k block → row block of A → tile column (NR·maxP wide) → A panel.
func (j *job) run(p0, p1, c0, c1 int, sc *scratch) {
	k := j.k
	if k == 0 {
		j.noK(p0, p1, c0, c1)
		return
	}
	ks := j.ks
	tileW := NR * ks.maxP
	nk := (k + kcMax - 1) / kcMax
	kc := (k + nk - 1) / nk
	mcPanels := max(1, mcMax/ks.rowsPacked())
	base, extra := j.m/j.np, j.m%j.np // panel i has base+1 rows if i < extra, else base
	ncb := c1 - c0
	if j.bp == nil {
		ncb = ncMax
	}
	inPlace := j.boff != nil && ks.indirect()
	for jc := c0; jc < c1; jc += ncb {
		nb := min(ncb, c1-jc)
		// Tiles [0, full) of the block are read in place (indirect
		// kernels; a partial last one too with masked kernels), the
		// others from bBlock, which starts at column from.
		full, from := 0, 0
		if inPlace {
			full = nb / tileW * tileW
			from = full
			if ks.masked() {
				full, from = nb, nb
			}
		}
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			var bBlock []float32
			var pnl int // floats between consecutive B panels
			switch {
			case j.bp != nil:
				bBlock = j.bp[jc/NR*NR*k+pc*NR:]
				pnl = NR * k
			case j.boff != nil:
				if from < nb {
					bBlock = sc.bbuf(PackedBSize(kb, nb-from))
					packRows(bBlock, j.b, j.boff[pc:pc+kb], jc+from, nb-from)
				}
				pnl = NR * kb
			default:
				bBlock = sc.bbuf(PackedBSize(kb, nb))
				packBBlock(bBlock, j.b, j.ldb, false, pc, kb, jc, nb)
				pnl = NR * kb
			}
			flags := 0
			switch {
			case j.acc || pc > 0:
				flags |= flagAccumulate
			case j.res != nil:
				flags |= flagAccumulate | flagResidual
			}
			last := pc+kb == k
			if last {
				flags |= j.clamp
			}
			for ig := p0; ig < p1; ig += mcPanels {
				ie := min(ig+mcPanels, p1)
				for jr := 0; jr < nb; jr += tileW {
					w := min(tileW, nb-jr)
					npn := (w + NR - 1) / NR
					col := jc + jr
					var bt *float32
					var boff *int // in place: row p of the tile at bt + 4·boff[p]
					if jr < full {
						bt, boff = &j.b[col], &j.boff[pc]
					} else {
						bt = &bBlock[(jr-from)/NR*pnl]
					}
					var cb []float32
					if last && j.colBias != nil {
						cb = j.colBias[col : col+w]
					}
					mr := ks.mr[npn]
					row0, rows := panel.Rows(j.m, j.np, ig)
					for i := ig; i < ie; {
						if i == extra {
							rows = base
						}
						ap, as := j.a[row0*k+pc*rows:], rows*4
						if j.lda > 0 {
							ap, as = j.a[row0*j.lda+pc:], j.lda*4
						}
						if rows <= mr {
							// In place with one k block, A's panels of one
							// height follow each other in the packed
							// layout: one call runs them down C.
							// Not where C's rows are not whole cache lines
							// apart: back-to-back tiles then ran up to 4×
							// slower (49-wide planes), likely their stores
							// aliasing the next tile's loads.
							n := 1
							if boff != nil && kb == k && (j.ldc*4)%64 == 0 {
								n = ie - i
								if i < extra {
									n = min(n, extra-i)
								}
							}
							var rb []float32
							if last && j.rowBias != nil {
								rb = j.rowBias[row0:][:rows*n]
							}
							j.tile(rows, npn, kb, &ap[0], as, bt, pnl*4, boff, n, row0*j.ldc+col, w, flags, rb, cb)
							i, row0 = i+n, row0+rows*n
							continue
						}
						// Packed for taller tiles (another implementation).
						nsub := (rows + mr - 1) / mr
						for s := 0; s < nsub; s++ {
							r0, rr := panel.Rows(rows, nsub, s)
							var rb []float32
							if last && j.rowBias != nil {
								rb = j.rowBias[row0+r0:][:rr]
							}
							at := r0 // the sub-tile's first row
							if j.lda > 0 {
								at = r0 * j.lda
							}
							j.tile(rr, npn, kb, &ap[at], as, bt, pnl*4, boff, 1, (row0+r0)*j.ldc+col, w, flags, rb, cb)
						}
						i, row0 = i+1, row0+rows
					}
				}
			}
		}
	}
}

// tile runs one micro-kernel call for a rows×w block of C starting at c[ci];
// w < NR·panels goes through a temporary tile. With boff B is read in
// place by the indirect kernel, a partial tile's last vector under mask,
// and np blocks of rows rows each are computed down C (else np is 1).
func (j *job) tile(rows, panels, kb int, a *float32, as int, b *float32, pnl int, boff *int, np, ci, w, flags int, rb, cb []float32) {
	var rbp, cbp *float32
	if rb != nil {
		rbp = &rb[0]
	}
	co := &j.c[ci] // C's old values
	if flags&flagResidual != 0 {
		co = &j.res[ci]
	}
	if boff != nil {
		if cb != nil {
			cbp = &cb[0]
		}
		bq, cq, w0, w1 := 64, 64, min(w, NR), w-NR // panel 1 after panel 0; their columns
		if j.pair {
			panels, bq, cq, w0, w1 = 2, j.bq, j.cq, w, w
		}
		if w0 == NR && (panels == 1 || w1 == NR) {
			j.ks.callI(rows, panels, kb, a, as, b, boff, &j.c[ci], j.ldc*4, flags, rbp, cbp, j.lo, j.hi, bq, cq, np, co)
			return
		}
		j.ks.callIM(rows, panels, kb, a, as, b, boff, &j.c[ci], j.ldc*4, flags, rbp, cbp, j.lo, j.hi, bq, cq, np, 1<<w0-1, 1<<max(w1, 0)-1, co)
		return
	}
	if w == panels*NR {
		if cb != nil {
			cbp = &cb[0]
		}
		j.kernel(rows, panels, kb, a, as, b, pnl, &j.c[ci], j.ldc*4, flags, rbp, cbp, co)
		return
	}
	j.edgeTile(rows, panels, kb, a, as, b, pnl, ci, w, flags, rbp, cb)
}

func (j *job) edgeTile(rows, panels, kb int, a *float32, as int, b *float32, pnl int, ci, w, flags int, rbp *float32, cb []float32) {
	var tmp [maxTileRows * maxTileCols]float32
	var cbt [maxTileCols]float32
	W := panels * NR
	cs, old := j.c[ci:], j.c[ci:]
	if flags&flagResidual != 0 {
		old = j.res[ci:]
	}
	if flags&flagAccumulate != 0 {
		for r := 0; r < rows; r++ {
			copy(tmp[r*W:r*W+w], old[r*j.ldc:r*j.ldc+w])
		}
	}
	var cbp *float32
	if cb != nil {
		copy(cbt[:], cb[:w])
		cbp = &cbt[0]
	}
	j.kernel(rows, panels, kb, a, as, b, pnl, &tmp[0], W*4, flags&^flagResidual, rbp, cbp, &tmp[0])
	for r := 0; r < rows; r++ {
		copy(cs[r*j.ldc:r*j.ldc+w], tmp[r*W:r*W+w])
	}
}

// kernel runs the micro-kernel of a tile from B's packed panels: the
// direct one where A is read in place.
func (j *job) kernel(rows, panels, kb int, a *float32, as int, b *float32, pnl int, c *float32, ldc, flags int, rbp, cbp, co *float32) {
	if j.lda > 0 {
		j.ks.callD(rows, panels, kb, a, as, b, pnl, c, ldc, flags, rbp, cbp, j.lo, j.hi, co)
		return
	}
	j.ks.call(rows, panels, kb, a, as, b, pnl, c, ldc, flags, rbp, cbp, j.lo, j.hi, co)
}

// noK handles k == 0: C = (C_old if accumulating) + biases, then the clamp.
func (j *job) noK(p0, p1, c0, c1 int) {
	r0, _ := panel.Rows(j.m, j.np, p0)
	r1, rows := panel.Rows(j.m, j.np, p1-1)
	r1 += rows
	for i := r0; i < r1; i++ {
		row := j.c[i*j.ldc:]
		for jj := c0; jj < c1; jj++ {
			var v float32
			switch {
			case j.acc:
				v = row[jj]
			case j.res != nil:
				v = j.res[i*j.ldc+jj]
			}
			if j.rowBias != nil {
				v += j.rowBias[i]
			}
			if j.colBias != nil {
				v += j.colBias[jj]
			}
			row[jj] = clampTo(v, j.clamp, j.lo, j.hi)
		}
	}
}
