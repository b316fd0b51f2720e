//go:build amd64 && !purego

#include "textflag.h"

// Depthwise convolution rows (see dwArgs in dwconv.go): for each of rows
// output rows, out[j] = clamp(Σ_t w[t]·src[off[t] + j] + bias, lo, hi)
// for j < n, taps summed in order with one FMA each. Registers across
// rows: R14 the output row, R13 the input row, R8 the offsets (bytes), R9
// the weights, R10 the taps, R11 the rows left; in a row, DI and SI walk
// the outputs and inputs and R12 counts the outputs left. The tap loop
// walks BX (offsets), DX (weights) and counts CX, AX holding the offset.

// The epilogue of one accumulator: + bias, then the clamp. Go operand
// order VMAXPS src2, src1, dst = src1 > src2 ? src1 : src2 with the bound
// as src1, so a NaN accumulator (src2) is kept; likewise VMINPS.
#define EPI512(acc) \
	VADDPS Z28, acc, acc \
	VMAXPS acc, Z29, acc \
	VMINPS acc, Z30, acc

#define TAPS_START \
	MOVQ R8, BX \
	MOVQ R9, DX \
	MOVQ R10, CX

#define TAPS_NEXT(label) \
	ADDQ $8, BX \
	ADDQ $4, DX \
	DECQ CX \
	JNZ  label

// func depthwiseRowsAVX512(dst, src *float32, off *int, w *float32, taps, rows, n, srcPitch, dstPitch int, bias, lo, hi float32)
TEXT ·depthwiseRowsAVX512(SB), NOSPLIT, $0-84
	MOVQ dst+0(FP), R14
	MOVQ src+8(FP), R13
	MOVQ off+16(FP), R8
	MOVQ w+24(FP), R9
	MOVQ taps+32(FP), R10
	MOVQ rows+40(FP), R11
	VBROADCASTSS bias+72(FP), Z28
	VBROADCASTSS lo+76(FP), Z29
	VBROADCASTSS hi+80(FP), Z30

row512:
	MOVQ R14, DI
	MOVQ R13, SI
	MOVQ n+48(FP), R12
	CMPQ R12, $64
	JB   one512

four512: // 64 outputs: four independent sums hide the FMA latency
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	TAPS_START

tap4_512:
	MOVQ         (BX), AX
	VBROADCASTSS (DX), Z4
	VFMADD231PS  0(SI)(AX*1), Z4, Z0
	VFMADD231PS  64(SI)(AX*1), Z4, Z1
	VFMADD231PS  128(SI)(AX*1), Z4, Z2
	VFMADD231PS  192(SI)(AX*1), Z4, Z3
	TAPS_NEXT(tap4_512)
	EPI512(Z0)
	EPI512(Z1)
	EPI512(Z2)
	EPI512(Z3)
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DI
	SUBQ    $64, R12
	CMPQ    R12, $64
	JAE     four512

one512:
	CMPQ R12, $16
	JB   tail512

loop1_512:
	VPXORD Z0, Z0, Z0
	TAPS_START

