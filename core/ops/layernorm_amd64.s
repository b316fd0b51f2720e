//go:build amd64 && !purego

#include "textflag.h"

// func sumsAVX2(x *float32, n int, part *[4]float64)
// part[i mod 4] += float64(x[i]) for n (a multiple of 4) values, in order
// of i.
TEXT ·sumsAVX2(SB), NOSPLIT, $0-24
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	MOVQ    part+16(FP), DX
	VMOVUPD (DX), Y0

sumLoop:
	CMPQ      CX, $4
	JL        sumDone
	VCVTPS2PD (SI), Y1
	VADDPD    Y1, Y0, Y0
	ADDQ      $16, SI
	SUBQ      $4, CX
	JMP       sumLoop

sumDone:
	VMOVUPD Y0, (DX)
	VZEROUPPER
	RET

// func squaresAVX2(x *float32, n int, mean float64, part *[4]float64)
// part[i mod 4] += d·d, d = float64(x[i]) − mean, for n (a multiple of 4)
// values, in order of i.
TEXT ·squaresAVX2(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSD mean+16(FP), Y2
	MOVQ         part+24(FP), DX
	VMOVUPD      (DX), Y0

sqLoop:
	CMPQ      CX, $4
	JL        sqDone
	VCVTPS2PD (SI), Y1
	VSUBPD    Y2, Y1, Y1
	VMULPD    Y1, Y1, Y1
	VADDPD    Y1, Y0, Y0
	ADDQ      $16, SI
	SUBQ      $4, CX
	JMP       sqLoop

sqDone:
	VMOVUPD Y0, (DX)
	VZEROUPPER
	RET

// func normalizeAVX2(dst, src, scale, bias *float32, n int, mean, invStd float64)
// dst[i] = float32((float64(src[i]) − mean)·invStd)·scale[i] + bias[i]
// for n (a multiple of 4) values: normalizeRow's operations, unfused.
TEXT ·normalizeAVX2(SB), NOSPLIT, $0-56
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         scale+16(FP), R8
	MOVQ         bias+24(FP), R9
	MOVQ         n+32(FP), CX
	VBROADCASTSD mean+40(FP), Y2
	VBROADCASTSD invStd+48(FP), Y3

normLoop:
	CMPQ       CX, $4
	JL         normDone
	VCVTPS2PD  (SI), Y0
	VSUBPD     Y2, Y0, Y0
	VMULPD     Y3, Y0, Y0
	VCVTPD2PSY Y0, X0
	VMULPS     (R8), X0, X0
	VADDPS     (R9), X0, X0
	VMOVUPS    X0, (DI)
	ADDQ       $16, SI
	ADDQ       $16, DI
	ADDQ       $16, R8
	ADDQ       $16, R9
	SUBQ       $4, CX
	JMP        normLoop

normDone:
	VZEROUPPER
	RET
