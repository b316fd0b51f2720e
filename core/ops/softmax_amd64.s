//go:build amd64 && !purego

#include "textflag.h"

// The constants of softmaxExp (norm.go), each four times (one YMM), then
// the exponent bias 1023 four times as int64.
#define EXPCONST(off, bits) \
	DATA expConsts<>+(off+0)(SB)/8, $bits \
	DATA expConsts<>+(off+8)(SB)/8, $bits \
	DATA expConsts<>+(off+16)(SB)/8, $bits \
	DATA expConsts<>+(off+24)(SB)/8, $bits

EXPCONST(0, 0xc05a000000000000) // −104
EXPCONST(32, 0x3ff71547652b82fe) // log₂e
EXPCONST(64, 0x3fe62e42fee00000) // ln2Hi
EXPCONST(96, 0x3dea39ef35793c76) // ln2Lo
EXPCONST(128, 0x3e5ae64567f544e4) // 1/11!
EXPCONST(160, 0x3e927e4fb7789f5c) // 1/10!
EXPCONST(192, 0x3ec71de3a556c734) // 1/9!
EXPCONST(224, 0x3efa01a01a01a01a) // 1/8!
EXPCONST(256, 0x3f2a01a01a01a01a) // 1/7!
EXPCONST(288, 0x3f56c16c16c16c17) // 1/6!
EXPCONST(320, 0x3f81111111111111) // 1/5!
EXPCONST(352, 0x3fa5555555555555) // 1/4!
EXPCONST(384, 0x3fc5555555555555) // 1/3!
EXPCONST(416, 0x3fe0000000000000) // 1/2!
EXPCONST(448, 0x3ff0000000000000) // 1
EXPCONST(480, 0x00000000000003ff) // 1023
GLOBL expConsts<>(SB), RODATA|NOPTR, $512

// func expRowAVX2(y, x *float32, n int, maxv float32, part *[4]float64)
// For n (a multiple of 4) values: y[i] = float32(softmaxExp(float64(x[i]
// − maxv))), and part[i mod 4] += the float64 exponential, in order of i;
// 4 values at a time with exactly softmaxExp's operations, unfused and in
// their order, so that every value is bit for bit the Go function's.
// MAXPD returns its second source when either is NaN: x goes there, so
// that NaN passes as Go's max passes it. VROUNDPD $8 rounds to nearest
// even as math.RoundToEven does; n is then an exact int32.
TEXT ·expRowAVX2(SB), NOSPLIT, $0-40
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS maxv+24(FP), X15
	MOVQ         part+32(FP), DX
	LEAQ         expConsts<>(SB), AX
	VMOVUPD      (DX), Y14           // the partial sums
	VMOVUPD      (AX), Y13           // −104
	VMOVUPD      32(AX), Y12         // log₂e
	VMOVUPD      64(AX), Y11         // ln2Hi
	VMOVUPD      96(AX), Y10         // ln2Lo
	VMOVUPD      448(AX), Y9          // 1
	VMOVDQU      480(AX), Y8          // 1023

loop:
	CMPQ       CX, $4
	JL         done
	VMOVUPS    (SI), X0
	VSUBPS     X15, X0, X0          // x − maxv, in float32
	VCVTPS2PD  X0, Y0
	VMAXPD     Y0, Y13, Y0          // max(−104, x)
	VMULPD     Y12, Y0, Y1
	VROUNDPD   $8, Y1, Y1           // n
	VMULPD     Y11, Y1, Y2
	VSUBPD     Y2, Y0, Y0           // x − n·ln2Hi
	VMULPD     Y10, Y1, Y2
	VSUBPD     Y2, Y0, Y0           // − n·ln2Lo: r
	VMOVUPD    128(AX), Y3          // 1/11!
	VMULPD     Y0, Y3, Y3
	VADDPD     160(AX), Y3, Y3        // 1/10!
	VMULPD     Y0, Y3, Y3
	VADDPD     192(AX), Y3, Y3        // 1/9!
	VMULPD     Y0, Y3, Y3
	VADDPD     224(AX), Y3, Y3        // 1/8!
	VMULPD     Y0, Y3, Y3
	VADDPD     256(AX), Y3, Y3        // 1/7!
	VMULPD     Y0, Y3, Y3
	VADDPD     288(AX), Y3, Y3        // 1/6!
	VMULPD     Y0, Y3, Y3
	VADDPD     320(AX), Y3, Y3        // 1/5!
	VMULPD     Y0, Y3, Y3
	VADDPD     352(AX), Y3, Y3        // 1/4!
	VMULPD     Y0, Y3, Y3
	VADDPD     384(AX), Y3, Y3        // 1/3!
	VMULPD     Y0, Y3, Y3
	VADDPD     416(AX), Y3, Y3        // 1/2!
	VMULPD     Y0, Y3, Y3
	VADDPD     Y9, Y3, Y3           // + 1
	VMULPD     Y0, Y3, Y3
	VADDPD     Y9, Y3, Y3           // + 1: e^r
	VCVTPD2DQY Y1, X1
	VPMOVSXDQ  X1, Y1
	VPADDQ     Y8, Y1, Y1
	VPSLLQ     $52, Y1, Y1          // 2ⁿ
	VMULPD     Y1, Y3, Y3
	VADDPD     Y3, Y14, Y14
	VCVTPD2PSY Y3, X3
	VMOVUPS    X3, (DI)
	ADDQ       $16, SI
	ADDQ       $16, DI
	SUBQ       $4, CX
	JMP        loop

done:
	VMOVUPD Y14, (DX)
	VZEROUPPER
	RET

// func maxRowAVX2(x *float32, n int) float32
// The largest of n (a multiple of 8) values, NaNs skipped as softmax's
// "if v > maxv" skips them: MAXPS(v, m) is v > m ? v : m, and m (from
// −Inf) is never NaN. The order of comparisons does not matter to
// softmax: only ±0 could come out either way, and x − (+0) and x − (−0)
// have the same exponential.
TEXT ·maxRowAVX2(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	MOVL         $0xff800000, AX
	MOVL         AX, X0
	VBROADCASTSS X0, Y0

maxLoop:
	CMPQ    CX, $8
	JL      maxDone
	VMOVUPS (SI), Y1
	VMAXPS  Y0, Y1, Y0
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     maxLoop

maxDone:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X0, X1, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X0, X1, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X0, X1, X0
	VMOVSS       X0, ret+16(FP)
	VZEROUPPER
	RET

// func divRowAVX2(y *float32, n int, sum float64)
// y[i] = float32(float64(y[i]) / sum) for n (a multiple of 4) values.
TEXT ·divRowAVX2(SB), NOSPLIT, $0-24
	MOVQ         y+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSD sum+16(FP), Y2

divLoop:
	CMPQ       CX, $4
	JL         divDone
	VCVTPS2PD  (DI), Y0
	VDIVPD     Y2, Y0, Y0
	VCVTPD2PSY Y0, X0
	VMOVUPS    X0, (DI)
	ADDQ       $16, DI
	SUBQ       $4, CX
	JMP        divLoop

divDone:
	VZEROUPPER
	RET
