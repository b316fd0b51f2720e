//go:build amd64 && !purego

#include "textflag.h"
#include "go_asm.h"

// The epilogue kernels convert an int32 product to float32 as
// qgemm.DequantizePlane documents, one row at a time:
//
//	v = float32(c)·scale (+ bias) (+ res), then max(v, 0) if relu,
//	then v clamped to [lo, hi] if clip (NaN and −0 kept)
//
// each operation rounded to float32 as Go rounds it (no fused
// multiply-add), and stored (epilogueAVX512, epilogueAVX2); or, with a
// scale a row, quantized with F_OUTSCALE (and its inverse F_OUTINV) as
// Quantize quantizes and stored as int8 (requantizeAVX512,
// requantizeAVX2). They read an epilogueFrame (quantize_amd64.go;
// go_asm.h has its offsets):
#define F_DST epilogueFrame_dst
#define F_C epilogueFrame_c
#define F_RES epilogueFrame_res
#define F_SCALE epilogueFrame_scale
#define F_BIAS epilogueFrame_bias
#define F_ROWS epilogueFrame_rows
#define F_COLS epilogueFrame_cols
#define F_LDD epilogueFrame_ldd
#define F_LDC epilogueFrame_ldc
#define F_LDR epilogueFrame_ldr
#define F_ROWSTEP epilogueFrame_rowStep
#define F_COLVEC epilogueFrame_colVec
#define F_RELU epilogueFrame_relu
#define F_CLIP epilogueFrame_clip
#define F_LO epilogueFrame_lo
#define F_HI epilogueFrame_hi
#define F_ROWSPER epilogueFrame_rowsPer
#define F_OUTSCALE epilogueFrame_outScale
#define F_OUTINV epilogueFrame_outInv
#define F_DSKIP epilogueFrame_dskip
#define F_RSKIP epilogueFrame_rskip
#define F_TAIL epilogueFrame_tail

// func epilogueAVX512(f *epilogueFrame)
// Every column, 16 at a time, a row's last cols mod 16 under the mask K1
// (made once: every row has F_COLS); each step under K3, all lanes or K1.
// A scale a row is broadcast once a plane (F_ROWSPER rows): ResNet-20's
// rows are 32, 16 and 8 wide, where a row's setup cost as much as its
// values. src, dst, res and per-column scale and bias all have 4-byte
// elements, so one byte offset (BX) walks them all.
TEXT ·epilogueAVX512(SB), NOSPLIT, $0-8
	MOVQ f+0(FP), AX
	MOVQ F_DST(AX), DI
	MOVQ F_C(AX), SI
	MOVQ F_RES(AX), R11
	MOVQ F_SCALE(AX), R8
	MOVQ F_BIAS(AX), R10
	MOVQ F_ROWS(AX), R12
	VXORPS Z4, Z4, Z4
	VBROADCASTSS F_LO(AX), Z6
	VBROADCASTSS F_HI(AX), Z7
	KXNORW       K0, K0, K2
	MOVQ         F_COLS(AX), CX
	ANDQ         $15, CX
	MOVL         $1, DX
	SHLL         CX, DX
	DECL         DX
	KMOVW        DX, K1

plane512:
	MOVQ F_ROWSPER(AX), R13
	CMPQ F_COLVEC(AX), $0
	JNE  row512
	VBROADCASTSS (R8), Z1
	TESTQ R10, R10
	JZ    row512
	VBROADCASTSS (R10), Z2

row512:
	MOVQ F_COLS(AX), CX
	XORQ BX, BX

col512:
	KMOVW K2, K3
	CMPQ  CX, $16
	JGE   body512
	KMOVW K1, K3

body512:
	VMOVDQU32.Z (SI)(BX*1), K3, Z0
	VCVTDQ2PS   Z0, Z0
	CMPQ        F_COLVEC(AX), $0
	JE          scaled512
	VMOVUPS.Z   (R8)(BX*1), K3, Z1
	TESTQ       R10, R10
	JZ          scaled512
	VMOVUPS.Z   (R10)(BX*1), K3, Z2

scaled512:
	VMULPS Z1, Z0, Z0
	TESTQ  R10, R10
	JZ     biased512
	VADDPS Z2, Z0, Z0

