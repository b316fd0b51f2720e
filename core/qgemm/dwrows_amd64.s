//go:build amd64 && !purego

#include "textflag.h"
#include "go_asm.h"

// func depthwiseRowsVNNI(f *dwRowsFrame)
// DepthwiseRows.Sums with AVX-512 VNNI and VBMI. Per channel, output row
// and chunk of 16·halves output columns: for each kernel row, one load of
// the 64 input bytes the chunk reads (masked to the row's columns, the
// rest zero; the constant Z30 for a row outside the input), XOR 0x80 to
// make them unsigned (x+128; the sums start at -128·Σw), then per half
// and weight word a VPERMB (index Z24 + 2·half + word) gathering each
// output's 4 bytes into its dword and a VPDPBUSD with the word broadcast.
// Registers: AX the frame (its pointers move on a channel at a time),
// SI the input plane, DI the output row, R9 the
// kernel row's weights, R10 the output row's entries of rows, R13 the
// chunk, BX the chunk's load address, R8/R11/R12/R14 counters.
TEXT ·depthwiseRowsVNNI(SB), NOSPLIT, $0-8
	MOVQ         f+0(FP), AX
	MOVQ         dwRowsFrame_index(AX), R8
	VMOVDQU64    (R8), Z24
	VMOVDQU64    64(R8), Z25
	VMOVDQU64    128(R8), Z26
	VMOVDQU64    192(R8), Z27
	MOVL         $0x80808080, R8
	VPBROADCASTD R8, Z30
	MOVQ         dwRowsFrame_x(AX), SI
	MOVQ         dwRowsFrame_channels(AX), R8

channel:
	MOVQ         dwRowsFrame_init(AX), R9
	VPBROADCASTD (R9), Z29
	MOVQ         dwRowsFrame_rows(AX), R10
	MOVQ         dwRowsFrame_oh(AX), R12
	MOVQ         dwRowsFrame_acc(AX), DI

row:
	MOVQ dwRowsFrame_chunks(AX), R13
	MOVQ dwRowsFrame_nchunks(AX), R14

chunk:
	VMOVDQA64 Z29, Z0
	VMOVDQA64 Z29, Z1
	KMOVQ     dwChunk_load(R13), K1
	MOVQ      dwChunk_start(R13), BX
	ADDQ      SI, BX
	MOVQ      dwRowsFrame_w(AX), R9
	XORQ      R11, R11

kernelRow:
	MOVQ (R10)(R11*8), DX
	TESTQ DX, DX
	JS    outside
	VMOVDQU8.Z (BX)(DX*1), K1, Z2
	VPXORD     Z30, Z2, Z2
	JMP        windows

outside:
	VMOVDQA64 Z30, Z2

windows:
	VPERMB          Z2, Z24, Z3
	VPDPBUSD.BCST   (R9), Z3, Z0
	CMPQ            dwRowsFrame_halves(AX), $1
	JE              word2
	VPERMB          Z2, Z26, Z4
	VPDPBUSD.BCST   (R9), Z4, Z1

word2:
	CMPQ            dwRowsFrame_words(AX), $1
	JE              nextKernelRow
	VPERMB          Z2, Z25, Z3
	VPDPBUSD.BCST   4(R9), Z3, Z0
	CMPQ            dwRowsFrame_halves(AX), $1
	JE              nextKernelRow
	VPERMB          Z2, Z27, Z4
	VPDPBUSD.BCST   4(R9), Z4, Z1

nextKernelRow:
	MOVQ dwRowsFrame_words(AX), DX
	LEAQ (R9)(DX*4), R9
	INCQ R11
	CMPQ R11, dwRowsFrame_kh(AX)
	JLT  kernelRow

	MOVQ      dwChunk_out(R13), DX
	KMOVW     dwChunk_store(R13), K2
	VMOVDQU32 Z0, K2, (DI)(DX*4)
	CMPQ      dwRowsFrame_halves(AX), $1
	JE        nextChunk
	KMOVW     dwChunk_store+2(R13), K2
	VMOVDQU32 Z1, K2, 64(DI)(DX*4)

nextChunk:
	ADDQ $dwChunk__size, R13
	DECQ R14
	JNZ  chunk

	ADDQ dwRowsFrame_rowBytes(AX), DI
	MOVQ dwRowsFrame_kh(AX), DX
	LEAQ (R10)(DX*8), R10
	DECQ R12
	JNZ  row

	// The next channel: its plane, sums, weights and starting sum.
	MOVQ dwRowsFrame_outBytes(AX), DX
	ADDQ DX, dwRowsFrame_acc(AX)
	ADDQ dwRowsFrame_inBytes(AX), SI
	MOVQ dwRowsFrame_kh(AX), DX
	IMULQ dwRowsFrame_words(AX), DX
	SHLQ $2, DX
	ADDQ DX, dwRowsFrame_w(AX)
	ADDQ $4, dwRowsFrame_init(AX)
	DECQ R8
	JNZ  channel

	VZEROUPPER
	RET