tap1_512:
	MOVQ         (BX), AX
	VBROADCASTSS (DX), Z4
	VFMADD231PS  0(SI)(AX*1), Z4, Z0
	TAPS_NEXT(tap1_512)
	EPI512(Z0)
	VMOVUPS Z0, 0(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, R12
	CMPQ    R12, $16
	JAE     loop1_512

tail512: // the last n%16 outputs under mask K1, loads included
	TESTQ R12, R12
	JZ    next512
	MOVQ  R12, CX
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K1
	VPXORD Z0, Z0, Z0
	TAPS_START

tapm_512:
	MOVQ         (BX), AX
	VBROADCASTSS (DX), Z4
	VFMADD231PS  0(SI)(AX*1), Z4, K1, Z0
	TAPS_NEXT(tapm_512)
	EPI512(Z0)
	VMOVUPS Z0, K1, 0(DI)

next512:
	ADDQ srcPitch+56(FP), R13
	ADDQ dstPitch+64(FP), R14
	DECQ R11
	JNZ  row512
	VZEROUPPER
	RET

#define EPI256(acc) \
	VADDPS Y12, acc, acc \
	VMAXPS acc, Y13, acc \
	VMINPS acc, Y14, acc

// func depthwiseRowsAVX2(dst, src *float32, off *int, w *float32, taps, rows, n, srcPitch, dstPitch int, bias, lo, hi float32, mask *int32)
TEXT ·depthwiseRowsAVX2(SB), NOSPLIT, $0-96
	MOVQ dst+0(FP), R14
	MOVQ src+8(FP), R13
	MOVQ off+16(FP), R8
	MOVQ w+24(FP), R9
	MOVQ taps+32(FP), R10
	MOVQ rows+40(FP), R11
	VBROADCASTSS bias+72(FP), Y12
	VBROADCASTSS lo+76(FP), Y13
	VBROADCASTSS hi+80(FP), Y14

row256:
	MOVQ R14, DI
	MOVQ R13, SI
	MOVQ n+48(FP), R12
	CMPQ R12, $32
	JB   one256

four256:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	TAPS_START

tap4_256:
	MOVQ         (BX), AX
	VBROADCASTSS (DX), Y4
	VFMADD231PS  0(SI)(AX*1), Y4, Y0
	VFMADD231PS  32(SI)(AX*1), Y4, Y1
	VFMADD231PS  64(SI)(AX*1), Y4, Y2
	VFMADD231PS  96(SI)(AX*1), Y4, Y3
	TAPS_NEXT(tap4_256)
	EPI256(Y0)
	EPI256(Y1)
	EPI256(Y2)
	EPI256(Y3)
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, R12
	CMPQ    R12, $32
	JAE     four256

one256:
	CMPQ R12, $8
	JB   tail256

loop1_256:
	VXORPS Y0, Y0, Y0
	TAPS_START

tap1_256:
	MOVQ         (BX), AX
	VBROADCASTSS (DX), Y4
	VFMADD231PS  0(SI)(AX*1), Y4, Y0
	TAPS_NEXT(tap1_256)
	EPI256(Y0)
	VMOVUPS Y0, 0(DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, R12
	CMPQ    R12, $8
	JAE     loop1_256

tail256: // the last n%8 outputs: whole vectors read (the planes have
	// dwSlack values of room), the store masked
	TESTQ R12, R12
	JZ    next256
	MOVQ  mask+88(FP), AX
	MOVQ  $8, CX
	SUBQ  R12, CX
	VMOVDQU (AX)(CX*4), Y15
	VXORPS Y0, Y0, Y0
	TAPS_START

tapm_256:
	MOVQ         (BX), AX
	VBROADCASTSS (DX), Y4
	VFMADD231PS  0(SI)(AX*1), Y4, Y0
	TAPS_NEXT(tapm_256)
	EPI256(Y0)
	VMASKMOVPS Y0, Y15, 0(DI)

next256:
	ADDQ srcPitch+56(FP), R13
	ADDQ dstPitch+64(FP), R14
	DECQ R11
	JNZ  row256
	VZEROUPPER
	RET

// func deinterleaveAVX512(even, odd, src *float32, n int, idx *uint32)
// even[i] = src[2i], odd[i] = src[2i+1] for i < n, 16 pairs a step, the
// last n%16 under masks (K1 for the 2·(n%16) values read, K2 for the
// n%16 written); idx holds the 32 indices 0, 2, ..., 30, 1, 3, ..., 31 of
// the two permutations.
TEXT ·deinterleaveAVX512(SB), NOSPLIT, $0-40
	MOVQ    even+0(FP), DI
	MOVQ    odd+8(FP), DX
	MOVQ    src+16(FP), SI
	MOVQ    n+24(FP), CX
	MOVQ    idx+32(FP), AX
	VMOVDQU32 0(AX), Z2
	VMOVDQU32 64(AX), Z3
	CMPQ    CX, $16
	JB      tail512

loop512:
	VMOVUPS   0(SI), Z0
	VMOVUPS   64(SI), Z1
	VMOVAPS   Z0, Z4
	VPERMT2PS Z1, Z2, Z4 // Z4 = evens of (Z0, Z1)
	VPERMT2PS Z1, Z3, Z0 // Z0 = odds
	VMOVUPS   Z4, 0(DI)
	VMOVUPS   Z0, 0(DX)
	ADDQ      $128, SI
	ADDQ      $64, DI
	ADDQ      $64, DX
	SUBQ      $16, CX
	CMPQ      CX, $16
	JAE       loop512

tail512:
	TESTQ CX, CX
	JZ    done512
	// K2: the r = n%16 pairs; K1, K3: the first 2r values read, as two
	// 16-value halves.
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K2
	SHLL  $1, CX
	MOVQ  $1, AX
	SHLQ  CX, AX
	DECQ  AX
	KMOVW AX, K1
	SHRQ  $16, AX
	KMOVW AX, K3
	VMOVUPS.Z 0(SI), K1, Z0
	VMOVUPS.Z 64(SI), K3, Z1
	VMOVAPS   Z0, Z4
	VPERMT2PS Z1, Z2, Z4
	VPERMT2PS Z1, Z3, Z0
	VMOVUPS   Z4, K2, 0(DI)
	VMOVUPS   Z0, K2, 0(DX)

done512:
	VZEROUPPER
	RET

// func deinterleaveAVX2(even, odd, src *float32, n int)
// As deinterleaveAVX512, 8 pairs a step: VSHUFPS picks the even (odd)
// values of each 128-bit lane of the two loads, VPERMPD puts the lanes'
// halves in order.
TEXT ·deinterleaveAVX2(SB), NOSPLIT, $0-32
	MOVQ even+0(FP), DI
	MOVQ odd+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX

loop256:
	VMOVUPS 0(SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS Y2, 0(DI)
	VMOVUPS Y3, 0(DX)
	ADDQ    $64, SI
	ADDQ    $32, DI
	ADDQ    $32, DX
	DECQ    CX
	JNZ     loop256
	VZEROUPPER
	RET

// func copyRowsAVX512(dst, src *float32, rows, n, dstPitch, srcPitch int)
// rows rows of n floats, src + r·srcPitch to dst + r·dstPitch (pitches
// in bytes), 16 a step, a row's last n%16 under a mask: the phase planes
// of a depthwise convolution filled (and its wide runs narrowed) a plane
// a call, where a copy a row cost more than the copying on 14- and
// 7-wide rows.
TEXT ·copyRowsAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ n+24(FP), R9
	MOVQ R9, CX
	ANDQ $15, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1 // the row's last n%16

crow512:
	XORQ BX, BX
	MOVQ R9, CX
	CMPQ CX, $16
	JB   ctail512

cloop512:
	VMOVUPS (SI)(BX*1), Z0
	VMOVUPS Z0, (DI)(BX*1)
	ADDQ    $64, BX
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     cloop512

ctail512:
	TESTQ     CX, CX
	JZ        cnext512
	VMOVUPS.Z (SI)(BX*1), K1, Z0
	VMOVUPS   Z0, K1, (DI)(BX*1)

cnext512:
	ADDQ srcPitch+40(FP), SI
	ADDQ dstPitch+32(FP), DI
	DECQ R8
	JNZ  crow512
	VZEROUPPER
	RET

// func copyRowsAVX2(dst, src *float32, rows, n, dstPitch, srcPitch int, mask *int32)
// As copyRowsAVX512, 8 a step; a row's last n%8 are loaded and stored
// under mask (VMASKMOVPS: lanes off are neither read nor written).
TEXT ·copyRowsAVX2(SB), NOSPLIT, $0-56
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    rows+16(FP), R8
	MOVQ    n+24(FP), R9
	MOVQ    mask+48(FP), AX
	VMOVDQU (AX), Y1

crow256:
	XORQ BX, BX
	MOVQ R9, CX
	CMPQ CX, $8
	JB   ctail256

cloop256:
	VMOVUPS (SI)(BX*1), Y0
	VMOVUPS Y0, (DI)(BX*1)
	ADDQ    $32, BX
	SUBQ    $8, CX
	CMPQ    CX, $8
	JAE     cloop256

ctail256:
	TESTQ      CX, CX
	JZ         cnext256
	VMASKMOVPS (SI)(BX*1), Y1, Y0
	VMASKMOVPS Y0, Y1, (DI)(BX*1)

cnext256:
	ADDQ srcPitch+40(FP), SI
	ADDQ dstPitch+32(FP), DI
	DECQ R8
	JNZ  crow256
	VZEROUPPER
	RET