biased512:
	TESTQ     R11, R11
	JZ        summed512
	VMOVUPS.Z (R11)(BX*1), K3, Z3
	VADDPS    Z3, Z0, Z0

summed512:
	CMPQ F_RELU(AX), $0
	JE   clip512
	// Go's max(v, 0): MAXPS(v, 0) gives v > 0 ? v : +0 (so −0 → +0),
	// and NaN lanes (unordered with themselves) keep v.
	VCMPPS  $3, Z0, Z0, K4
	VMAXPS  Z4, Z0, Z5
	VMOVAPS Z0, K4, Z5
	VMOVAPS Z5, Z0

clip512:
	CMPQ F_CLIP(AX), $0
	JE   store512
	// MAXPS(lo, v) and MINPS(hi, v) return their second operand, v, when
	// it is NaN or equal to the bound: ONNX Clip, −0 kept.
	VMAXPS Z0, Z6, Z0
	VMINPS Z0, Z7, Z0

store512:
	VMOVUPS Z0, K3, (DI)(BX*1)
	ADDQ    $64, BX
	SUBQ    $16, CX
	JG      col512 // after the tail CX is negative

	ADDQ  F_LDD(AX), DI
	ADDQ  F_LDC(AX), SI
	TESTQ R11, R11
	JZ    nextRow512
	ADDQ  F_LDR(AX), R11

nextRow512:
	DECQ R12
	JZ   done512
	DECQ R13
	JNZ  row512
	// The next plane: dst and res on to it, its scale and bias.
	ADDQ  F_DSKIP(AX), DI
	ADDQ  F_RSKIP(AX), R11
	ADDQ  F_ROWSTEP(AX), R8
	TESTQ R10, R10
	JZ    plane512
	ADDQ  F_ROWSTEP(AX), R10
	JMP   plane512

done512:
	VZEROUPPER
	RET

// SCALED converts the int32 products at off(SI)(BX*1) into v, scaled and
// biased (a Z or a Y register and its scale and bias alike); RESIDUAL
// adds the residual at off(R11)(BX*1).
#define SCALED(v, off, scale, bias) \
	VCVTDQ2PS off(SI)(BX*1), v \
	VMULPS    scale, v, v \
	VADDPS    bias, v, v

#define RESIDUAL(v, off) \
	VADDPS off(R11)(BX*1), v, v

// QUANT512 quantizes v, already clamped to the activation's bounds within
// ±128·outScale (Activation.quantBounds) by the two operations before it,
// into the int32 lanes of q: the quotient as QUOTIENT takes it (t = v·inv,
// r = v − t·scale exact, t + r·inv correctly rounded) without its bounds,
// which the clamp made needless, rounded half to even, NaN lanes 0. v and
// t are clobbered; K3 holds the lanes that are not NaN. Bounds in Z6, Z7,
// the scale in Z8, its inverse in Z28.
#define QUANT512(v, t, q) \
	VMAXPS       v, Z6, v \
	VMINPS       v, Z7, v \
	VMULPS       Z28, v, t \
	VFNMADD231PS Z8, t, v \
	VFMADD231PS  Z28, v, t \
	VCMPPS       $0, t, t, K3 \
	VCVTPS2DQ.Z  t, K3, q

// QUANT512N is QUANT512 for values that cannot be NaN (no residual: the
// products, scaled and biased, are numbers or clamped infinities).
#define QUANT512N(v, t, q) \
	VMAXPS       v, Z6, v \
	VMINPS       v, Z7, v \
	VMULPS       Z28, v, t \
	VFNMADD231PS Z8, t, v \
	VFMADD231PS  Z28, v, t \
	VCVTPS2DQ    t, q

// rqOrder is VPERMD's index putting the dwords of VPACKSSWB's output,
// 128-bit lane l holding 4 bytes of each of four vectors s, in order: s
// major, l minor.
DATA rqOrder<>+0(SB)/8, $0x0000000400000000
DATA rqOrder<>+8(SB)/8, $0x0000000c00000008
DATA rqOrder<>+16(SB)/8, $0x0000000500000001
DATA rqOrder<>+24(SB)/8, $0x0000000d00000009
DATA rqOrder<>+32(SB)/8, $0x0000000600000002
DATA rqOrder<>+40(SB)/8, $0x0000000e0000000a
DATA rqOrder<>+48(SB)/8, $0x0000000700000003
DATA rqOrder<>+56(SB)/8, $0x0000000f0000000b
GLOBL rqOrder<>(SB), RODATA|NOPTR, $64

