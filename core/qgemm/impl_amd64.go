//go:build amd64 && !purego

package qgemm

import "golang.org/x/sys/cpu"

var (
	avx2Kernels = kernels{impl: ImplAVX2, widths: []int{8}, mr: []int{maxRowsAVX2}, a16: true}
	vnniKernels = kernels{impl: ImplVNNI, widths: []int{NR, 2 * NR}, mr: []int{maxRowsVNNI[1], maxRowsVNNI[2]}, offset: true}
)

// x/sys/cpu reports AVX2 and AVX-512 features only when the OS saves the
// YMM/ZMM state (XGETBV).
func hasAVX2() bool { return cpu.X86.HasAVX && cpu.X86.HasAVX2 }

func hasVNNI() bool { return hasAVX2() && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI }

// needA16 reports whether PackA must build the int16 copy of A (the AVX2
// kernel can be selected).
func needA16() bool { return hasAVX2() }

func kernelsFor(i Impl) *kernels {
	switch i {
	case ImplGo:
		return &goKernels
	case ImplAVX2:
		if hasAVX2() {
			return &avx2Kernels
		}
	case ImplVNNI:
		if hasVNNI() {
			return &vnniKernels
		}
	}
	return nil
}

func bestKernels() *kernels {
	if hasVNNI() {
		return &vnniKernels
	}
	if hasAVX2() {
		return &avx2Kernels
	}
	return &goKernels
}

//go:noescape
func packB4x32AVX2(dst *int8, r0, r1, r2, r3 *int8, n32 int, pnl int)

//go:noescape
func packBRowAVX512(dst *int8, src *int8, n16 int, pnl int)

var (
	useAVX2Pack   = hasAVX2()
	useAVX512Pack = hasAVX2() && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW
)

// packBGroup writes one group of 4 rows (rows[t] holds nb columns) into
// ceil(nb/NR) packed-B panels, 64 bytes per panel at dst[q·pnl:],
// zero-padding the last panel.
func packBGroup(dst []int8, pnl int, rows *[KGroup][]int8, nb int) {
	n32 := nb / (2 * NR)
	if !useAVX2Pack || n32 == 0 {
		packBGroupGo(dst, pnl, rows, nb, 0)
		return
	}
	_ = dst[(2*n32-1)*pnl+KGroup*NR-1]
	r0, r1, r2, r3 := rows[0][:n32*2*NR], rows[1][:n32*2*NR], rows[2][:n32*2*NR], rows[3][:n32*2*NR]
	packB4x32AVX2(&dst[0], &r0[0], &r1[0], &r2[0], &r3[0], n32, pnl)
	if nb > n32*2*NR {
		packBGroupGo(dst, pnl, rows, nb, 2*n32)
	}
}

// packBRow writes row p of a packed-B operand (panels pnl bytes apart).
func packBRow(dst []int8, pnl, p int, row []int8) {
	n16 := len(row) / NR
	if !useAVX512Pack || n16 == 0 {
		packBRowGo(dst, pnl, p, row, 0)
		return
	}
	off := p/KGroup*KGroup*NR + p%KGroup
	_ = dst[(n16-1)*pnl+off+(NR-1)*KGroup]
	packBRowAVX512(&dst[off], &row[0], n16, pnl)
	if len(row) > n16*NR {
		packBRowGo(dst, pnl, p, row, n16)
	}
}
