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

// func depthwiseAVX2(acc *int32, x *int8, off *int, w *int32, taps int, chunks int)
// depthwiseAVX512's sums, each run of 16 positions as two halves of 8.
TEXT ·depthwiseAVX2(SB), NOSPLIT, $0-48
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ off+16(FP), R8
	MOVQ w+24(FP), R9
	MOVQ taps+32(FP), R10
	MOVQ chunks+40(FP), CX
	TESTQ CX, CX
	JZ   done2

chunk2:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	XORQ  R11, R11

tap2:
	MOVQ         (R8)(R11*8), AX
	VPBROADCASTD (R9)(R11*4), Y4
	VPMOVSXBD    (SI)(AX*1), Y2
	VPMOVSXBD    8(SI)(AX*1), Y3
	VPMULLD      Y4, Y2, Y2
	VPMULLD      Y4, Y3, Y3
	VPADDD       Y2, Y0, Y0
	VPADDD       Y3, Y1, Y1
	INCQ         R11
	CMPQ         R11, R10
	JLT          tap2
	VMOVDQU      Y0, (DI)
	VMOVDQU      Y1, 32(DI)
	ADDQ         $64, DI
	ADDQ         $16, SI
	DECQ         CX
	JNZ          chunk2

done2:
	VZEROUPPER
	RET
