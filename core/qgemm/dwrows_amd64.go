//go:build amd64 && !purego

package qgemm

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// dwRowsFrame is a DepthwiseRows.Sums call as depthwiseRowsVNNI reads it
// (go_asm.h has its offsets).
type dwRowsFrame struct {
	acc, x       unsafe.Pointer // the first channel's sums and input plane
	w, init      unsafe.Pointer // its weight words and starting sum
	rows, chunks unsafe.Pointer // DepthwiseRows' tables
	index        unsafe.Pointer // DepthwiseRows.index
	zero         unsafe.Pointer // DepthwiseRows.zero
	channels     int
	inBytes      int // an input plane's
	outBytes     int // an output plane's sums, in bytes
	rowBytes     int // an output row's sums, in bytes
	oh, kh       int
	nchunks      int
	words        int // a kernel row's weight words: 1 or 2
	halves       int // 1 or 2
}

//go:noescape
func depthwiseRowsVNNI(f *dwRowsFrame)

//go:noescape
func depthwiseRows3VNNI(f *dwRowsFrame)

// dwRowsVector reports whether the row kernel runs under the current
// implementation: AVX-512 (vectorKernels) with VNNI and VBMI.
func dwRowsVector() bool {
	_, avx512 := vectorKernels()
	return avx512 && cpu.X86.HasAVX512VNNI && cpu.X86.HasAVX512VBMI
}

// dwRowsFast runs DepthwiseRows.Sums for n channels from c0 with the
// vector kernel, and reports whether it did.
func dwRowsFast(d *DepthwiseRows, acc []int32, x []int8, w *DepthwiseWeights, c0, n int) bool {
	if !dwRowsVector() {
		return false
	}
	win := &d.win
	f := dwRowsFrame{
		acc: unsafe.Pointer(&acc[0]), x: unsafe.Pointer(&x[0]),
		w: unsafe.Pointer(&w.w[c0*w.kh*w.words]), init: unsafe.Pointer(&w.init[c0]),
		rows: unsafe.Pointer(&d.rows[0]), chunks: unsafe.Pointer(&d.chunks[0]), index: unsafe.Pointer(&d.index), zero: unsafe.Pointer(&d.zero[0]),
		channels: n, inBytes: win.In[0] * win.In[1], outBytes: 4 * win.Out[0] * win.Out[1], rowBytes: 4 * win.Out[1],
		oh: win.Out[0], kh: win.Kernel[0], nchunks: len(d.chunks), words: w.words, halves: d.halves,
	}
	if f.kh == 3 && f.words == 1 {
		depthwiseRows3VNNI(&f)
	} else {
		depthwiseRowsVNNI(&f)
	}
	return true
}
