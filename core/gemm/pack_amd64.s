//go:build amd64 && !purego

#include "textflag.h"

// func packBPanelsAVX(dst *float32, src *float32, ldb int, kb int, np int, pnl int)
// Copies kb rows of np·16 consecutive floats (row p at src + p·ldb bytes) into
// np packed-B panels: 16 floats of row p, panel q go to dst + q·pnl + p·64.
// Rows are walked in order so that the source is read sequentially.
TEXT ·packBPanelsAVX(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), R8
	MOVQ kb+24(FP), CX
	MOVQ np+32(FP), R9
	MOVQ pnl+40(FP), R10
	TESTQ CX, CX
	JZ   done
	TESTQ R9, R9
	JZ   done

row:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R9, DX

panel:
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), Y1
	VMOVUPS Y0, (BX)
	VMOVUPS Y1, 32(BX)
	ADDQ    $64, AX
	ADDQ    R10, BX
	DECQ    DX
	JNZ     panel
	ADDQ    R8, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     row

done:
	VZEROUPPER
	RET

// func packAPanelAVX(dst *float32, r0, r1, r2, r3, r4, r5, r6, r7 *float32, n8 int, dstride int, mask *int32)
// Transposes 8 row streams r0..r7 (8 floats at a time, n8 times) into the
// packed-A layout: the 8 values of column p go to dst + p·dstride bytes,
// stored under mask (lanes ≥ rows are not written), so panels shorter than
// 8 rows pass duplicated row pointers and a partial mask.
TEXT ·packAPanelAVX(SB), NOSPLIT, $0-96
	MOVQ dst+0(FP), DI
	MOVQ r0+8(FP), AX
	MOVQ r1+16(FP), BX
	MOVQ r2+24(FP), CX
	MOVQ r3+32(FP), DX
	MOVQ r4+40(FP), SI
	MOVQ r5+48(FP), R8
	MOVQ r6+56(FP), R9
	MOVQ r7+64(FP), R10
	MOVQ n8+72(FP), R11
	MOVQ dstride+80(FP), R12
	MOVQ mask+88(FP), R13
	TESTQ R11, R11
	JZ    adone

aloop:
	VMOVUPS (AX), Y0
	VMOVUPS (BX), Y1
	VMOVUPS (CX), Y2
	VMOVUPS (DX), Y3
	VMOVUPS (SI), Y4
	VMOVUPS (R8), Y5
	VMOVUPS (R9), Y6
	VMOVUPS (R10), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS   $0x44, Y10, Y8, Y0
	VSHUFPS   $0xEE, Y10, Y8, Y1
	VSHUFPS   $0x44, Y11, Y9, Y2
	VSHUFPS   $0xEE, Y11, Y9, Y3
	VSHUFPS   $0x44, Y14, Y12, Y4
	VSHUFPS   $0xEE, Y14, Y12, Y5
	VSHUFPS   $0x44, Y15, Y13, Y6
	VSHUFPS   $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVDQU    (R13), Y0
	VMASKMOVPS Y8, Y0, (DI)
	ADDQ       R12, DI
	VMASKMOVPS Y9, Y0, (DI)
	ADDQ       R12, DI
	VMASKMOVPS Y10, Y0, (DI)
	ADDQ       R12, DI
	VMASKMOVPS Y11, Y0, (DI)
	ADDQ       R12, DI
	VMASKMOVPS Y12, Y0, (DI)
	ADDQ       R12, DI
	VMASKMOVPS Y13, Y0, (DI)
	ADDQ       R12, DI
	VMASKMOVPS Y14, Y0, (DI)
	ADDQ       R12, DI
	VMASKMOVPS Y15, Y0, (DI)
	ADDQ       R12, DI
	ADDQ       $32, AX
	ADDQ       $32, BX
	ADDQ       $32, CX
	ADDQ       $32, DX
	ADDQ       $32, SI
	ADDQ       $32, R8
	ADDQ       $32, R9
	ADDQ       $32, R10
	DECQ       R11
	JNZ        aloop

adone:
	VZEROUPPER
	RET
