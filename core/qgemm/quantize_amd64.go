//go:build amd64 && !purego

package qgemm

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// vectorKernels says which vector code the quantizers, the epilogue and
// the depthwise sums use under the current GEMM implementation: AVX-512
// only under the AVX-512 VNNI GEMM (on a CPU with AVX-512F and BW), AVX2
// under the AVX2 and AVX-VNNI ones, so that forcing either on an AVX-512
// machine tests and measures all of the path those CPUs take; none under
// ImplGo.
func vectorKernels() (avx2, avx512 bool) {
	impl := CurrentImpl()
	if impl == ImplGo || !hasAVX2() {
		return false, false
	}
	return true, (impl == ImplVNNI || impl == ImplAMX) && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW
}

//go:noescape
func quantizeAVX512(dst *int8, src *float32, n int, scale, inv float32)

//go:noescape
func quantizeAVX2(dst *int8, src *float32, n int, scale, inv float32)

// quantizeFast quantizes every value with AVX-512, or the leading
// multiple of 8 with AVX2 (vectorKernels chooses), and returns how many it
// did: none for a scale without a QuantInverse.
func quantizeFast(dst []int8, src []float32, scale float32) int {
	avx2, avx512 := vectorKernels()
	inv := QuantInverse(scale)
	if !avx2 || inv == 0 {
		return 0
	}
	if avx512 {
		if len(src) > 0 {
			quantizeAVX512(&dst[0], &src[0], len(src), scale, inv)
		}
		return len(src)
	}
	n := len(src) &^ 7
	if n > 0 {
		quantizeAVX2(&dst[0], &src[0], n, scale, inv)
	}
	return n
}

// epilogueFrame is epilogueArgs as the assembly reads it: pointers to
// the first elements (res and bias nil when absent) and strides in bytes.
type epilogueFrame struct {
	dst, c, res, scale, bias unsafe.Pointer
	rows, cols               int
	ldd, ldc, ldr            int
	rowStep                  int     // bytes the scale and bias advance a row
	colVec, relu, clip       int     // 1 or 0
	lo, hi                   float32 // Clip's; requantizing, Activation.quantBounds
	rowsPer                  int     // rows sharing a scale and bias (≥ 1)
	// outScale, outInv: requantizing, the output scale and its
	// QuantInverse.
	outScale, outInv float32
	// dskip, rskip: bytes dst and res move on at a plane boundary
	// besides their leading dimension (planes at a pitch).
	dskip, rskip int
	tail         int // AVX2: a row's last cols mod 8, done under a mask
}

//go:noescape
func epilogueAVX512(f *epilogueFrame)

//go:noescape
func epilogueAVX2(f *epilogueFrame)

//go:noescape
func requantizeAVX512(f *epilogueFrame)

//go:noescape
func requantizeAVX2(f *epilogueFrame)

// epilogueFast converts every column with AVX-512 (the last ones under
// a mask) or AVX2 (a row's last cols mod 8 as one more step under a mask),
// as vectorKernels chooses, and returns how many leading columns of each
// row it did: all of them, or none when quantizing with a scale that has
// no QuantInverse (or, which no caller does, per column).
func epilogueFast(a *epilogueArgs) int {
	avx2, avx512 := vectorKernels()
	if !avx2 {
		return 0
	}
	f := epilogueFrame{
		c: unsafe.Pointer(&a.c[0]), scale: unsafe.Pointer(&a.scale[0]),
		rows: a.rows, cols: a.cols,
		ldc: 4 * a.ldc, ldr: 4 * a.ldr, rowStep: 4 * a.rowStep,
		rowsPer: max(1, a.rowsPer), tail: a.cols & 7,
	}
	if a.res != nil { // a nil res must stay nil: the kernels test it
		f.res, f.rskip = unsafe.Pointer(&a.res[0]), 4*a.skip(a.ldr)
	}
	if a.bias != nil {
		f.bias = unsafe.Pointer(&a.bias[0])
	}
	if a.dst8 != nil {
		f.outInv = QuantInverse(a.outScale)
		if f.outInv == 0 || a.colVec {
			return 0
		}
		f.dst, f.ldd, f.dskip = unsafe.Pointer(&a.dst8[0]), a.ldd, a.skip(a.ldd)
		f.outScale = a.outScale
		f.lo, f.hi = a.act.quantBounds(a.outScale)
		if avx512 {
			requantizeAVX512(&f)
		} else {
			requantizeAVX2(&f)
		}
		return a.cols
	}
	f.dst, f.ldd, f.dskip = unsafe.Pointer(&a.dst[0]), 4*a.ldd, 4*a.skip(a.ldd)
	if a.colVec {
		f.colVec = 1
	}
	if a.act.ReLU {
		f.relu = 1
	}
	if a.act.Clip {
		f.clip, f.lo, f.hi = 1, a.act.Lo, a.act.Hi
	}
	if avx512 {
		epilogueAVX512(&f)
		return a.cols
	}
	f.cols = a.cols &^ 7
	epilogueAVX2(&f)
	return a.cols
}

// interleaveFrame is a QuantizeInterleaved call as the assembly reads it:
// four planes, strides in bytes.
type interleaveFrame struct {
	dst, src   unsafe.Pointer
	rows, cols int
	ldd, lds   int
	plane      int
	step       int     // 1 or 2
	scale, inv float32 // inv: QuantInverse(scale)
	planes     int     // 1 to 4 (the interleaving kernels; the bytes of the others are 0)
}

//go:noescape
func quantizeInterleavedAVX512(f *interleaveFrame)

