//go:build amd64 && !purego

#include "textflag.h"

// func depthwiseAVX512(acc *int32, x *int8, off *int, w *int32, taps int, chunks int)
// For chunks runs of 16 positions j: acc[j] = Σ_t w[t]·x[off[t]+j], the
// int8 inputs sign-extended to int32 and multiplied exactly (|w·x| ≤
// 2^14), the taps summed in a register.
TEXT ·depthwiseAVX512(SB), NOSPLIT, $0-48
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ off+16(FP), R8
	MOVQ w+24(FP), R9
	MOVQ taps+32(FP), R10
	MOVQ chunks+40(FP), CX
	TESTQ CX, CX
	JZ   done

chunk:
	VPXORD Z0, Z0, Z0
	XORQ   R11, R11

tap:
	MOVQ         (R8)(R11*8), AX
	VPMOVSXBD    (SI)(AX*1), Z1
	VPMULLD.BCST (R9)(R11*4), Z1, Z1
	VPADDD       Z1, Z0, Z0
	INCQ         R11
	CMPQ         R11, R10
	JLT          tap
	VMOVDQU32    Z0, (DI)
	ADDQ         $64, DI
	ADDQ         $16, SI
	DECQ         CX
	JNZ          chunk

done:
	VZEROUPPER
	RET
