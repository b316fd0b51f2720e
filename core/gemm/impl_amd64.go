//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

var (
	avx2Kernels   = kernels{impl: ImplAVX2, maxP: maxPanelsAVX2, mr: [4]int{0, maxRowsAVX2[1]}}
	avx512Kernels = kernels{impl: ImplAVX512, maxP: maxPanelsAVX512, mr: [4]int{0, maxRowsAVX512[1], maxRowsAVX512[2]}}
)

func hasAVX2() bool { return cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// hasAVX512 requires AVX-512F with OS support for the ZMM state (x/sys/cpu
// checks XGETBV).
func hasAVX512() bool { return hasAVX2() && cpu.X86.HasAVX512F }

func kernelsFor(i Impl) *kernels {
	switch i {
	case ImplGo:
		return &goKernels
	case ImplAVX2:
		if hasAVX2() {
			return &avx2Kernels
		}
	case ImplAVX512:
		if hasAVX512() {
			return &avx512Kernels
		}
	}
	return nil
}

func bestKernels() *kernels {
	if hasAVX512() {
		return &avx512Kernels
	}
	if hasAVX2() {
		return &avx2Kernels
	}
	return &goKernels
}

//go:noescape
func packBPanelsAVX(dst *float32, src *float32, ldb int, kb int, np int, pnl int)

var useAVXPack = cpu.X86.HasAVX

// packBFull packs np full panels (kb rows, 16·np columns starting at b[0]) of
// a row-major B into dst with panel stride pnl floats.
func packBFull(dst, b []float32, ldb, kb, np, pnl int) {
	if useAVXPack && kb > 0 && np > 0 {
		_ = dst[(np-1)*pnl+kb*NR-1]
		_ = b[(kb-1)*ldb+np*NR-1]
		packBPanelsAVX(&dst[0], &b[0], ldb*4, kb, np, pnl*4)
		return
	}
	packBFullGo(dst, b, ldb, kb, np, pnl)
}

//go:noescape
func packAPanelAVX(dst *float32, r0, r1, r2, r3, r4, r5, r6, r7 *float32, n8 int, dstride int, mask *int32)

var packAMasks = [16]int32{-1, -1, -1, -1, -1, -1, -1, -1}

// packAPanel packs rows·k values of one A panel (rows ≤ 8 here; row r at
// a[r·lda:]) into dst with dst[p·rows+r] = A(r, p).
func packAPanel(dst []float32, rows, k int, a []float32, lda int) {
	n8 := k / 8
	if !useAVXPack || rows > 8 || n8 == 0 {
		packAPanelGo(dst, rows, k, a, lda, 0)
		return
	}
	_ = dst[rows*k-1]
	_ = a[(rows-1)*lda+k-1]
	var rp [8]*float32
	for r := range rp {
		rp[r] = &a[min(r, rows-1)*lda]
	}
	packAPanelAVX(&dst[0], rp[0], rp[1], rp[2], rp[3], rp[4], rp[5], rp[6], rp[7], n8, rows*4, &packAMasks[8-rows])
	packAPanelGo(dst, rows, k, a, lda, n8*8)
}

// transposeFast transposes the leading bands of 8 rows and blocks of 8
// columns of the rows×cols matrix src into dst (see Transpose) with the
// A-packing kernel, each band's columns rows floats apart in dst, and
// returns how many rows and columns it did (0, 0 for the Go
// implementation).
func transposeFast(dst, src []float32, rows, cols int) (int, int) {
	r8, c8 := rows/8*8, cols/8*8
	if !useAVXPack || active().impl == ImplGo || r8 == 0 || c8 == 0 {
		return 0, 0
	}
	for r := 0; r < r8; r += 8 {
		a := src[r*cols:]
		packAPanelAVX(&dst[r], &a[0], &a[cols], &a[2*cols], &a[3*cols], &a[4*cols], &a[5*cols], &a[6*cols], &a[7*cols],
			c8/8, 4*rows, &packAMasks[0])
	}
	return r8, c8
}
