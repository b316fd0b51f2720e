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
	if rows <= 0 || cols <= 0 {
		return
	}
	if ch < 1 || ch > KGroup || colStep < 1 || ldd < KGroup*cols {
		panic(fmt.Sprintf("qgemm: QuantizeInterleaved of %d planes, column step %d, %d columns into rows of %d bytes", ch, colStep, cols, ldd))
	}
	last := (ch-1)*planeStride + (rows-1)*lds + (cols-1)*colStep
	if last >= len(src) || (rows-1)*ldd+KGroup*cols > len(dst) {
		panic(fmt.Sprintf("qgemm: QuantizeInterleaved of %d×%d values: source of %d values, destination of %d bytes too short", rows, cols, len(src), len(dst)))
	}
	done := 0
	if colStep <= 2 {
		done = quantizeInterleavedFast(dst, ldd, src, planeStride, lds, colStep, ch, rows, cols, scale)
	}
	if done == cols {
		return
	}
	for i := 0; i < rows; i++ {
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
				out[KGroup*j+c] = quantize1(float32(in[j*colStep]/scale), -128)
			}
		}
	}
}

// QuantizeRows quantizes rows×cols values into rows of bytes, as Quantize
// does each value: dst[i·ldd + j] = q(src[i·lds + j·colStep]). Rows at a
// pitch write straight into zero-padded planes; colStep > 1 gathers one
// phase of a strided convolution's input.
func QuantizeRows(dst []int8, ldd int, src []float32, lds, colStep, rows, cols int, scale float32) {
	if rows <= 0 || cols <= 0 {
		return
	}
	if colStep < 1 || ldd < cols {
		panic(fmt.Sprintf("qgemm: QuantizeRows of %d columns at step %d into rows of %d bytes", cols, colStep, ldd))
	}
	if (rows-1)*lds+(cols-1)*colStep >= len(src) || (rows-1)*ldd+cols > len(dst) {
		panic(fmt.Sprintf("qgemm: QuantizeRows of %d×%d values: source of %d values, destination of %d bytes too short", rows, cols, len(src), len(dst)))
	}
	done := quantizeRowsFast(dst, ldd, src, lds, colStep, rows, cols, scale)
	if done == cols {
		return
	}
	for i := 0; i < rows; i++ {
		out, in := dst[i*ldd+done:i*ldd+cols], src[i*lds+done*colStep:]
		for j := range out {
			out[j] = quantize1(float32(in[j*colStep]/scale), -128)
		}
	}
}

// Interleave is QuantizeInterleaved for planes already quantized: the
// int8 input an INT8 layer's producer wrote (RequantizePlanes) is laid out
// for MulTaps by moving bytes, dst[i·ldd + KGroup·j + c] =
// src[c·planeStride + i·lds + j·colStep], the bytes of planes ch..KGroup-1
// set to 0.
func Interleave(dst []int8, ldd int, src []int8, planeStride, lds, colStep, ch, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	if ch < 1 || ch > KGroup || colStep < 1 || ldd < KGroup*cols {
		panic(fmt.Sprintf("qgemm: Interleave of %d planes, column step %d, %d columns into rows of %d bytes", ch, colStep, cols, ldd))
	}
	last := (ch-1)*planeStride + (rows-1)*lds + (cols-1)*colStep
	if last >= len(src) || (rows-1)*ldd+KGroup*cols > len(dst) {
		panic(fmt.Sprintf("qgemm: Interleave of %d×%d values: source of %d bytes, destination of %d bytes too short", rows, cols, len(src), len(dst)))
	}
	done := interleaveFast(dst, ldd, src, planeStride, lds, colStep, ch, rows, cols)
	if done == cols {
		return
	}
	for i := 0; i < rows; i++ {
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
				out[KGroup*j+c] = in[j*colStep]
			}
		}
	}
}

// GatherRows is QuantizeRows for values already quantized: dst[i·ldd + j]
// = src[i·lds + j·colStep].
func GatherRows(dst []int8, ldd int, src []int8, lds, colStep, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	if colStep < 1 || ldd < cols {
		panic(fmt.Sprintf("qgemm: GatherRows of %d columns at step %d into rows of %d bytes", cols, colStep, ldd))
	}
	if (rows-1)*lds+(cols-1)*colStep >= len(src) || (rows-1)*ldd+cols > len(dst) {
		panic(fmt.Sprintf("qgemm: GatherRows of %d×%d values: source of %d bytes, destination of %d bytes too short", rows, cols, len(src), len(dst)))
	}
	if colStep == 1 {
		for i := 0; i < rows; i++ {
			copy(dst[i*ldd:i*ldd+cols], src[i*lds:])
		}
		return
	}
	done := gatherRowsFast(dst, ldd, src, lds, colStep, rows, cols)
	for i := 0; i < rows && done < cols; i++ {
		out, in := dst[i*ldd+done:i*ldd+cols], src[i*lds+done*colStep:]
		for j := range out {
			out[j] = in[j*colStep]
		}
	}
}