// func requantizeAVX512(f *epilogueFrame)
// The epilogue into int8 with a scale a row (every INT8 convolution that
// feeds INT8 layers; MobileNetV2's INT8 run spent a third of its time
// here): 64 values a step, then 32, then 16, then the row's last cols mod
// 16 under the mask K1; no flag tested but the residual's, and the scale
// and bias broadcast once a plane. VPMOVSDB, or VPACKSSDW and VPACKSSWB
// (half the shuffles for 64 values, in order again after one VPERMD),
// saturate to the bytes Quantize gives. Without bias, Z2 adds 0 (−0 and
// +0 quantize alike).
TEXT ·requantizeAVX512(SB), NOSPLIT, $0-8
	MOVQ f+0(FP), AX
	MOVQ F_DST(AX), DI
	MOVQ F_C(AX), SI
	MOVQ F_RES(AX), R11
	MOVQ F_SCALE(AX), R8
	MOVQ F_BIAS(AX), R10
	MOVQ F_ROWS(AX), R12
	VBROADCASTSS F_LO(AX), Z6
	VBROADCASTSS F_HI(AX), Z7
	VBROADCASTSS F_OUTSCALE(AX), Z8
	VBROADCASTSS F_OUTINV(AX), Z28
	VMOVDQU64    rqOrder<>(SB), Z22
	VXORPS       Z2, Z2, Z2
	MOVQ         F_COLS(AX), CX
	ANDQ         $15, CX
	MOVL         $1, DX
	SHLL         CX, DX
	DECL         DX
	KMOVW        DX, K1 // a row's last cols mod 16

qplane512:
	MOVQ         F_ROWSPER(AX), R13
	VBROADCASTSS (R8), Z1
	TESTQ        R10, R10
	JZ           qrow512
	VBROADCASTSS (R10), Z2

qrow512:
	MOVQ F_COLS(AX), CX
	XORQ BX, BX
	XORQ R9, R9

q64_512:
	CMPQ CX, $64
	JL   q32_512
	SCALED(Z0, 0, Z1, Z2)
	SCALED(Z14, 64, Z1, Z2)
	SCALED(Z15, 128, Z1, Z2)
	SCALED(Z16, 192, Z1, Z2)
	TESTQ R11, R11
	JNZ   q64res512
	QUANT512N(Z0, Z29, Z11)
	QUANT512N(Z14, Z30, Z17)
	QUANT512N(Z15, Z18, Z20)
	QUANT512N(Z16, Z19, Z21)
	JMP   q64pack512

q64res512:
	RESIDUAL(Z0, 0)
	RESIDUAL(Z14, 64)
	RESIDUAL(Z15, 128)
	RESIDUAL(Z16, 192)
	QUANT512(Z0, Z29, Z11)
	QUANT512(Z14, Z30, Z17)
	QUANT512(Z15, Z18, Z20)
	QUANT512(Z16, Z19, Z21)

q64pack512:
	VPACKSSDW Z17, Z11, Z11
	VPACKSSDW Z21, Z20, Z20
	VPACKSSWB Z20, Z11, Z11
	VPERMD    Z11, Z22, Z11
	VMOVDQU64 Z11, (DI)(R9*1)
	ADDQ      $256, BX
	ADDQ      $64, R9
	SUBQ      $64, CX
	JMP       q64_512

q32_512:
	CMPQ      CX, $32
	JL        q16_512
	SCALED(Z0, 0, Z1, Z2)
	SCALED(Z14, 64, Z1, Z2)
	TESTQ R11, R11
	JZ    q32summed512
	RESIDUAL(Z0, 0)
	RESIDUAL(Z14, 64)

q32summed512:
	QUANT512(Z0, Z29, Z11)
	QUANT512(Z14, Z30, Z17)
	VPMOVSDB Z11, X11
	VPMOVSDB Z17, X12
	VMOVDQU  X11, (DI)(R9*1)
	VMOVDQU  X12, 16(DI)(R9*1)
	ADDQ     $128, BX
	ADDQ     $32, R9
	SUBQ     $32, CX
	JMP      q32_512