//go:noescape
func quantizeInterleavedAVX2(f *interleaveFrame)

// stridedFast runs one of the strided quantizers (the interleaving one,
// or the row one) at column step 1 or 2: the AVX-512 kernel on every
// column, or the AVX2 one on every column of rows of at least 8 (shorter
// rows stay in Go), as vectorKernels chooses, and returns how many leading
// columns of each row it did (none for a scale without a QuantInverse).
// (Direct calls, not kernels passed as values: the frame would escape to
// the heap on every call.)
func stridedFast(f *interleaveFrame, interleaved bool) int {
	avx2, avx512 := vectorKernels()
	f.inv = QuantInverse(f.scale)
	if f.step > 2 || !avx2 || f.inv == 0 || !avx512 && f.cols < 8 {
		return 0
	}
	switch {
	case interleaved && avx512:
		quantizeInterleavedAVX512(f)
	case interleaved:
		quantizeInterleavedAVX2(f)
	case avx512:
		quantizeRowsAVX512(f)
	default:
		quantizeRowsAVX2(f)
	}
	return f.cols
}

// quantizeInterleavedFast quantizes ch planes with the vector kernels
// (stridedFast) and returns how many leading columns of each row they did.
func quantizeInterleavedFast(dst []int8, ldd int, src []float32, planeStride, lds, step, ch, rows, cols int, scale float32) int {
	return stridedFast(&interleaveFrame{
		dst: unsafe.Pointer(&dst[0]), src: unsafe.Pointer(&src[0]),
		rows: rows, cols: cols, ldd: ldd, lds: 4 * lds, plane: 4 * planeStride, step: step, scale: scale, planes: ch,
	}, true)
}

//go:noescape
func quantizeRowsAVX512(f *interleaveFrame)

//go:noescape
func quantizeRowsAVX2(f *interleaveFrame)

// quantizeRowsFast quantizes rows with the vector kernels (stridedFast)
// and returns how many leading columns of each row they did.
func quantizeRowsFast(dst []int8, ldd int, src []float32, lds, step, rows, cols int, scale float32) int {
	return stridedFast(&interleaveFrame{
		dst: unsafe.Pointer(&dst[0]), src: unsafe.Pointer(&src[0]),
		rows: rows, cols: cols, ldd: ldd, lds: 4 * lds, step: step, scale: scale,
	}, false)
}

//go:noescape
func interleaveAVX2(f *interleaveFrame)

//go:noescape
func gatherRowsAVX2(f *interleaveFrame)

// interleaveFast runs Interleave with AVX2 on rows of at least 8 columns
// (every column; shorter rows stay in Go) and returns how many leading
// columns of each row it did: none without AVX2 (or under ImplGo).
func interleaveFast(dst []int8, ldd int, src []int8, planeStride, lds, step, ch, rows, cols int) int {
	if avx2, _ := vectorKernels(); !avx2 || step > 2 || cols < 8 {
		return 0
	}
	interleaveAVX2(&interleaveFrame{
		dst: unsafe.Pointer(&dst[0]), src: unsafe.Pointer(&src[0]),
		rows: rows, cols: cols, ldd: ldd, lds: lds, plane: planeStride, step: step, planes: ch,
	})
	return cols
}

// gatherRowsFast runs GatherRows with AVX2 at column step 1 or 2 and
// returns how many leading columns of each row it did: all, or none
// without AVX2 (or under ImplGo).
func gatherRowsFast(dst []int8, ldd int, src []int8, lds, step, rows, cols int) int {
	if avx2, _ := vectorKernels(); !avx2 || step > 2 {
		return 0
	}
	gatherRowsAVX2(&interleaveFrame{
		dst: unsafe.Pointer(&dst[0]), src: unsafe.Pointer(&src[0]),
		rows: rows, cols: cols, ldd: ldd, lds: lds, step: step,
	})
	return cols
}

// BlocksVector reports whether RequantizeBlocks has a vector kernel under
// the current implementation (AVX-512); without one it is a Go loop, and
// callers prefer planes.
func BlocksVector() bool {
	_, avx512 := vectorKernels()
	return avx512
}

// blocksFrame is a RequantizeBlocks call as requantizeBlocksAVX512 reads
// it (go_asm.h has its offsets): byte strides.
type blocksFrame struct {
	c, dst, scale, bias unsafe.Pointer
	blocks, n           int
	ldc                 int // bytes between planes of c
	blockBytes          int // bytes between blocks of dst
	lo, hi              float32
	outScale, outInv    float32
}

//go:noescape
func requantizeBlocksAVX512(f *blocksFrame)

// requantizeBlocksFast runs RequantizeBlocks with AVX-512 and reports
// whether it did (not without a QuantInverse).
func requantizeBlocksFast(c []int32, planes, n, ldc int, scales, bias []float32, act Activation, outScale float32, dst []int8, at, plane int) bool {
	inv := QuantInverse(outScale)
	if !BlocksVector() || inv == 0 {
		return false
	}
	f := blocksFrame{
		c: unsafe.Pointer(&c[0]), dst: unsafe.Pointer(&dst[at*4]), scale: unsafe.Pointer(&scales[0]),
		blocks: planes / 4, n: n, ldc: 4 * ldc, blockBytes: 4 * plane, outScale: outScale, outInv: inv,
	}
	if bias != nil {
		f.bias = unsafe.Pointer(&bias[0])
	}
	f.lo, f.hi = act.quantBounds(outScale)
	requantizeBlocksAVX512(&f)
	return true
}
