//go:build amd64 && !purego

#include "textflag.h"

// The AMX implicit-GEMM kernel (Intel Advanced Matrix Extensions: eight
// tile registers of up to 16 rows of 64 bytes, TDPBSSD multiplying int8
// tiles into int32 ones). Go's assembler has no AMX mnemonics, so the
// instructions are spelled out in bytes (VEX.128.0F38.W0, Intel SDM vol. 2
// "LDTILECFG", "TILELOADD", "TILESTORED", "TILEZERO", "TDPBSSD"). Tiles:
// C0, C1 = tmm0, tmm1 (16×16 int32: two 16-column halves of a block);
// A = tmm2 (16 rows of A × 64 k bytes); B0, B1 = tmm4, tmm5 (16 k groups ×
// 16 columns × 4 bytes: the VNNI layout MulTaps reads B in, staged).
// Only AX, BX, CX, DX, SI and DI serve as tile addresses (no REX bits in
// these encodings).
#define LDTILECFG_AX BYTE $0xC4; BYTE $0xE2; BYTE $0x78; BYTE $0x49; BYTE $0x00
#define TILERELEASE BYTE $0xC4; BYTE $0xE2; BYTE $0x78; BYTE $0x49; BYTE $0xC0
#define TILEZERO_C0 BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x49; BYTE $0xC0
#define TILEZERO_C1 BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x49; BYTE $0xC8
// TILELOADD tmm2, (SI)(BX*1); tmm4 and tmm5, (DI)(DX*1).
#define TILELOAD_A BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x14; BYTE $0x1E
#define TILELOAD_B0 BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x24; BYTE $0x17
#define TILELOAD_B1 BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x2C; BYTE $0x17
// TDPBSSD tmm0, tmm2, tmm4 and tmm1, tmm2, tmm5: C += A·B, signed bytes.
#define TDP_C0 BYTE $0xC4; BYTE $0xE2; BYTE $0x5B; BYTE $0x5E; BYTE $0xC2
#define TDP_C1 BYTE $0xC4; BYTE $0xE2; BYTE $0x53; BYTE $0x5E; BYTE $0xCA
// TILESTORED (CX)(AX*1), tmm0 and tmm1.
#define TILESTORE_C0 BYTE $0xC4; BYTE $0xE2; BYTE $0x7A; BYTE $0x4B; BYTE $0x04; BYTE $0x01
#define TILESTORE_C1 BYTE $0xC4; BYTE $0xE2; BYTE $0x7A; BYTE $0x4B; BYTE $0x0C; BYTE $0x01

// amxFrame offsets (amx_amd64.go).
#define F_CFG 0
#define F_A 8
#define F_LDA 16
#define F_KTILES 24
#define F_MTILES 32
#define F_MFULL 40
#define F_MREM 48
#define F_SRC 56
#define F_OFFS 64
#define F_KG 72
#define F_STAGE 80
#define F_C 88
#define F_LDC 96
#define F_CTAIL 104
#define F_BLOCKS 112
#define F_NB 120

// func amxTaps(f *amxFrame)
// For each block of F_NB·16 columns: stage B (row g of half h: the 64
// bytes at src + offs[g] + 64h, zeros for g ≥ kg), then per tile of 16
// rows of A, C = Σ over k tiles of A·B, stored into C (or, for the last
// tile when it is partial, into F_CTAIL and its F_MREM rows copied).
TEXT ·amxTaps(SB), NOSPLIT, $0-8
	MOVQ f+0(FP), R8
	MOVQ F_CFG(R8), AX
	LDTILECFG_AX
	MOVQ F_SRC(R8), R9
	MOVQ F_C(R8), R10
	MOVQ F_BLOCKS(R8), R11
	MOVQ F_NB(R8), R15

block:
	MOVQ F_STAGE(R8), R13
	XORQ R14, R14 // half

stageHalf:
	MOVQ F_OFFS(R8), SI
	MOVQ F_KTILES(R8), CX
	SHLQ $4, CX
	XORQ R12, R12 // group

stageRow:
	CMPQ      R12, F_KG(R8)
	JGE       stageZero
	MOVLQSX   (SI)(R12*4), DX
	ADDQ      R9, DX
	MOVQ      R14, AX
	SHLQ      $6, AX
	VMOVDQU64 (DX)(AX*1), Z0
	JMP       stageStore

stageZero:
	VPXORQ Z0, Z0, Z0

stageStore:
	VMOVDQU64 Z0, (R13)
	ADDQ      $64, R13
	INCQ      R12
	CMPQ      R12, CX
	JLT       stageRow
	INCQ      R14
	CMPQ      R14, R15
	JLT       stageHalf

	XORQ R12, R12 // tile of A

mtile:
	TILEZERO_C0
	TILEZERO_C1
	MOVQ  F_LDA(R8), BX
	MOVQ  R12, SI
	SHLQ  $4, SI
	IMULQ BX, SI
	ADDQ  F_A(R8), SI
	MOVQ  F_STAGE(R8), DI
	MOVQ  $64, DX
	MOVQ  F_KTILES(R8), R13
	MOVQ  R13, R14
	SHLQ  $10, R14 // bytes of one staged half

ktile:
	TILELOAD_A
	TILELOAD_B0
	TDP_C0
	CMPQ R15, $2
	JLT  kdone
	ADDQ R14, DI
	TILELOAD_B1
	SUBQ R14, DI
	TDP_C1

kdone:
	ADDQ $64, SI
	ADDQ $1024, DI
	DECQ R13
	JNZ  ktile

	CMPQ  R12, F_MFULL(R8)
	JGE   storeTail
	MOVQ  F_LDC(R8), AX
	MOVQ  R12, CX
	SHLQ  $4, CX
	IMULQ AX, CX
	ADDQ  R10, CX
	TILESTORE_C0
	CMPQ  R15, $2
	JLT   stored
	ADDQ  $64, CX
	TILESTORE_C1
	JMP   stored

storeTail:
	MOVQ F_CTAIL(R8), CX
	MOVQ $128, AX
	TILESTORE_C0
	ADDQ $64, CX
	TILESTORE_C1
	MOVQ  F_LDC(R8), AX
	MOVQ  R12, DI
	SHLQ  $4, DI
	IMULQ AX, DI
	ADDQ  R10, DI
	MOVQ  F_CTAIL(R8), SI
	MOVQ  F_MREM(R8), CX

copyRow:
	VMOVDQU64 (SI), Z0
	VMOVDQU64 Z0, (DI)
	CMPQ      R15, $2
	JLT       copied
	VMOVDQU64 64(SI), Z1
	VMOVDQU64 Z1, 64(DI)

copied:
	ADDQ $128, SI
	ADDQ AX, DI
	DECQ CX
	JNZ  copyRow

stored:
	INCQ R12
	CMPQ R12, F_MTILES(R8)
	JLT  mtile
	ADDQ $128, R9  // 32 columns of B
	ADDQ $128, R10 // and of C
	DECQ R11
	JNZ  block
	TILERELEASE
	VZEROUPPER
	RET
