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
//	if relu { v = max(v, 0) }     // Go's max: NaN is propagated, −0 → +0
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
	epilogue(&epilogueArgs{c: c, dst: dst, scale: rowScale, bias: bias, rows: rows, cols: cols, ldc: ldc, ldd: ldd, rowStep: 1, act: Activation{ReLU: relu}})
}

// Activation is what DequantizePlanes applies last: a ReLU, a clip, or
// nothing.
type Activation struct {
	// ReLU is Go's max(v, 0): NaN kept, −0 → +0.
	ReLU bool
	// Clip clamps to [Lo, Hi] as ONNX Clip does (MobileNet's ReLU6):
	// v < Lo → Lo, v > Hi → Hi, NaN and −0 kept.
	Clip   bool
	Lo, Hi float32
}

// apply returns v after the activation, the rule the vector kernels follow.
func (a Activation) apply(v float32) float32 {
	if a.ReLU {
		v = max(v, 0)
	}
	if a.Clip {
		if v < a.Lo {
			v = a.Lo
		} else if v > a.Hi {
			v = a.Hi
		}
	}
	return v
}

// quantBounds returns the one clamp [lo, hi] after which the vector
// kernels' fast loops quantize with outScale: the activation's (ReLU's 0
// and Clip's bounds as one pair, which differ from apply's only on −0 and
// +0, alike once quantized), within ±128·outScale, past which every
// value saturates to the same byte anyway (hi is raised to -128·outScale
// too). The quotients then lie
// within [-128, 128], so they need none of QUOTIENT's bounds, and
// rounding and saturating give the bytes Quantize does. A NaN bound
// (which clamps nothing, as in apply) is replaced by the range's.
func (a Activation) quantBounds(outScale float32) (lo, hi float32) {
	lo, hi = -128*outScale, 128*outScale
	if a.ReLU && 0 > lo {
		lo = 0
	}
	if a.Clip && a.Lo > lo {
		lo = a.Lo
	}
	if a.Clip && a.Hi < hi {
		hi = a.Hi
	}
	// A Hi below the range (or below ReLU's 0 or Lo: the upper bound
	// applies last) saturates every value low; raised to the range's
	// bound it still does, and the quotient stays finite.
	return lo, max(hi, -128*outScale)
}

// DequantizePlanes converts planes output channels of a convolution at
// once: c holds planes·rows rows of cols int32 products (leading
// dimension ldc, plane after plane), plane p's scaled by scales[p] and
// biased by bias[p] (bias nil: none), with a residual res (nil for none)
// added before the activation:
//
//	v = float32(float32(c[i][j]) * scales[p])
//	v = v + bias[p]               // skipped if bias == nil
//	v = v + res[i][j]             // skipped if res == nil
//	v = act(v)                    // ReLU, Clip or none
//	dst[i][j] = v
//
// rounded step by step as in Dequantize. Row r of plane p goes to
// dst[p·pitch + r·ldd:], and res is laid out as dst: a chunk of output
// rows of every channel in one call, however far apart the channels'
// planes are (one call per channel cost more than small planes' work).
// ldc > cols lets it read the valid columns out of a product computed
// over padded rows.
func DequantizePlanes(c []int32, planes, rows, cols, ldc int, scales, bias, res []float32, act Activation, dst []float32, ldd, pitch int) {
	checkPlanes(c, planes, rows, cols, ldc, scales, bias, res, ldd, pitch, "DequantizePlanes")
	checkPitched("dst", planes, rows, cols, len(dst), ldd, pitch)
	rows, cols, ldc, ldd = planeRows(rows, cols, ldc, ldd)
	epilogue(&epilogueArgs{c: c, dst: dst, res: res, scale: scales, bias: bias, rows: planes * rows, cols: cols, ldc: ldc, ldd: ldd, ldr: ldd, pitch: pitch, rowStep: 1, rowsPer: rows, act: act})
}

