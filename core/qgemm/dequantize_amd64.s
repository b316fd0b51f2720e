//go:build amd64 && !purego

#include "textflag.h"

// func dequantizeAVX512(dst *float32, src *int32, n int, scale *float32, step int, bias *float32)
// Converts n (a multiple of 16) int32 values: dst = float32(src)·scale
// (+ bias when bias is not nil), each operation rounded to float32 as Go
// rounds them (no fused multiply-add). step 1: scale and bias are vectors
// of n values; step 0: one value each, broadcast.
TEXT ·dequantizeAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ scale+24(FP), R8
	MOVQ step+32(FP), R9
	MOVQ bias+40(FP), R10
	SHRQ $4, CX
	JZ   done
	TESTQ R9, R9
	JNZ  vector
	VBROADCASTSS (R8), Z1
	TESTQ R10, R10
	JZ   broadcast
	VBROADCASTSS (R10), Z2

broadcastBias:
	VCVTDQ2PS (SI), Z0
	VMULPS    Z1, Z0, Z0
	VADDPS    Z2, Z0, Z0
	VMOVUPS   Z0, (DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       broadcastBias
	JMP       done

broadcast:
	VCVTDQ2PS (SI), Z0
	VMULPS    Z1, Z0, Z0
	VMOVUPS   Z0, (DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       broadcast
	JMP       done

vector:
	TESTQ R10, R10
	JZ    vectorNoBias

vectorBias:
	VCVTDQ2PS (SI), Z0
	VMULPS    (R8), Z0, Z0
	VADDPS    (R10), Z0, Z0
	VMOVUPS   Z0, (DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	ADDQ      $64, R8
	ADDQ      $64, R10
	DECQ      CX
	JNZ       vectorBias
	JMP       done

vectorNoBias:
	VCVTDQ2PS (SI), Z0
	VMULPS    (R8), Z0, Z0
	VMOVUPS   Z0, (DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	ADDQ      $64, R8
	DECQ      CX
	JNZ       vectorNoBias

done:
	VZEROUPPER
	RET
