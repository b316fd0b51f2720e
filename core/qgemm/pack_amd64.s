//go:build amd64 && !purego

#include "textflag.h"

// func packB4x32AVX2(dst *int8, r0, r1, r2, r3 *int8, n16 int, pnl int)
// Interleaves 4 rows r0..r3 of n16·16 int8 into the packed-B layout: for
// each 32 columns, the 64-byte group lines of two panels (dst and dst + pnl)
// get column j's 4 bytes (rows 0..3) at 4·(j%16); an odd last 16 columns
// fill one panel's line with the same interleave on 128-bit registers.
TEXT ·packB4x32AVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ r0+8(FP), AX
	MOVQ r1+16(FP), BX
	MOVQ r2+24(FP), DX
	MOVQ r3+32(FP), SI
	MOVQ n16+40(FP), CX
	MOVQ pnl+48(FP), R9
	XORQ R8, R8 // column offset

loop:
	CMPQ CX, $2
	JL   last16
	VMOVDQU (AX)(R8*1), Y0    // row 0, columns 0..31
	VMOVDQU (BX)(R8*1), Y1    // row 1
	VMOVDQU (DX)(R8*1), Y2    // row 2
	VMOVDQU (SI)(R8*1), Y3    // row 3
	// Byte interleave within 128-bit lanes (lane 0: columns 0..15, lane 1:
	// columns 16..31).
	VPUNPCKLBW Y1, Y0, Y4     // r0 r1 of columns 0..7 | 16..23
	VPUNPCKHBW Y1, Y0, Y5     // columns 8..15 | 24..31
	VPUNPCKLBW Y3, Y2, Y6
	VPUNPCKHBW Y3, Y2, Y7
	VPUNPCKLWD Y6, Y4, Y8     // r0 r1 r2 r3 of columns 0..3 | 16..19
	VPUNPCKHWD Y6, Y4, Y9     // columns 4..7 | 20..23
	VPUNPCKLWD Y7, Y5, Y10    // columns 8..11 | 24..27
	VPUNPCKHWD Y7, Y5, Y11    // columns 12..15 | 28..31
	VPERM2I128 $0x20, Y9, Y8, Y12   // columns 0..7
	VPERM2I128 $0x20, Y11, Y10, Y13 // columns 8..15
	VPERM2I128 $0x31, Y9, Y8, Y14   // columns 16..23
	VPERM2I128 $0x31, Y11, Y10, Y15 // columns 24..31
	VMOVDQU Y12, (DI)
	VMOVDQU Y13, 32(DI)
	VMOVDQU Y14, (DI)(R9*1)
	VMOVDQU Y15, 32(DI)(R9*1)
	ADDQ $32, R8
	LEAQ (DI)(R9*2), DI
	SUBQ $2, CX
	JMP  loop

last16:
	TESTQ CX, CX
	JZ    done
	VMOVDQU    (AX)(R8*1), X0
	VMOVDQU    (BX)(R8*1), X1
	VMOVDQU    (DX)(R8*1), X2
	VMOVDQU    (SI)(R8*1), X3
	VPUNPCKLBW X1, X0, X4
	VPUNPCKHBW X1, X0, X5
	VPUNPCKLBW X3, X2, X6
	VPUNPCKHBW X3, X2, X7
	VPUNPCKLWD X6, X4, X8     // columns 0..3
	VPUNPCKHWD X6, X4, X9     // columns 4..7
	VPUNPCKLWD X7, X5, X10    // columns 8..11
	VPUNPCKHWD X7, X5, X11    // columns 12..15
	VMOVDQU    X8, (DI)
	VMOVDQU    X9, 16(DI)
	VMOVDQU    X10, 32(DI)
	VMOVDQU    X11, 48(DI)

done:
	VZEROUPPER
	RET

// func packBRowAVX512(dst *int8, src *int8, n16 int, pnl int)
// Writes n16·16 int8 of one row into the packed-B layout: the 16 values of
// panel q go to dst + q·pnl + 4·j (dst already points at the row's byte of
// its group line). VPMOVZXBD spreads the 16 bytes to the low bytes of 16
// dwords and a byte-masked store (mask 0x1111…) writes only those bytes, so
// the other rows of the group are left untouched.
TEXT ·packBRowAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n16+16(FP), CX
	MOVQ pnl+24(FP), R9
	MOVQ $0x1111111111111111, AX
	KMOVQ AX, K1
	TESTQ CX, CX
	JZ    done

loop:
	VPMOVZXBD (SI), Z0
	VMOVDQU8  Z0, K1, (DI)
	ADDQ $16, SI
	ADDQ R9, DI
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET
