//go:build !amd64 || purego

package qgemm

func kernelsFor(i Impl) *kernels {
	if i == ImplGo {
		return &goKernels
	}
	return nil
}

func bestKernels() *kernels { return &goKernels }

func needA16() bool { return false }

func packBGroup(dst []int8, pnl int, rows *[KGroup][]int8, nb int) {
	packBGroupGo(dst, pnl, rows, nb)
}

func packBRow(dst []int8, pnl, p int, row []int8) { packBRowGo(dst, pnl, p, row, 0) }

// The assembly kernels are never selected in this build.

func kernAVX2(rows, kg int, a *int16, as int, b *int8, pnl int, c *int32, ldc int, flags int, rb *int32, nt int) {
	panic("qgemm: AVX2 kernel not built")
}

func kernAVX2T(rows, kg int, a *int16, as int, b *int8, offs *int32, c *int32, ldc int, flags int, rb *int32, nt int) {
	panic("qgemm: AVX2 kernel not built")
}

func kernAVX2U8(rows, kg int, a *int8, as int, b *int8, pnl int, c *int32, ldc int, flags int, rb *int32, nt int) int {
	panic("qgemm: AVX2 kernel not built")
}

func kernAVX2U8T(rows, kg int, a *int8, as int, b *int8, offs *int32, c *int32, ldc int, flags int, rb *int32, nt int) int {
	panic("qgemm: AVX2 kernel not built")
}

func kernAVXVNNI(rows, panels, kg int, a *int8, as int, b *int8, pnl int, c *int32, ldc int, flags int, rb *int32, nt int) {
	panic("qgemm: AVX-VNNI kernel not built")
}

func kernAVXVNNIT(rows, panels, kg int, a *int8, as int, b *int8, offs *int32, c *int32, ldc int, flags int, rb *int32, nt int) {
	panic("qgemm: AVX-VNNI kernel not built")
}

func kernVNNI(rows, panels, kg int, a *int8, as int, b *int8, pnl int, c *int32, ldc int, flags int, rb *int32, nt int) {
	panic("qgemm: VNNI kernel not built")
}

func kernVNNIT(rows, panels, kg int, a *int8, as int, b *int8, offs *int32, c *int32, ldc int, flags int, rb *int32, nt int) {
	panic("qgemm: VNNI kernel not built")
}

// hasAMX: no AMX kernel in this build.
func hasAMX() bool { return false }

func (p *PackedA) packAMX(m, k int, a []int8, lda int) {}

func (p *PackedA) mulTapsAMX(n int, src []int8, offs []int32, c []int32, ldc int) {
	panic("qgemm: AMX kernel not built")
}