// RequantizePlanes is DequantizePlanes writing int8 instead of float32:
// each value v, computed and rounded exactly as DequantizePlanes computes
// it, is then quantized with outScale exactly as Quantize quantizes it:
//
//	dst[i][j] = clamp(roundHalfEven(float32(v / outScale)), -128, 127)  // NaN → 0
//
// so that an INT8 layer whose output feeds only INT8 layers (quantizing
// it with outScale) hands them the very bytes they would have made from
// its float32 output, at a quarter of the memory traffic. outScale must be
// positive; res (float32) is laid out as dst, in elements.
func RequantizePlanes(c []int32, planes, rows, cols, ldc int, scales, bias, res []float32, act Activation, outScale float32, dst []int8, ldd, pitch int) {
	checkPlanes(c, planes, rows, cols, ldc, scales, bias, res, ldd, pitch, "RequantizePlanes")
	checkPitched("dst", planes, rows, cols, len(dst), ldd, pitch)
	if !(outScale > 0) {
		panic(fmt.Sprintf("qgemm: RequantizePlanes with output scale %v", outScale))
	}
	rows, cols, ldc, ldd = planeRows(rows, cols, ldc, ldd)
	epilogue(&epilogueArgs{c: c, dst8: dst, outScale: outScale, res: res, scale: scales, bias: bias, rows: planes * rows, cols: cols, ldc: ldc, ldd: ldd, ldr: ldd, pitch: pitch, rowStep: 1, rowsPer: rows, act: act})
}

// planeRows returns the rows, columns and leading dimensions a plane of
// rows×cols values is converted as: one row of them all where its rows
// follow each other without a gap in c and dst (and so in res, laid out
// as dst), as a pointwise convolution's do (flat decides, as for the
// interleavers). A 7×7 plane is then six vector steps and a tail, not
// seven tails.
func planeRows(rows, cols, ldc, ldd int) (r, n, ldcOut, lddOut int) {
	if r, n := flat(rows, cols, ldc, ldd, 1, 1); r != rows {
		return r, n, n, n
	}
	return rows, cols, ldc, ldd
}

// checkPlanes checks what DequantizePlanes and RequantizePlanes read.
func checkPlanes(c []int32, planes, rows, cols, ldc int, scales, bias, res []float32, ldd, pitch int, name string) {
	checkMat("C", planes*rows, cols, c, ldc)
	if res != nil {
		checkPitched("res", planes, rows, cols, len(res), ldd, pitch)
	}
	if len(scales) < planes || bias != nil && len(bias) < planes {
		panic(fmt.Sprintf("qgemm: %s of %d planes with %d scales and %d biases", name, planes, len(scales), len(bias)))
	}
}