q16_512:
	CMPQ      CX, $16
	JL        qtail512
	SCALED(Z0, 0, Z1, Z2)
	TESTQ R11, R11
	JZ    q16summed512
	RESIDUAL(Z0, 0)

q16summed512:
	QUANT512(Z0, Z29, Z11)
	VPMOVSDB Z11, X11
	VMOVDQU  X11, (DI)(R9*1)
	ADDQ     $64, BX
	ADDQ     $16, R9
	SUBQ     $16, CX

qtail512:
	TESTQ       CX, CX
	JZ          qnext512
	VMOVDQU32.Z (SI)(BX*1), K1, Z0
	VCVTDQ2PS   Z0, Z0
	VMULPS      Z1, Z0, Z0
	VADDPS      Z2, Z0, Z0
	TESTQ       R11, R11
	JZ          qtailSummed512
	VMOVUPS.Z   (R11)(BX*1), K1, Z3
	VADDPS      Z3, Z0, Z0

qtailSummed512:
	QUANT512(Z0, Z29, Z11)
	VPMOVSDB Z11, X11
	VMOVDQU8 X11, K1, (DI)(R9*1)

qnext512:
	ADDQ  F_LDD(AX), DI
	ADDQ  F_LDC(AX), SI
	TESTQ R11, R11
	JZ    qnextRow512
	ADDQ  F_LDR(AX), R11

qnextRow512:
	DECQ R12
	JZ   qdone512
	DECQ R13
	JNZ  qrow512
	// The next plane: dst and res on to it, its scale and bias.
	ADDQ  F_DSKIP(AX), DI
	ADDQ  F_RSKIP(AX), R11
	ADDQ  F_ROWSTEP(AX), R8
	TESTQ R10, R10
	JZ    qplane512
	ADDQ  F_ROWSTEP(AX), R10
	JMP   qplane512

qdone512:
	VZEROUPPER
	RET

// TAILMASK256 sets Y3's lane i where i < F_TAIL (clobbering Y5).
#define TAILMASK256 \
	VPBROADCASTD F_TAIL(AX), Y3 \
	VMOVDQU      laneIndex<>(SB), Y5 \
	VPCMPGTD     Y5, Y3, Y3

// func epilogueAVX2(f *epilogueFrame)
// The columns 8 at a time (F_COLS, a multiple of 8), then a row's last
// F_TAIL (0 to 7) as one more step (DX = 1) under the mask Y3: masked
// loads, which cannot fault on the lanes they skip, and masked stores.
// Nothing is computed twice, so dst may be res itself.
TEXT ·epilogueAVX2(SB), NOSPLIT, $0-8
	MOVQ f+0(FP), AX
	MOVQ F_DST(AX), DI
	MOVQ F_C(AX), SI
	MOVQ F_RES(AX), R11
	MOVQ F_SCALE(AX), R8
	MOVQ F_BIAS(AX), R10
	MOVQ F_ROWS(AX), R12
	MOVQ F_ROWSPER(AX), R13
	VXORPS Y4, Y4, Y4
	VBROADCASTSS F_LO(AX), Y7
	VBROADCASTSS F_HI(AX), Y8
	TAILMASK256

row2:
	CMPQ F_COLVEC(AX), $0
	JNE  cols2
	VBROADCASTSS (R8), Y1
	TESTQ R10, R10
	JZ    cols2
	VBROADCASTSS (R10), Y2

cols2:
	MOVQ  F_COLS(AX), CX
	XORQ  BX, BX
	XORQ  DX, DX
	TESTQ CX, CX
	JZ    tail2

col2:
	TESTQ     DX, DX
	JNZ       loadTail2
	VCVTDQ2PS (SI)(BX*1), Y0
	CMPQ      F_COLVEC(AX), $0
	JE        scaled2
	VMOVUPS   (R8)(BX*1), Y1
	TESTQ     R10, R10
	JZ        scaled2
	VMOVUPS   (R10)(BX*1), Y2
	JMP       scaled2

loadTail2:
	VPMASKMOVD (SI)(BX*1), Y3, Y0
	VCVTDQ2PS  Y0, Y0
	CMPQ       F_COLVEC(AX), $0
	JE         scaled2
	VMASKMOVPS (R8)(BX*1), Y3, Y1
	TESTQ      R10, R10
	JZ         scaled2
	VMASKMOVPS (R10)(BX*1), Y3, Y2