// DWROW3 sums one half of a chunk (VPERMB index idx) of the three kernel
// rows loaded in Z2, Z5, Z8 (already XOR 0x80) with their weight words
// in Z16-Z18 into acc.
#define DWROW3(idx, acc) \
	VPERMB   Z2, idx, Z3 \
	VPDPBUSD Z16, Z3, acc \
	VPERMB   Z5, idx, Z4 \
	VPDPBUSD Z17, Z4, acc \
	VPERMB   Z8, idx, Z3 \
	VPDPBUSD Z18, Z3, acc

// DWLOAD3 loads the chunk's bytes of the three kernel rows (CX, DX, R9
// from the column in BX, masked by K1) into Z2, Z5 and Z8, XOR 0x80.
#define DWLOAD3 \
	VMOVDQU8.Z (CX)(BX*1), K1, Z2 \
	VMOVDQU8.Z (DX)(BX*1), K1, Z5 \
	VMOVDQU8.Z (R9)(BX*1), K1, Z8 \
	VPXORD     Z30, Z2, Z2 \
	VPXORD     Z30, Z5, Z5 \
	VPXORD     Z30, Z8, Z8

// DWROWPTR sets r to the input row at entry off of the row table (R10),
// or to the zero row (R11) for padding.
#define DWROWPTR(off, r) \
	MOVQ    off(R10), BX \
	LEAQ    (SI)(BX*1), r \
	TESTQ   BX, BX \
	CMOVQLT R11, r

// func depthwiseRows3VNNI(f *dwRowsFrame)
// depthwiseRowsVNNI for three kernel rows of at most four taps (3×3
// windows), unrolled: per output row the three input rows' addresses
// (padding rows read the zero row), per channel the weight words in
// registers, per chunk three loads and three VPERMB and VPDPBUSD a half.
TEXT ·depthwiseRows3VNNI(SB), NOSPLIT, $0-8
	MOVQ         f+0(FP), AX
	MOVQ         dwRowsFrame_index(AX), R8
	VMOVDQU64    (R8), Z24
	VMOVDQU64    128(R8), Z26
	MOVL         $0x80808080, R8
	VPBROADCASTD R8, Z30
	MOVQ         dwRowsFrame_x(AX), SI
	MOVQ         dwRowsFrame_zero(AX), R11
	MOVQ         dwRowsFrame_channels(AX), R8

channel3:
	MOVQ         dwRowsFrame_init(AX), BX
	VPBROADCASTD (BX), Z29
	MOVQ         dwRowsFrame_w(AX), BX
	VPBROADCASTD (BX), Z16
	VPBROADCASTD 4(BX), Z17
	VPBROADCASTD 8(BX), Z18
	MOVQ         dwRowsFrame_rows(AX), R10
	MOVQ         dwRowsFrame_oh(AX), R12
	MOVQ         dwRowsFrame_acc(AX), DI

row3:
	DWROWPTR(0, CX)
	DWROWPTR(8, DX)
	DWROWPTR(16, R9)
	MOVQ dwRowsFrame_chunks(AX), R13
	MOVQ dwRowsFrame_nchunks(AX), R14
	CMPQ dwRowsFrame_halves(AX), $1
	JE   half3

chunk3:
	VMOVDQA64 Z29, Z0
	VMOVDQA64 Z29, Z1
	KMOVQ     dwChunk_load(R13), K1
	MOVQ      dwChunk_start(R13), BX
	DWLOAD3
	DWROW3(Z24, Z0)
	DWROW3(Z26, Z1)
	MOVQ      dwChunk_out(R13), BX
	KMOVW     dwChunk_store(R13), K2
	KMOVW     dwChunk_store+2(R13), K3
	VMOVDQU32 Z0, K2, (DI)(BX*4)
	VMOVDQU32 Z1, K3, 64(DI)(BX*4)
	ADDQ      $dwChunk__size, R13
	DECQ      R14
	JNZ       chunk3
	JMP       nextRow3

half3:
	VMOVDQA64 Z29, Z0
	KMOVQ     dwChunk_load(R13), K1
	MOVQ      dwChunk_start(R13), BX
	DWLOAD3
	DWROW3(Z24, Z0)
	MOVQ      dwChunk_out(R13), BX
	KMOVW     dwChunk_store(R13), K2
	VMOVDQU32 Z0, K2, (DI)(BX*4)
	ADDQ      $dwChunk__size, R13
	DECQ      R14
	JNZ       half3

nextRow3:
	ADDQ dwRowsFrame_rowBytes(AX), DI
	ADDQ $24, R10
	DECQ R12
	JNZ  row3

	// The next channel: its plane, sums, weights and starting sum.
	MOVQ dwRowsFrame_outBytes(AX), DX
	ADDQ DX, dwRowsFrame_acc(AX)
	ADDQ dwRowsFrame_inBytes(AX), SI
	ADDQ $12, dwRowsFrame_w(AX)
	ADDQ $4, dwRowsFrame_init(AX)
	DECQ R8
	JNZ  channel3

	VZEROUPPER
	RET
