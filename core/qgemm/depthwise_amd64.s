//go:build amd64 && !purego

#include "textflag.h"

// Both kernels compute, for runs runs of 32 positions j, the exact sums
// acc[j] (+)= Σ_t w[t]·x[off[t]+j] of taps ≤ depthwiseBatch taps (int8
// weights widened to int32), adding to acc when add is set. A run's 32
// positions share each tap's offset and weights, loaded once for two
// halves of 16.

// dwInterleave is VPERMB's index: four 16-byte lanes, a tap's run of 16
// positions each, to 16 dwords holding position j's byte of every lane.
DATA dwInterleave<>+0(SB)/8, $0x3121110130201000
DATA dwInterleave<>+8(SB)/8, $0x3323130332221202
DATA dwInterleave<>+16(SB)/8, $0x3525150534241404
DATA dwInterleave<>+24(SB)/8, $0x3727170736261606
DATA dwInterleave<>+32(SB)/8, $0x3929190938281808
DATA dwInterleave<>+40(SB)/8, $0x3b2b1b0b3a2a1a0a
DATA dwInterleave<>+48(SB)/8, $0x3d2d1d0d3c2c1c0c
DATA dwInterleave<>+56(SB)/8, $0x3f2f1f0f3e2e1e0e
GLOBL dwInterleave<>(SB), RODATA|NOPTR, $64

// DWSUM4 sums the four taps gathered in Z2 (positions 0-15) and Z4
// (16-31), whose weights are the dword at (R9)(R11), into Z0 and Z1:
// VPERMB puts each position's four bytes together, XOR 0x80 makes them
// unsigned (x + 128; the sums started at -128·Σw), VPDPBUSD adds the four
// products.
#define DWSUM4 \
	VPBROADCASTD (R9)(R11*1), Z6 \
	VPERMB       Z2, Z31, Z2 \
	VPERMB       Z4, Z31, Z4 \
	VPXORD       Z30, Z2, Z2 \
	VPXORD       Z30, Z4, Z4 \
	VPDPBUSD     Z6, Z2, Z0 \
	VPDPBUSD     Z6, Z4, Z1

// DWLANES4 gathers, for the taps whose offsets are in AX, BX, DX and R14,
// the 16 bytes at disp(SI) past each into the lanes of Z.
#define DWLANES4(disp, X, Y, Z, XT, YT) \
	VMOVDQU      disp(SI)(AX*1), X      \
	VINSERTI128  $1, disp(SI)(BX*1), Y, Y \
	VMOVDQU      disp(SI)(DX*1), XT     \
	VINSERTI128  $1, disp(SI)(R14*1), YT, YT \
	VINSERTI64X4 $1, YT, Z, Z

// func depthwiseVNNI(acc *int32, x *int8, off *int, w *int32, taps int, runs int, add bool)
// Four taps to a VPDPBUSD: their runs of 16 positions gathered into the
// lanes of a vector, VPERMB makes dword j position j's four bytes, and
// VPDPBUSD adds their products with the four weights (packed in the frame
// as bytes). VPDPBUSD multiplies unsigned bytes by signed ones, so the
// inputs go in as x XOR 0x80 = x+128 ∈ [0, 255] and the sums start at
// -128·Σw: every product and sum is exact in int32 (|Σ| ≤ 32·255·128).
// A last group of one to three taps leaves its other lanes zero, with
// zero weights.
TEXT ·depthwiseVNNI(SB), NOSPLIT, $32-49
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ off+16(FP), R8
	MOVQ w+24(FP), R9
	MOVQ taps+32(FP), R10
	MOVQ runs+40(FP), CX
	MOVBQZX add+48(FP), R13

	// The weights as bytes in the frame, zeros past the last tap.
	MOVL  $1, AX
	SHLXQ R10, AX, AX
	DECQ  AX
	KMOVW AX, K1
	SHRQ  $16, AX
	KMOVW AX, K2
	VMOVDQU32.Z (R9), K1, Z2
	VMOVDQU32.Z 64(R9), K2, Z3
	VPMOVDB     Z2, X4
	VPMOVDB     Z3, X5
	VMOVDQU     X4, wts-32(SP)
	VMOVDQU     X5, wts-16(SP)

	// -128·Σw, where every run's sums start.
	VPADDD       Z3, Z2, Z2
	VEXTRACTI64X4 $1, Z2, Y3
	VPADDD       Y3, Y2, Y2
	VEXTRACTI128 $1, Y2, X3
	VPADDD       X3, X2, X2
	VPSHUFD      $0x4e, X2, X3
	VPADDD       X3, X2, X2
	VPSHUFD      $0xb1, X2, X3
	VPADDD       X3, X2, X2
	VPSLLD       $7, X2, X2
	VPXORD       Z3, Z3, Z3
	VPSUBD       X2, X3, X2
	VPBROADCASTD X2, Z29

	VMOVDQU64    dwInterleave<>(SB), Z31
	MOVL         $0x80808080, AX
	VPBROADCASTD AX, Z30
	LEAQ         wts-32(SP), R9
	MOVQ         R10, R12
	ANDQ         $3, R12              // the last group's taps
	ANDQ         $-4, R10             // the taps of whole groups
	TESTQ        CX, CX
	JZ           vdone

