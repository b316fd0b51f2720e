package qgemm

import (
	"fmt"
	"math"
)

// Dequantize converts a rows×cols int32 GEMM result (row-major, leading
// dimension ldc) to float32 (leading dimension ldd) with a per-row scale and
// bias and an optional ReLU:
//
//	v = float32(c[i][j])          // int32 → float32, round to nearest even
//	v = float32(v * rowScale[i])  // rounded to float32
//	v = v + bias[i]               // rounded to float32; skipped if bias == nil
//	if relu && v < 0 { v = 0 }    // NaN is propagated
//	dst[i][j] = v
//
// Each step is rounded separately (no fused multiply-add), so the result is
// the same on every platform. For a convolution, rowScale[i] = sa·sw[i]
// (activation scale times the output channel's weight scale) and bias[i] is
// the float32 conv bias. Exact |c| ≤ 2^24 convert without rounding.
func Dequantize(c []int32, rows, cols, ldc int, rowScale []float32, bias []float32, relu bool, dst []float32, ldd int) {
	checkMat("C", rows, cols, c, ldc)
	checkMat("dst", rows, cols, dst, ldd)
	if len(rowScale) < rows || bias != nil && len(bias) < rows {
		panic(fmt.Sprintf("qgemm: Dequantize of %d rows with %d scales and %d biases", rows, len(rowScale), len(bias)))
	}
	for i := 0; i < rows; i++ {
		out := dst[i*ldd:][:cols]
		var b []float32
		if bias != nil {
			b = bias[i : i+1]
		}
		scaleInts(out, c[i*ldc:][:cols], rowScale[i:i+1], b, 0)
		if relu {
			// max compiles to a branch-free MAXSS; a branch on the sign
			// of a convolution's output mispredicts half the time.
			for j, v := range out {
				out[j] = max(v, 0)
			}
		}
	}
}

// DequantizeCols converts a rows×cols int32 GEMM result (row-major,
// leading dimension ldc) to float32 (leading dimension ldd) with a scale
// and bias per column, for products whose right operand holds the
// weights (a fully connected layer, a MatMul):
//
//	dst[i][j] = float32(float32(c[i][j]) * colScale[j]) + bias[j]
//
// rounded step by step as in Dequantize; bias may be nil.
func DequantizeCols(c []int32, rows, cols, ldc int, colScale, bias []float32, dst []float32, ldd int) {
	checkMat("C", rows, cols, c, ldc)
	checkMat("dst", rows, cols, dst, ldd)
	if len(colScale) < cols || bias != nil && len(bias) < cols {
		panic(fmt.Sprintf("qgemm: DequantizeCols of %d columns with %d scales and %d biases", cols, len(colScale), len(bias)))
	}
	for i := 0; i < rows; i++ {
		scaleInts(dst[i*ldd:][:cols], c[i*ldc:][:cols], colScale[:cols], bias, 1)
	}
}

// scaleInts sets dst[j] = float32(float32(src[j])·scale) + bias with scale
// and bias (nil: none) taken per element (step 1) or as the one value
// they hold (step 0), 16 values at a time with AVX-512 where it is there.
func scaleInts(dst []float32, src []int32, scale, bias []float32, step int) {
	done := dequantizeFast(dst, src, scale, bias, step)
	for j := done; j < len(src); j++ {
		v := float32(float32(src[j]) * scale[j*step])
		if bias != nil {
			v += bias[j*step]
		}
		dst[j] = v
	}
}

// Quantize converts src to int8 with a per-tensor scale (TensorRT scale =
// amax/127, > 0):
//
//	dst[i] = clamp(roundHalfEven(float32(src[i] / scale)), -128, 127)
//
// The division is done in float32 (correctly rounded), then ties are
// rounded to even, as TensorRT's IQuantizeLayer and ONNX QuantizeLinear do
// (and as the GPU's cvt.rni and the x86 default rounding mode do): 0.5 → 0,
// 1.5 → 2, 2.5 → 2, -2.5 → -2. Values beyond the range saturate (±Inf
// included); NaN gives 0. len(dst) must be at least len(src).
func Quantize(dst []int8, src []float32, scale float32) {
	dst = dst[:len(src)]
	done := quantizeFast(dst, src, scale)
	for i, x := range src[done:] {
		dst[done+i] = quantize1(float32(x/scale), -128)
	}
}

// quantize1 returns clamp(roundHalfEven(v), lo, 127); NaN → 0.
func quantize1(v float32, lo float32) int8 {
	// Plain comparisons (rarely taken, so well predicted) rather than the
	// min/max builtins, whose NaN and signed-zero rules cost extra work.
	if v != v {
		return 0
	}
	if v > 127 {
		v = 127
	}
	if v < lo {
		v = lo
	}
	// Adding and subtracting 1.5·2^23 rounds a float32 of magnitude below
	// 2^22 to an integer in the current rounding mode, which is
	// round-half-to-even; Go evaluates the two operations as written.
	const magic = 12582912
	return int8(int32((v + magic) - magic))
}

// QuantizeWeights quantizes the rows×cols row-major weight matrix w
// symmetrically per row (per output channel), as TensorRT does for weights
// in implicit INT8 mode:
//
//	scales[i] = float32(max_j |w[i][j]| / 127)
//	q[i][j]   = clamp(roundHalfEven(float32(w[i][j] / scales[i])), -127, 127)
//
// so that w[i][j] ≈ q[i][j]·scales[i]. A row of zeros gets scales[i] = 1
// (any positive scale represents it exactly; 1 avoids dividing by zero and
// keeps rowScale products finite) and q = 0; so does a row whose max|w|/127
// underflows to 0 (max|w| < 64·2^-149). Weights must be finite: a
// NaN quantizes to 0 and an infinite weight makes its row's scale infinite.
func QuantizeWeights(w []float32, rows, cols int) (q []int8, scales []float32) {
	checkMat("w", rows, cols, w, cols)
	q = make([]int8, rows*cols)
	scales = make([]float32, rows)
	for i := 0; i < rows; i++ {
		row := w[i*cols:][:cols]
		var amax float32
		for _, x := range row {
			amax = max(amax, float32(math.Abs(float64(x))))
		}
		s := float32(1)
		if amax > 0 && amax/127 > 0 {
			s = amax / 127
		}
		scales[i] = s
		qr := q[i*cols:][:cols]
		for j, x := range row {
			qr[j] = quantize1(float32(x/s), -127)
		}
	}
	return q, scales
}
