//go:build amd64 && !purego

package qgemm

import "golang.org/x/sys/cpu"

// ImplAVX2 runs the VPMADDUBSW kernel (B ≥ 0) and, from the first tile
// whose B has a negative byte on, the widening kernel.
var (
	avx2Kernels    = kernels{impl: ImplAVX2, widths: []int{8}, mr: []int{maxRowsAVX2U8}, signed: &avx2Widen}
	avx2Widen      = kernels{impl: ImplAVX2, widths: []int{8}, mr: []int{maxRowsAVX2}, a16: true}
	vnniKernels    = kernels{impl: ImplVNNI, widths: []int{NR, 2 * NR}, mr: []int{maxRowsVNNI[1], maxRowsVNNI[2]}, offset: true}
	amxKernels     = kernels{impl: ImplAMX, widths: vnniKernels.widths, mr: vnniKernels.mr, offset: true}
	avxVNNIKernels = kernels{impl: ImplAVXVNNI, widths: []int{NR}, mr: []int{maxRowsAVXVNNI[1]}, offset: true}
)

// x/sys/cpu reports AVX2 and AVX-512 features only when the OS saves the
// YMM/ZMM state (XGETBV). FMA too: the quantizers' quotient
// (quotient_amd64.h) fuses its multiply-adds (every AVX2 CPU has it).
func hasAVX2() bool { return cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA }

func hasVNNI() bool { return hasAVX2() && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI }

// hasAVXVNNI: the VEX-encoded VPDPBUSD on YMM (CPUID.(7,1):EAX[4]).
func hasAVXVNNI() bool { return hasAVX2() && cpu.X86.HasAVXVNNI }

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
	case ImplAMX:
		if hasAMX() {
			return &amxKernels
		}
	case ImplAVXVNNI:
		if hasAVXVNNI() {
			return &avxVNNIKernels
		}
	}
	return nil
}

func bestKernels() *kernels {
	if hasAMX() {
		return &amxKernels
	}
	if hasVNNI() {
		return &vnniKernels
	}
	if hasAVXVNNI() {
		return &avxVNNIKernels
	}
	if hasAVX2() {
		return &avx2Kernels
	}
	return &goKernels
}

//go:noescape
func packB4x32AVX2(dst *int8, r0, r1, r2, r3 *int8, n16 int, pnl int)

//go:noescape
func packBRowAVX512(dst *int8, src *int8, n16 int, pnl int)

var (
	useAVX2Pack   = hasAVX2()
	useAVX512Pack = hasAVX2() && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW
)

// packBGroup writes one group of 4 rows (rows[t] holds nb columns) into
// ceil(nb/NR) packed-B panels, 64 bytes per panel at dst[q·pnl:],
// zero-padding the last panel. A partial last panel is packed from a
// zeroed copy of its columns: an unfolded convolution's row length is
// rarely a multiple of 16, and the Go loop's byte stores cost as much as
// all the full panels of a small layer.
func packBGroup(dst []int8, pnl int, rows *[KGroup][]int8, nb int) {
	if !useAVX2Pack {
		packBGroupGo(dst, pnl, rows, nb)
		return
	}
	n16 := nb / NR
	if n16 > 0 {
		_ = dst[(n16-1)*pnl+KGroup*NR-1]
		r0, r1, r2, r3 := rows[0][:n16*NR], rows[1][:n16*NR], rows[2][:n16*NR], rows[3][:n16*NR]
		packB4x32AVX2(&dst[0], &r0[0], &r1[0], &r2[0], &r3[0], n16, pnl)
	}
	if j0 := n16 * NR; j0 < nb {
		var last [KGroup][NR]int8
		for t := range last {
			copy(last[t][:], rows[t][j0:nb])
		}
		_ = dst[n16*pnl+KGroup*NR-1]
		packB4x32AVX2(&dst[n16*pnl], &last[0][0], &last[1][0], &last[2][0], &last[3][0], 1, pnl)
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