scaled2:
	VMULPS Y1, Y0, Y0
	TESTQ  R10, R10
	JZ     biased2
	VADDPS Y2, Y0, Y0

biased2:
	TESTQ  R11, R11
	JZ     summed2
	TESTQ  DX, DX
	JNZ    resTail2
	VADDPS (R11)(BX*1), Y0, Y0
	JMP    summed2

resTail2:
	VMASKMOVPS (R11)(BX*1), Y3, Y5
	VADDPS     Y5, Y0, Y0

summed2:
	CMPQ F_RELU(AX), $0
	JE   clip2
	// As in the AVX-512 kernel: MAXPS(v, 0), NaN lanes blended back.
	VCMPPS    $3, Y0, Y0, Y6
	VMAXPS    Y4, Y0, Y5
	VBLENDVPS Y6, Y0, Y5, Y0

clip2:
	CMPQ F_CLIP(AX), $0
	JE   store2
	VMAXPS Y0, Y7, Y0
	VMINPS Y0, Y8, Y0

store2:
	TESTQ   DX, DX
	JNZ     storeTail2
	VMOVUPS Y0, (DI)(BX*1)
	ADDQ    $32, BX
	SUBQ    $8, CX
	JNZ     col2

tail2:
	CMPQ F_TAIL(AX), $0
	JE   rowDone2
	MOVQ $1, DX
	JMP  col2

storeTail2:
	VMASKMOVPS Y0, Y3, (DI)(BX*1)

rowDone2:
	ADDQ  F_LDD(AX), DI
	ADDQ  F_LDC(AX), SI
	TESTQ R11, R11
	JZ    nextScale2
	ADDQ  F_LDR(AX), R11

nextScale2:
	// The scale and bias move on every F_ROWSPER rows (R13 counts down),
	// dst and res to the next plane.
	DECQ  R13
	JNZ   nextRow2
	MOVQ  F_ROWSPER(AX), R13
	ADDQ  F_DSKIP(AX), DI
	ADDQ  F_RSKIP(AX), R11
	ADDQ  F_ROWSTEP(AX), R8
	TESTQ R10, R10
	JZ    nextRow2
	ADDQ  F_ROWSTEP(AX), R10

nextRow2:
	DECQ R12
	JNZ  row2
	VZEROUPPER
	RET

// QUANT256 is QUANT512 on 8 lanes: v clamped to [Y7, Y8], quantized
// with the scale Y9 and its inverse Y13 into the int32 lanes of t, NaN
// lanes 0 (m: the lanes that are not NaN).
#define QUANT256(v, t, m) \
	VMAXPS       v, Y7, v \
	VMINPS       v, Y8, v \
	VMULPS       Y13, v, t \
	VFNMADD231PS Y9, t, v \
	VFMADD231PS  Y13, v, t \
	VCMPPS       $0, t, t, m \
	VCVTPS2DQ    t, t \
	VPAND        m, t, t

// QUANT256N is QUANT256 for values that cannot be NaN (no residual): no
// mask, the quotient converted as it is.
#define QUANT256N(v, t) \
	VMAXPS       v, Y7, v \
	VMINPS       v, Y8, v \
	VMULPS       Y13, v, t \
	VFNMADD231PS Y9, t, v \
	VFMADD231PS  Y13, v, t \
	VCVTPS2DQ    t, t

// rqOrder256 is VPERMD's index putting the dwords of VPACKSSWB's output
// on YMM, lane l holding 4 bytes of each of four vectors s, in order: s
// major, l minor.
DATA rqOrder256<>+0(SB)/8, $0x0000000400000000
DATA rqOrder256<>+8(SB)/8, $0x0000000500000001
DATA rqOrder256<>+16(SB)/8, $0x0000000600000002
DATA rqOrder256<>+24(SB)/8, $0x0000000700000003
GLOBL rqOrder256<>(SB), RODATA|NOPTR, $32

// PACK8 narrows the 8 int32 lanes of Y14 to bytes in the low 8 of X14
// with saturation (clobbering X15).
#define PACK8 \
	VEXTRACTI128 $1, Y14, X15 \
	VPACKSSDW    X15, X14, X14 \
	VPACKSSWB    X14, X14, X14