vrun:
	VMOVDQA64 Z29, Z0
	VMOVDQA64 Z29, Z1
	TESTQ     R13, R13
	JZ        vgroups
	VPADDD    (DI), Z0, Z0
	VPADDD    64(DI), Z1, Z1

vgroups:
	XORQ R11, R11
	CMPQ R11, R10
	JGE  vlast

vgroup:
	MOVQ         (R8)(R11*8), AX
	MOVQ         8(R8)(R11*8), BX
	MOVQ         16(R8)(R11*8), DX
	MOVQ         24(R8)(R11*8), R14
	DWLANES4(0, X2, Y2, Z2, X3, Y3)
	DWLANES4(16, X4, Y4, Z4, X5, Y5)
	DWSUM4
	ADDQ         $4, R11
	CMPQ         R11, R10
	JLT          vgroup

vlast:
	// One to three taps; a VEX write of an XMM or YMM register clears
	// the lanes above it.
	TESTQ       R12, R12
	JZ          vstore
	MOVQ        (R8)(R11*8), AX
	VMOVDQU     (SI)(AX*1), X2
	VMOVDQU     16(SI)(AX*1), X4
	CMPQ        R12, $2
	JLT         vlastsum
	MOVQ        8(R8)(R11*8), BX
	VINSERTI128 $1, (SI)(BX*1), Y2, Y2
	VINSERTI128 $1, 16(SI)(BX*1), Y4, Y4
	CMPQ        R12, $3
	JLT         vlastsum
	MOVQ         16(R8)(R11*8), DX
	VMOVDQU      (SI)(DX*1), X3
	VMOVDQU      16(SI)(DX*1), X5
	VINSERTI64X4 $1, Y3, Z2, Z2
	VINSERTI64X4 $1, Y5, Z4, Z4

vlastsum:
	DWSUM4

vstore:
	VMOVDQU32 Z0, (DI)
	VMOVDQU32 Z1, 64(DI)
	ADDQ      $128, DI
	ADDQ      $32, SI
	DECQ      CX
	JNZ       vrun

vdone:
	VZEROUPPER
	RET

// func depthwiseAVX2(acc *int32, x *int8, off *int, w *int32, taps int, runs int, add bool)
// A tap's 16 inputs sign-extended to int16 (VPMOVSXBW) hold positions 2k
// and 2k+1 in dword k; VPMADDWD with (w, 0) gives w·x at the even
// positions and with (0, w) at the odd ones, each product exact (|w·x| ≤
// 2^14) and summed in int32. Two taps whose runs are one byte apart (the
// next one, or the one after in a stride-2 phase) go together: from the
// first's offset dword k holds both taps' inputs for position 2k, one
// byte on for 2k+1, so VPMADDWD with (w_t, w_u) sums the pair, |Σ| ≤
// 2^15. The even and odd sums are interleaved back into position order
// once a run. The frame holds the pairs (offset, weights) from its start
// and the single taps (offset, even and odd weights) from its end.
TEXT ·depthwiseAVX2(SB), $512-49
	MOVQ off+16(FP), R8
	MOVQ w+24(FP), R9
	MOVQ taps+32(FP), R10
	LEAQ ops-512(SP), R12 // the next pair
	LEAQ 512(R12), R13    // the last single tap
	XORQ R11, R11         // t
	XORQ R14, R14         // the taps already paired with an earlier one

apairs:
	CMPQ  R11, R10
	JGE   aprepared
	MOVL  $1, DX
	SHLXQ R11, DX, DX
	TESTQ DX, R14
	JNZ   anext
	MOVQ  (R8)(R11*8), AX
	LEAQ  1(AX), DI       // where a partner's run starts
	LEAQ  1(R11), BX
	CALL  dwPartner<>(SB)
	JEQ   apair
	LEAQ  2(R11), BX
	CALL  dwPartner<>(SB)
	JEQ   apair
	SUBQ  $16, R13
	MOVQ  AX, (R13)
	MOVL  (R9)(R11*4), DX
	MOVL  DX, BX
	ANDL  $0xffff, DX
	SHLL  $16, BX
	MOVL  DX, 8(R13)
	MOVL  BX, 12(R13)
	JMP   anext

