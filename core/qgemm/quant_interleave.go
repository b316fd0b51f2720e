package qgemm

import "fmt"

// QuantizeInterleaved quantizes a block of up to KGroup float planes into
// one channel-interleaved int8 plane, the layout MulTaps reads an
// activation image in: the KGroup values of one position, one per plane,
// are adjacent, so that a k group of the weights (KGroup input channels
// of one kernel tap) meets one dword of B.
//
// Plane c (0 ≤ c < ch ≤ KGroup) holds rows×cols values; value (i, j) is
// src[c·planeStride + i·lds + j·colStep] and goes to
// dst[i·ldd + KGroup·j + c]; the bytes of planes ch..KGroup-1 are set to
// 0. Each value is quantized exactly as Quantize does (the same bytes).
// colStep > 1 gathers one phase of a strided convolution's input.
func QuantizeInterleaved(dst []int8, ldd int, src []float32, planeStride, lds, colStep, ch, rows, cols int, scale float32) {
	if !checkInterleave("QuantizeInterleaved", len(dst), ldd, len(src), planeStride, lds, colStep, ch, rows, cols) {
		return
	}
	rows, cols = flat(rows, cols, lds, ldd, colStep, KGroup)
	done := 0
	if colStep <= 2 {
		done = quantizeInterleavedFast(dst, ldd, src, planeStride, lds, colStep, ch, rows, cols, scale)
	}
	interleaveGo(dst, ldd, src, planeStride, lds, colStep, ch, rows, cols, done, func(x float32) int8 { return quantize1(float32(x/scale), -128) })
}

// Interleave is QuantizeInterleaved for planes already quantized: the
// int8 input an INT8 layer's producer wrote (RequantizePlanes) is laid out
// for MulTaps by moving bytes, dst[i·ldd + KGroup·j + c] =
// src[c·planeStride + i·lds + j·colStep], the bytes of planes ch..KGroup-1
// set to 0.
func Interleave(dst []int8, ldd int, src []int8, planeStride, lds, colStep, ch, rows, cols int) {
	if !checkInterleave("Interleave", len(dst), ldd, len(src), planeStride, lds, colStep, ch, rows, cols) {
		return
	}
	rows, cols = flat(rows, cols, lds, ldd, colStep, KGroup)
	done := interleaveFast(dst, ldd, src, planeStride, lds, colStep, ch, rows, cols)
	interleaveGo(dst, ldd, src, planeStride, lds, colStep, ch, rows, cols, done, func(x int8) int8 { return x })
}

// flat returns the rows and columns to work on: rows that follow each
// other in the source (lds = cols·colStep) and in the destination (ldd =
// unit·cols, unit bytes a column) are one row, so that the vector kernels,
// which leave each row's last few columns to Go, leave them once rather
// than once a row (a 12-column plane: 4 of 12 columns a row otherwise).
// Every value goes where it went before.
func flat(rows, cols, lds, ldd, colStep, unit int) (int, int) {
	if rows > 1 && lds == cols*colStep && ldd == unit*cols {
		return 1, rows * cols
	}
	return rows, cols
}

// checkInterleave panics, naming the call, on arguments no interleaving
// can serve, and reports whether there is anything to do.
func checkInterleave(name string, dstLen, ldd, srcLen, planeStride, lds, colStep, ch, rows, cols int) bool {
	if rows <= 0 || cols <= 0 {
		return false
	}
	if ch < 1 || ch > KGroup || colStep < 1 || ldd < KGroup*cols {
		panic(fmt.Sprintf("qgemm: %s of %d planes, column step %d, %d columns into rows of %d bytes", name, ch, colStep, cols, ldd))
	}
	last := (ch-1)*planeStride + (rows-1)*lds + (cols-1)*colStep
	if last >= srcLen || (rows-1)*ldd+KGroup*cols > dstLen {
		panic(fmt.Sprintf("qgemm: %s of %d×%d values: source of %d values, destination of %d bytes too short", name, rows, cols, srcLen, dstLen))
	}
	return true
}

// interleaveGo interleaves columns done..cols-1 of every row, each value
// converted by conv, zeros for the planes past ch.
func interleaveGo[S float32 | int8](dst []int8, ldd int, src []S, planeStride, lds, colStep, ch, rows, cols, done int, conv func(S) int8) {
	for i := 0; i < rows && done < cols; i++ {
		out := dst[i*ldd:]
		for c := 0; c < KGroup; c++ {
			if c >= ch {
				for j := done; j < cols; j++ {
					out[KGroup*j+c] = 0
				}
				continue
			}
			in := src[c*planeStride+i*lds:]
			for j := done; j < cols; j++ {
				out[KGroup*j+c] = conv(in[j*colStep])
			}
		}
	}
}

// QuantizeRows quantizes rows×cols values into rows of bytes, as Quantize
// does each value: dst[i·ldd + j] = q(src[i·lds + j·colStep]). Rows at a
// pitch write straight into zero-padded planes; colStep > 1 gathers one
// phase of a strided convolution's input.
func QuantizeRows(dst []int8, ldd int, src []float32, lds, colStep, rows, cols int, scale float32) {
	if !checkRows("QuantizeRows", len(dst), ldd, len(src), lds, colStep, rows, cols) {
		return
	}
	rows, cols = flat(rows, cols, lds, ldd, colStep, 1)
	done := quantizeRowsFast(dst, ldd, src, lds, colStep, rows, cols, scale)
	rowsGo(dst, ldd, src, lds, colStep, rows, cols, done, func(x float32) int8 { return quantize1(float32(x/scale), -128) })
}

// GatherRows is QuantizeRows for values already quantized: dst[i·ldd + j]
// = src[i·lds + j·colStep].
func GatherRows(dst []int8, ldd int, src []int8, lds, colStep, rows, cols int) {
	if !checkRows("GatherRows", len(dst), ldd, len(src), lds, colStep, rows, cols) {
		return
	}
	rows, cols = flat(rows, cols, lds, ldd, colStep, 1)
	if gatherRowsFast(dst, ldd, src, lds, colStep, rows, cols) == cols {
		return
	}
	if colStep == 1 {
		for i := 0; i < rows; i++ {
			copy(dst[i*ldd:i*ldd+cols], src[i*lds:])
		}
		return
	}
	rowsGo(dst, ldd, src, lds, colStep, rows, cols, 0, func(x int8) int8 { return x })
}

// checkRows is checkInterleave for the row copies.
func checkRows(name string, dstLen, ldd, srcLen, lds, colStep, rows, cols int) bool {
	if rows <= 0 || cols <= 0 {
		return false
	}
	if colStep < 1 || ldd < cols {
		panic(fmt.Sprintf("qgemm: %s of %d columns at step %d into rows of %d bytes", name, cols, colStep, ldd))
	}
	if (rows-1)*lds+(cols-1)*colStep >= srcLen || (rows-1)*ldd+cols > dstLen {
		panic(fmt.Sprintf("qgemm: %s of %d×%d values: source of %d values, destination of %d bytes too short", name, rows, cols, srcLen, dstLen))
	}
	return true
}

// rowsGo does columns done..cols-1 of every row, each value converted by
// conv.
func rowsGo[S float32 | int8](dst []int8, ldd int, src []S, lds, colStep, rows, cols, done int, conv func(S) int8) {
	for i := 0; i < rows && done < cols; i++ {
		out, in := dst[i*ldd+done:i*ldd+cols], src[i*lds+done*colStep:]
		for j := range out {
			out[j] = conv(in[j*colStep])
		}
	}
}
