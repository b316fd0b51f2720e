//go:build !amd64 || purego

package gemm

func kernelsFor(i Impl) *kernels {
	if i == ImplGo {
		return &goKernels
	}
	return nil
}

func bestKernels() *kernels { return &goKernels }

func kernAVX2(rows, panels, k int, a *float32, as int, b *float32, pnl int, c *float32, ldc int, flags int, rb, cb *float32, lo, hi float32, co *float32) {
	panic("gemm: AVX2 kernel not built")
}

func kernAVX512(rows, panels, k int, a *float32, as int, b *float32, pnl int, c *float32, ldc int, flags int, rb, cb *float32, lo, hi float32, co *float32) {
	panic("gemm: AVX-512 kernel not built")
}

func packBFull(dst, b []float32, ldb, kb, np, pnl int) { packBFullGo(dst, b, ldb, kb, np, pnl) }

func packAPanel(dst []float32, rows, k int, a []float32, lda int) {
	packAPanelGo(dst, rows, k, a, lda, 0)
}

func kernAVX2I(rows, panels, k int, a *float32, as int, b *float32, off *int, c *float32, ldc int, flags int, rb, cb *float32, lo, hi float32, bq, cq, np int, co *float32) {
	panic("gemm: AVX2 kernel not built")
}

func kernAVX512I(rows, panels, k int, a *float32, as int, b *float32, off *int, c *float32, ldc int, flags int, rb, cb *float32, lo, hi float32, bq, cq, np int, co *float32) {
	panic("gemm: AVX-512 kernel not built")
}

func kernAVX512IM(rows, panels, k int, a *float32, as int, b *float32, off *int, c *float32, ldc int, flags int, rb, cb *float32, lo, hi float32, bq, cq, np, mask0, mask1 int, co *float32) {
	panic("gemm: AVX-512 kernel not built")
}

func kernAVX2D(rows, panels, k int, a *float32, as int, b *float32, pnl int, c *float32, ldc int, flags int, rb, cb *float32, lo, hi float32, co *float32) {
	panic("gemm: AVX2 kernel not built")
}

func kernAVX512D(rows, panels, k int, a *float32, as int, b *float32, pnl int, c *float32, ldc int, flags int, rb, cb *float32, lo, hi float32, co *float32) {
	panic("gemm: AVX-512 kernel not built")
}

func transposeFast(dst, src []float32, rows, cols int) (int, int) { return 0, 0 }