// func requantizeAVX2(f *epilogueFrame)
// As requantizeAVX512, 32 values a step (four vectors packed at once,
// put in order by one VPERMD; without a residual no NaN mask), then 16,
// then 8, then a row's last F_TAIL (0 to 7) under the mask Y3, stored as
// 4-, 2- and 1-byte pieces as the tail's bits ask. The two vectors of a
// 16-value step are packed
// together: PACKSSDW and PACKSSWB leave them as the dwords a0 b0 a0 b0 |
// a1 b1 a1 b1 (a0: the first vector's first 4 bytes), VPERMQ brings a0
// b0 a1 b1 into the low half, VPSHUFD orders them a0 a1 b0 b1.
TEXT ·requantizeAVX2(SB), NOSPLIT, $0-8
	MOVQ f+0(FP), AX
	MOVQ F_DST(AX), DI
	MOVQ F_C(AX), SI
	MOVQ F_RES(AX), R11
	MOVQ F_SCALE(AX), R8
	MOVQ F_BIAS(AX), R10
	MOVQ F_ROWS(AX), R12
	VBROADCASTSS F_LO(AX), Y7
	VBROADCASTSS F_HI(AX), Y8
	VBROADCASTSS F_OUTSCALE(AX), Y9
	VBROADCASTSS F_OUTINV(AX), Y13
	VXORPS       Y2, Y2, Y2
	TAILMASK256

qplane2:
	MOVQ         F_ROWSPER(AX), R13
	VBROADCASTSS (R8), Y1
	TESTQ        R10, R10
	JZ           qrow2
	VBROADCASTSS (R10), Y2

qrow2:
	MOVQ F_COLS(AX), CX
	XORQ BX, BX
	XORQ R9, R9

q32_2:
	CMPQ CX, $32
	JL   q16_2
	SCALED(Y0, 0, Y1, Y2)
	SCALED(Y5, 32, Y1, Y2)
	SCALED(Y10, 64, Y1, Y2)
	SCALED(Y11, 96, Y1, Y2)
	TESTQ R11, R11
	JNZ   q32res2
	QUANT256N(Y0, Y14)
	QUANT256N(Y5, Y15)
	QUANT256N(Y10, Y4)
	QUANT256N(Y11, Y6)
	JMP   q32pack2

q32res2:
	RESIDUAL(Y0, 0)
	RESIDUAL(Y5, 32)
	RESIDUAL(Y10, 64)
	RESIDUAL(Y11, 96)
	QUANT256(Y0, Y14, Y12)
	QUANT256(Y5, Y15, Y12)
	QUANT256(Y10, Y4, Y12)
	QUANT256(Y11, Y6, Y12)

q32pack2:
	VPACKSSDW Y15, Y14, Y14
	VPACKSSDW Y6, Y4, Y4
	VPACKSSWB Y4, Y14, Y14
	VMOVDQU   rqOrder256<>(SB), Y0
	VPERMD    Y14, Y0, Y14
	VMOVDQU   Y14, (DI)(R9*1)
	ADDQ      $128, BX
	ADDQ      $32, R9
	SUBQ      $32, CX
	JMP       q32_2

q16_2:
	CMPQ      CX, $16
	JL        q8_2
	SCALED(Y0, 0, Y1, Y2)
	SCALED(Y5, 32, Y1, Y2)
	TESTQ R11, R11
	JZ    q16summed2
	RESIDUAL(Y0, 0)
	RESIDUAL(Y5, 32)

q16summed2:
	QUANT256(Y0, Y14, Y6)
	QUANT256(Y5, Y15, Y12)
	VPACKSSDW Y15, Y14, Y0
	VPACKSSWB Y0, Y0, Y0
	VPERMQ    $0x08, Y0, Y0
	VPSHUFD   $0xd8, X0, X0
	VMOVDQU   X0, (DI)(R9*1)
	ADDQ      $64, BX
	ADDQ      $16, R9
	SUBQ      $16, CX
	JMP       q16_2

q8_2:
	CMPQ      CX, $8
	JL        qtail2
	SCALED(Y0, 0, Y1, Y2)
	TESTQ R11, R11
	JZ    q8summed2
	RESIDUAL(Y0, 0)