apair:
	MOVL  $1, DX
	SHLXQ BX, DX, DX
	ORQ   DX, R14
	MOVQ  AX, (R12)
	MOVL  (R9)(R11*4), DX
	ANDL  $0xffff, DX
	MOVL  (R9)(BX*4), AX
	SHLL  $16, AX
	ORL   AX, DX
	MOVL  DX, 8(R12)
	ADDQ  $16, R12

anext:
	INCQ R11
	JMP  apairs

aprepared:
	MOVQ    acc+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    runs+40(FP), CX
	MOVBQZX add+48(FP), R10
	LEAQ    ops-512(SP), R14
	LEAQ    512(R14), R9
	TESTQ   CX, CX
	JZ      adone

arun:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	MOVQ  R14, R11
	CMPQ  R11, R12
	JGE   asingles

apairtap:
	MOVQ         (R11), AX
	VPBROADCASTD 8(R11), Y4
	VPMOVSXBW    (SI)(AX*1), Y6
	VPMOVSXBW    1(SI)(AX*1), Y7
	VPMOVSXBW    16(SI)(AX*1), Y8
	VPMOVSXBW    17(SI)(AX*1), Y9
	VPMADDWD     Y4, Y6, Y6
	VPMADDWD     Y4, Y7, Y7
	VPMADDWD     Y4, Y8, Y8
	VPMADDWD     Y4, Y9, Y9
	VPADDD       Y6, Y0, Y0
	VPADDD       Y7, Y1, Y1
	VPADDD       Y8, Y2, Y2
	VPADDD       Y9, Y3, Y3
	ADDQ         $16, R11
	CMPQ         R11, R12
	JLT          apairtap

asingles:
	MOVQ R13, R11
	CMPQ R11, R9
	JGE  afix

asingle:
	MOVQ         (R11), AX
	VPBROADCASTD 8(R11), Y4
	VPBROADCASTD 12(R11), Y5
	VPMOVSXBW    (SI)(AX*1), Y6
	VPMOVSXBW    16(SI)(AX*1), Y7
	VPMADDWD     Y4, Y6, Y8
	VPMADDWD     Y5, Y6, Y9
	VPMADDWD     Y4, Y7, Y10
	VPMADDWD     Y5, Y7, Y11
	VPADDD       Y8, Y0, Y0
	VPADDD       Y9, Y1, Y1
	VPADDD       Y10, Y2, Y2
	VPADDD       Y11, Y3, Y3
	ADDQ         $16, R11
	CMPQ         R11, R9
	JLT          asingle

afix:
	// Even and odd sums (Y0, Y1 the first 16 positions, Y2, Y3 the next)
	// back to position order: the unpacks interleave within 128-bit
	// lanes, VPERM2I128 puts the lanes in order.
	VPUNPCKLDQ Y1, Y0, Y4
	VPUNPCKHDQ Y1, Y0, Y5
	VPUNPCKLDQ Y3, Y2, Y6
	VPUNPCKHDQ Y3, Y2, Y7
	VPERM2I128 $0x20, Y5, Y4, Y0
	VPERM2I128 $0x31, Y5, Y4, Y1
	VPERM2I128 $0x20, Y7, Y6, Y2
	VPERM2I128 $0x31, Y7, Y6, Y3
	TESTQ      R10, R10
	JZ         astore
	VPADDD     (DI), Y0, Y0
	VPADDD     32(DI), Y1, Y1
	VPADDD     64(DI), Y2, Y2
	VPADDD     96(DI), Y3, Y3

astore:
	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	ADDQ    $128, DI
	ADDQ    $32, SI
	DECQ    CX
	JNZ     arun

adone:
	VZEROUPPER
	RET

// dwPartner sets ZF when tap BX (of R10, the taps already paired in R14,
// offsets at R8) is free and its run starts at DI. Clobbers CX.
TEXT dwPartner<>(SB), NOSPLIT, $0-0
	CMPQ  BX, R10
	JGE   nopartner
	MOVL  $1, CX
	SHLXQ BX, CX, CX
	TESTQ CX, R14
	JNZ   nopartner
	CMPQ  DI, (R8)(BX*8)
	RET

nopartner:
	CMPQ BX, $-1 // BX ≥ 0: clears ZF
	RET