// checkPitched checks that planes planes of rows rows of cols values,
// rows ld apart and planes pitch apart (no overlap), fit in n elements.
func checkPitched(name string, planes, rows, cols, n, ld, pitch int) {
	if planes < 0 || rows < 0 || cols < 0 {
		panic(fmt.Sprintf("qgemm: negative dimension of %s (%d planes of %d×%d)", name, planes, rows, cols))
	}
	if planes == 0 || rows == 0 || cols == 0 {
		return
	}
	if ld < cols || planes > 1 && pitch < (rows-1)*ld+cols {
		panic(fmt.Sprintf("qgemm: %s rows %d apart for %d columns, planes %d apart for %d rows: they overlap", name, ld, cols, pitch, rows))
	}
	if need := (planes-1)*pitch + (rows-1)*ld + cols; n < need {
		panic(fmt.Sprintf("qgemm: %s has %d elements, need %d", name, n, need))
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
	epilogue(&epilogueArgs{c: c, dst: dst, scale: colScale, bias: bias, rows: rows, cols: cols, ldc: ldc, ldd: ldd, colVec: true})
}

// epilogueArgs is one dequantization: rows×cols values of c (leading
// dimension ldc) scaled, biased, summed with res (leading dimension ldr)
// and passed through the activation into dst (leading dimension ldd), in the
// order Dequantize and DequantizePlanes document, or quantized into dst8
// (RequantizePlanes). The scale and bias are
// per column (colVec), per row (rowStep 1) or shared (rowStep 0); bias and
// res may be nil. The callers have checked the bounds.
type epilogueArgs struct {
	c             []int32
	dst, res      []float32
	dst8          []int8 // instead of dst: the values quantized with outScale
	outScale      float32
	scale, bias   []float32
	rows, cols    int
	ldc, ldd, ldr int
	rowStep       int
	rowsPer       int // rows sharing a scale and bias (0 or 1: each its own)
	// pitch: the elements from one plane's first row of dst (and res) to
	// the next's, planes of rowsPer rows (DequantizePlanes); 0: rows
	// follow each other at their leading dimension.
	pitch  int
	colVec bool
	act    Activation
}

// rowAt returns where row i of dst (leading dimension ld) starts: plane
// after plane at a.pitch, when there is one.
func (a *epilogueArgs) rowAt(i, ld int) int {
	if a.pitch == 0 {
		return i * ld
	}
	per := max(1, a.rowsPer)
	return i/per*a.pitch + i%per*ld
}

// skip returns the elements a row pointer of leading dimension ld must
// move on at a plane boundary besides its ld: pitch − rowsPer·ld.
func (a *epilogueArgs) skip(ld int) int {
	if a.pitch == 0 {
		return 0
	}
	return a.pitch - max(1, a.rowsPer)*ld
}

// epilogue runs the vector kernel where there is one, then the columns it
// left (its return) in Go.
func epilogue(a *epilogueArgs) {
	if a.rows == 0 || a.cols == 0 {
		return
	}
	done := epilogueFast(a)
	if done == a.cols {
		return
	}
	for i := 0; i < a.rows; i++ {
		step := i / max(1, a.rowsPer) * a.rowStep
		s, b := a.scale[step:], a.bias
		if b != nil {
			b = b[step:]
		}
		var out []float32
		var out8 []int8
		if a.dst8 != nil {
			out8 = a.dst8[a.rowAt(i, a.ldd):][:a.cols]
		} else {
			out = a.dst[a.rowAt(i, a.ldd):][:a.cols]
		}
		src := a.c[i*a.ldc:][:a.cols]
		var res []float32
		if a.res != nil {
			res = a.res[a.rowAt(i, a.ldr):][:a.cols]
		}
		for j := done; j < a.cols; j++ {
			k := 0
			if a.colVec {
				k = j
			}
			v := float32(float32(src[j]) * s[k])
			if b != nil {
				v += b[k]
			}
			if res != nil {
				v += res[j]
			}
			v = a.act.apply(v)
			if out8 != nil {
				out8[j] = quantize1(float32(v/a.outScale), -128)
			} else {
				out[j] = v
			}
		}
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

// QuantInverse returns the float32 nearest 1/scale, with which the
// vector quantizers here and the GPU's conv_s8 kernels (quant_exact in
// core/cuda's kernels.cu) get Quantize's integers without dividing, by
// Markstein's division step (quotient_amd64.h), or 0 where they must
// divide: below 2^-100 or where 1/scale is no finite normal float. The
// step needs the remainder x - t·scale exact, which it is wherever
// x/scale can round to a nonzero integer (|x| ≥ scale/2) while scale ≥
// 2^-100 (the remainder's last bit, about |x|·2^-48, is no smaller than
// float32's least subnormal), and t = x·inv within an ulp of the
// quotient, which a subnormal inv is not.
func QuantInverse(scale float32) float32 {
	inv := 1 / scale
	if !(scale >= 0x1p-100) || !(inv >= 0x1p-126) || math.IsInf(float64(inv), 0) {
		return 0
	}
	return inv
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