q8summed2:
	QUANT256(Y0, Y14, Y6)
	PACK8
	VMOVQ X14, (DI)(R9*1)
	ADDQ  $32, BX
	ADDQ  $8, R9

qtail2:
	CMPQ       F_TAIL(AX), $0
	JE         qnext2
	VPMASKMOVD (SI)(BX*1), Y3, Y0
	VCVTDQ2PS  Y0, Y0
	VMULPS     Y1, Y0, Y0
	VADDPS     Y2, Y0, Y0
	TESTQ      R11, R11
	JZ         qtailSummed2
	VMASKMOVPS (R11)(BX*1), Y3, Y5
	VADDPS     Y5, Y0, Y0

qtailSummed2:
	QUANT256(Y0, Y14, Y6)
	PACK8
	// The tail's bytes: 4, then 2, then 1 as its bits say, each piece
	// shifted down to the bottom of X14 before it is stored.
	TESTQ   $4, F_TAIL(AX)
	JZ      qword2
	VMOVD   X14, (DI)(R9*1)
	ADDQ    $4, R9
	VPSRLDQ $4, X14, X14

qword2:
	TESTQ   $2, F_TAIL(AX)
	JZ      qbyte2
	VPEXTRW $0, X14, (DI)(R9*1)
	ADDQ    $2, R9
	VPSRLDQ $2, X14, X14

qbyte2:
	TESTQ   $1, F_TAIL(AX)
	JZ      qnext2
	VPEXTRB $0, X14, (DI)(R9*1)

qnext2:
	ADDQ  F_LDD(AX), DI
	ADDQ  F_LDC(AX), SI
	TESTQ R11, R11
	JZ    qnextRow2
	ADDQ  F_LDR(AX), R11

qnextRow2:
	DECQ R12
	JZ   qdone2
	DECQ R13
	JNZ  qrow2
	ADDQ  F_DSKIP(AX), DI
	ADDQ  F_RSKIP(AX), R11
	ADDQ  F_ROWSTEP(AX), R8
	TESTQ R10, R10
	JZ    qplane2
	ADDQ  F_ROWSTEP(AX), R10
	JMP   qplane2

qdone2:
	VZEROUPPER
	RET

DATA laneIndex<>+0(SB)/8, $0x0000000100000000
DATA laneIndex<>+8(SB)/8, $0x0000000300000002
DATA laneIndex<>+16(SB)/8, $0x0000000500000004
DATA laneIndex<>+24(SB)/8, $0x0000000700000006
GLOBL laneIndex<>(SB), RODATA|NOPTR, $32

// blkOrder is VPSHUFB's index turning each 128-bit lane of VPACKSSWB's
// output, four bytes (positions) of each of four planes, into four
// positions of four bytes (planes): a 4×4 transposition.
DATA blkOrder<>+0(SB)/8, $0x0d0905010c080400
DATA blkOrder<>+8(SB)/8, $0x0f0b07030e0a0602
DATA blkOrder<>+16(SB)/8, $0x0d0905010c080400
DATA blkOrder<>+24(SB)/8, $0x0f0b07030e0a0602
DATA blkOrder<>+32(SB)/8, $0x0d0905010c080400
DATA blkOrder<>+40(SB)/8, $0x0f0b07030e0a0602
DATA blkOrder<>+48(SB)/8, $0x0d0905010c080400
DATA blkOrder<>+56(SB)/8, $0x0f0b07030e0a0602
GLOBL blkOrder<>(SB), RODATA|NOPTR, $64

// BLKQUANT quantizes 16 values of one plane (at addr, masked by km: K0
// for all) with its scale and bias into the int32 lanes of q (v, t
// clobbered).
#define BLKQUANT(addr, km, scale, bias, v, t, q) \
	VMOVDQU32.Z addr, km, v \
	VCVTDQ2PS   v, v \
	VMULPS      scale, v, v \
	VADDPS      bias, v, v \
	QUANT512N(v, t, q)

// BLKSTORE packs four planes' quantized lanes (Z11, Z17, Z20, Z21: the
// planes in order) into 16 positions of four bytes in Z11.
#define BLKPACK \
	VPACKSSDW Z17, Z11, Z11 \
	VPACKSSDW Z21, Z20, Z20 \
	VPACKSSWB Z20, Z11, Z11 \
	VPSHUFB   Z22, Z11, Z11

