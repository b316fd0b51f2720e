//go:build amd64 && !purego

#include "textflag.h"

// func transposeBlocksAVX2(dst, src *float32, blocks, srcStride, dstStride int)
//
// Transposes blocks 8×8 blocks side by side: the 8 rows of src (srcStride
// bytes apart), 8 columns a block, become 8 rows of dst (dstStride bytes
// apart) a block, the next block's 8 rows after them. Each block is read
// into Y0-Y7 and transposed in registers: pairs of rows interleaved
// (VUNPCKLPS/VUNPCKHPS), then pairs of pairs (VSHUFPS), then the 128-bit
// halves exchanged (VPERM2F128). Go operand order: sources reversed.
TEXT ·transposeBlocksAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ blocks+16(FP), CX
	MOVQ srcStride+24(FP), R9
	MOVQ dstStride+32(FP), R13
	LEAQ (R9)(R9*2), R10
	LEAQ (R13)(R13*2), R14
	LEAQ (SI)(R9*4), R12
	LEAQ (DI)(R13*4), R15
	TESTQ CX, CX
	JZ   done

block:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R9*1), Y1
	VMOVUPS (SI)(R9*2), Y2
	VMOVUPS (SI)(R10*1), Y3
	VMOVUPS (R12), Y4
	VMOVUPS (R12)(R9*1), Y5
	VMOVUPS (R12)(R9*2), Y6
	VMOVUPS (R12)(R10*1), Y7
	VUNPCKLPS Y1, Y0, Y8  // r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5]
	VUNPCKHPS Y1, Y0, Y9  // r0[2] r1[2] r0[3] r1[3] | [6] [7]
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0 // r0..r3 [0] | [4]
	VSHUFPS $0xEE, Y10, Y8, Y1 // [1] | [5]
	VSHUFPS $0x44, Y11, Y9, Y2 // [2] | [6]
	VSHUFPS $0xEE, Y11, Y9, Y3 // [3] | [7]
	VSHUFPS $0x44, Y14, Y12, Y4 // r4..r7 [0] | [4]
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8  // column 0
	VPERM2F128 $0x20, Y5, Y1, Y9  // column 1
	VPERM2F128 $0x20, Y6, Y2, Y10 // column 2
	VPERM2F128 $0x20, Y7, Y3, Y11 // column 3
	VPERM2F128 $0x31, Y4, Y0, Y12 // column 4
	VPERM2F128 $0x31, Y5, Y1, Y13 // column 5
	VPERM2F128 $0x31, Y6, Y2, Y14 // column 6
	VPERM2F128 $0x31, Y7, Y3, Y15 // column 7
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (DI)(R13*1)
	VMOVUPS Y10, (DI)(R13*2)
	VMOVUPS Y11, (DI)(R14*1)
	VMOVUPS Y12, (R15)
	VMOVUPS Y13, (R15)(R13*1)
	VMOVUPS Y14, (R15)(R13*2)
	VMOVUPS Y15, (R15)(R14*1)
	ADDQ $32, SI
	ADDQ $32, R12
	LEAQ (DI)(R13*8), DI
	LEAQ (R15)(R13*8), R15
	DECQ CX
	JNZ  block

done:
	VZEROUPPER
	RET
