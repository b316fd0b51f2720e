//go:build amd64 && !purego

#include "textflag.h"
#include "frame_amd64.h"

// The int8 copies a layer makes of an input its producer already wrote
// in int8 (RequantizePlanes): the bytes moved, not converted. AVX2 (VEX
// XMM) only: they are bound by memory on AVX-512 machines too. Frame: an
// interleaveFrame (quantize_amd64.go; its scale is unused), strides in
// bytes; cols is at least 8 (gatherRowsAVX2 takes any). Blocks of 16 columns, and of 8; at step 2 a
// block of 16 loads 32 bytes, one past its last column's, so it is used
// only while more columns follow, and a block of 8 loads its 15 bytes as
// two overlapping 8-byte halves. A row's last r < 8 columns are the block
// of 8 that ends at its last column (LASTBLOCK8): nothing is read or
// written outside the row's columns.

// LOADB16 loads 16 bytes at column step 1 or 2 (R14) into x: at step 2
// the even bytes of 32, gathered by VPSHUFB with X15 (even bytes to the
// low half) and joined by VPUNPCKLQDQ.
#define LOADB16(x, addr, next) \
	CMPQ        R14, $1 \
	JNE         3(PC) \
	VMOVDQU     addr, x \
	JMP         6(PC) \
	VMOVDQU     addr, X12 \
	VMOVDQU     next, X13 \
	VPSHUFB     X15, X12, X12 \
	VPSHUFB     X15, X13, X13 \
	VPUNPCKLQDQ X13, X12, x

// LOADB8 loads 8 bytes at column step 1 or 2 (R14) into x's low half: at
// step 2 bytes 0-7 and 7-14 of addr, whose even columns X14 picks.
#define LOADB8(x, addr, next7) \
	CMPQ    R14, $1 \
	JNE     3(PC) \
	VMOVQ   addr, x \
	JMP     4(PC) \
	VMOVQ   addr, X12 \
	VPINSRQ $1, next7, X12, X12 \
	VPSHUFB X14, X12, x

// func interleaveAVX2(f *interleaveFrame)
// Up to four planes' bytes merged into one dword per position (plane c in
// byte c, the missing planes' bytes 0): dst[i·ldd + 4j + c] =
// src[c·plane + i·lds + j·step].
TEXT ·interleaveAVX2(SB), NOSPLIT, $0-8
	LOADFRAME
	MOVQ    R14, R10
	SHLQ    $4, R10          // source bytes a block of 16 columns spans
	VMOVDQU evenBytes<>(SB), X15
	VMOVDQU evenBytes8<>(SB), X14

vrow:
	MOVQ SI, AX
	MOVQ DI, DX
	MOVQ 24(R8), CX

vcol:
	VPXOR X1, X1, X1
	VPXOR X2, X2, X2
	VPXOR X3, X3, X3
	CMPQ  CX, $8
	JLT   vtail
	CMPQ  CX, $16
	JLT   v8
	JGT   v16
	CMPQ  R14, $1
	JNE   v8

v16:
	LOADB16(X0, (AX), 16(AX))
	CMPQ  R15, $2
	JLT   vmerge
	LOADB16(X1, (AX)(BX*1), 16(AX)(BX*1))
	CMPQ  R15, $3
	JLT   vmerge
	LOADB16(X2, (AX)(BX*2), 16(AX)(BX*2))
	CMPQ  R15, $4
	JLT   vmerge
	LOADB16(X3, (AX)(R13*1), 16(AX)(R13*1))

vmerge:
	// Bytes of planes 0,1 and 2,3 paired, then the pairs into dwords.
	VPUNPCKLBW X1, X0, X4
	VPUNPCKHBW X1, X0, X5
	VPUNPCKLBW X3, X2, X6
	VPUNPCKHBW X3, X2, X7
	VPUNPCKLWD X6, X4, X8
	VPUNPCKHWD X6, X4, X9
	VPUNPCKLWD X7, X5, X10
	VPUNPCKHWD X7, X5, X11
	VMOVDQU    X8, (DX)
	VMOVDQU    X9, 16(DX)
	VMOVDQU    X10, 32(DX)
	VMOVDQU    X11, 48(DX)
	ADDQ       $64, DX
	ADDQ       R10, AX
	SUBQ       $16, CX
	JNZ        vcol
	JMP        vnext