// func requantizeBlocksAVX512(f *blocksFrame)
// RequantizeBlocks, a block of four planes at a time, 16 positions a
// step (the last n mod 16 under masks): per plane the products scaled,
// biased and quantized (QUANT512N: no residual, so never NaN), the four
// planes packed (VPACKSSDW, VPACKSSWB: saturating as Quantize does) and
// transposed into positions of four bytes (VPSHUFB).
TEXT ·requantizeBlocksAVX512(SB), NOSPLIT, $0-8
	MOVQ         f+0(FP), AX
	VBROADCASTSS blocksFrame_lo(AX), Z6
	VBROADCASTSS blocksFrame_hi(AX), Z7
	VBROADCASTSS blocksFrame_outScale(AX), Z8
	VBROADCASTSS blocksFrame_outInv(AX), Z28
	VMOVDQU64    blkOrder<>(SB), Z22
	MOVQ         blocksFrame_c(AX), SI
	MOVQ         blocksFrame_dst(AX), DI
	MOVQ         blocksFrame_scale(AX), R8
	MOVQ         blocksFrame_bias(AX), R10
	MOVQ         blocksFrame_ldc(AX), R11
	MOVQ         blocksFrame_blocks(AX), R12
	MOVQ         blocksFrame_n(AX), CX
	ANDQ         $15, CX
	MOVL         $1, DX
	SHLL         CX, DX
	DECL         DX
	KMOVW        DX, K1 // the last n mod 16 positions' dwords
	SHLQ         $2, CX
	MOVQ         $1, DX
	SHLQ         CX, DX
	DECQ         DX
	KMOVQ        DX, K2 // and their bytes
	KXNORW       K0, K0, K3

block:
	VBROADCASTSS (R8), Z1
	VBROADCASTSS 4(R8), Z2
	VBROADCASTSS 8(R8), Z3
	VBROADCASTSS 12(R8), Z4
	VXORPS       Z9, Z9, Z9
	VXORPS       Z10, Z10, Z10
	VXORPS       Z12, Z12, Z12
	VXORPS       Z13, Z13, Z13
	TESTQ        R10, R10
	JZ           planes
	VBROADCASTSS (R10), Z9
	VBROADCASTSS 4(R10), Z10
	VBROADCASTSS 8(R10), Z12
	VBROADCASTSS 12(R10), Z13

planes:
	LEAQ (SI)(R11*1), R13
	LEAQ (SI)(R11*2), R14
	LEAQ (R13)(R11*2), DX
	XORQ BX, BX
	MOVQ blocksFrame_n(AX), CX

step:
	CMPQ CX, $16
	JL   tail
	BLKQUANT((SI)(BX*1), K3, Z1, Z9, Z0, Z29, Z11)
	BLKQUANT((R13)(BX*1), K3, Z2, Z10, Z14, Z30, Z17)
	BLKQUANT((R14)(BX*1), K3, Z3, Z12, Z15, Z18, Z20)
	BLKQUANT((DX)(BX*1), K3, Z4, Z13, Z16, Z19, Z21)
	BLKPACK
	VMOVDQU64 Z11, (DI)(BX*1)
	ADDQ      $64, BX
	SUBQ      $16, CX
	JMP       step

tail:
	TESTQ CX, CX
	JZ    nextBlock
	BLKQUANT((SI)(BX*1), K1, Z1, Z9, Z0, Z29, Z11)
	BLKQUANT((R13)(BX*1), K1, Z2, Z10, Z14, Z30, Z17)
	BLKQUANT((R14)(BX*1), K1, Z3, Z12, Z15, Z18, Z20)
	BLKQUANT((DX)(BX*1), K1, Z4, Z13, Z16, Z19, Z21)
	BLKPACK
	VMOVDQU8 Z11, K2, (DI)(BX*1)

nextBlock:
	LEAQ  (SI)(R11*4), SI
	ADDQ  blocksFrame_blockBytes(AX), DI
	ADDQ  $16, R8
	TESTQ R10, R10
	JZ    nextPlanes
	ADDQ  $16, R10

nextPlanes:
	DECQ R12
	JNZ  block
	VZEROUPPER
	RET