v8:
	// 8 columns: the row's last ones, or (step 2) 16 left.
	LOADB8(X0, (AX), 7(AX))
	CMPQ R15, $2
	JLT  v8merge
	LOADB8(X1, (AX)(BX*1), 7(AX)(BX*1))
	CMPQ R15, $3
	JLT  v8merge
	LOADB8(X2, (AX)(BX*2), 7(AX)(BX*2))
	CMPQ R15, $4
	JLT  v8merge
	LOADB8(X3, (AX)(R13*1), 7(AX)(R13*1))

v8merge:
	VPUNPCKLBW X1, X0, X4
	VPUNPCKLBW X3, X2, X6
	VPUNPCKLWD X6, X4, X8
	VPUNPCKHWD X6, X4, X9
	VMOVDQU    X8, (DX)
	VMOVDQU    X9, 16(DX)
	ADDQ       $32, DX
	LEAQ       (AX)(R14*8), AX
	SUBQ       $8, CX
	JNZ        vcol
	JMP        vnext

vtail:
	LASTBLOCK8(4, 1)
	JMP vcol

vnext:

	ADDQ R12, SI
	ADDQ R11, DI
	DECQ R9
	JNZ  vrow
	VZEROUPPER
	RET

// func gatherRowsAVX2(f *interleaveFrame)
// One plane's rows at column step 1 or 2: dst[i·ldd + j] = src[i·lds +
// j·step], every column: blocks as above, and a row of fewer than 8 byte
// by byte. One call for a whole plane: a Go copy a row, or a Go loop for
// the last columns of a stride-2 phase (8 of 56, or all of 7), cost
// about as much as the copying.
TEXT ·gatherRowsAVX2(SB), NOSPLIT, $0-8
	MOVQ    f+0(FP), R8
	MOVQ    0(R8), DI
	MOVQ    8(R8), SI
	MOVQ    16(R8), R9
	MOVQ    32(R8), R11
	MOVQ    40(R8), R12
	MOVQ    56(R8), R14
	LEAQ    15(R14), R10 // the columns left that a block of 16 needs
	MOVQ    R14, R13
	SHLQ    $4, R13      // source bytes a block of 16 spans
	VMOVDQU evenBytes<>(SB), X15
	VMOVDQU evenBytes8<>(SB), X14

grow:
	MOVQ SI, AX
	MOVQ DI, DX
	MOVQ 24(R8), CX
	CMPQ CX, $8
	JLT  gbytes

gcol:
	CMPQ    CX, R10
	JLT     g8
	LOADB16(X0, (AX), 16(AX))
	VMOVDQU X0, (DX)
	ADDQ    $16, DX
	ADDQ    R13, AX
	SUBQ    $16, CX
	JMP     gcol

g8:
	CMPQ  CX, $8
	JLT   gtail
	LOADB8(X0, (AX), 7(AX))
	VMOVQ X0, (DX)
	ADDQ  $8, DX
	LEAQ  (AX)(R14*8), AX
	SUBQ  $8, CX
	JMP   g8

gtail:
	TESTQ CX, CX
	JZ    gnext
	LASTBLOCK8(1, 1)
	JMP   g8

gbytes:
	MOVBLZX (AX), BX
	MOVB    BX, (DX)
	ADDQ    R14, AX
	INCQ    DX
	DECQ    CX
	JNZ     gbytes

gnext:
	ADDQ R12, SI
	ADDQ R11, DI
	DECQ R9
	JNZ  grow
	VZEROUPPER
	RET

// evenBytes moves a vector's even bytes to its low half and zeroes the
// high half (VPSHUFB: an index with bit 7 set gives 0).
DATA evenBytes<>+0(SB)/8, $0x0e0c0a0806040200
DATA evenBytes<>+8(SB)/8, $0x8080808080808080
GLOBL evenBytes<>(SB), RODATA|NOPTR, $16

// evenBytes8 picks the even columns of LOADB8's two halves: bytes 0, 2,
// 4, 6 of the first, 1, 3, 5, 7 of the second (source bytes 8-14).
DATA evenBytes8<>+0(SB)/8, $0x0f0d0b0906040200
DATA evenBytes8<>+8(SB)/8, $0x8080808080808080
GLOBL evenBytes8<>(SB), RODATA|NOPTR, $16
