//go:build amd64 && !purego

#include "textflag.h"

// func maxPool2x2AVX2(dst, r0, r1 *float32, n int)
// n (a multiple of 4) outputs of 2×2, stride-2 max pooling: dst[i] is the
// maximum of r0[2i], r0[2i+1], r1[2i], r1[2i+1], compared in maxPool2x2's
// order. MAXPS(x, y) is x > y ? x : y, so MAXPS(b, a) is Go's
// "if b > a { a = b }", NaN and ±0 included: (a, b) and (c, d) first,
// then the pair maxima, the second over the first.
TEXT ·maxPool2x2AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ n+24(FP), CX

loop8:
	CMPQ CX, $8
	JL   tail4
	// Within each 128-bit lane, shuffle 0x88 takes the even taps and
	// 0xDD the odd ones: outputs 0,1,4,5 | 2,3,6,7, put in order by the
	// VPERMPD at the end.
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VMAXPS  Y2, Y3, Y2
	VMOVUPS (DX), Y4
	VMOVUPS 32(DX), Y5
	VSHUFPS $0x88, Y5, Y4, Y6
	VSHUFPS $0xDD, Y5, Y4, Y7
	VMAXPS  Y6, Y7, Y6
	VMAXPS  Y2, Y6, Y2
	VPERMPD $0xD8, Y2, Y2
	VMOVUPS Y2, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     loop8

tail4:
	// At most one group of 4 is left; one lane holds it in order.
	TESTQ   CX, CX
	JZ      done
	VMOVUPS (SI), X0
	VMOVUPS 16(SI), X1
	VSHUFPS $0x88, X1, X0, X2
	VSHUFPS $0xDD, X1, X0, X3
	VMAXPS  X2, X3, X2
	VMOVUPS (DX), X4
	VMOVUPS 16(DX), X5
	VSHUFPS $0x88, X5, X4, X6
	VSHUFPS $0xDD, X5, X4, X7
	VMAXPS  X6, X7, X6
	VMAXPS  X2, X6, X2
	VMOVUPS X2, (DI)

done:
	VZEROUPPER
	RET

// func maxPool2x2Int8AVX2(dst, src *int8, n, rows, iw, ow int)
// rows rows of n (a multiple of 4) int8 outputs: output row r, at dst +
// r·ow, from input rows 2r and 2r+1, at src + 2r·iw and one iw further.
// Per 8 outputs, the 16 bytes of each input row, their vertical max, then
// the max of each byte pair (the odd bytes shifted onto the even ones),
// whose even bytes VPSHUFB gathers; a last 4 the same way from 8 bytes.
// The rows are looped here, not in Go: a pooled plane's rows are short
// (LeNet's: 12 and 4 outputs), and a call per row cost more than its
// work.
TEXT ·maxPool2x2Int8AVX2(SB), NOSPLIT, $0-48
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    n+16(FP), BX
	MOVQ    rows+24(FP), R8
	MOVQ    iw+32(FP), R9
	MOVQ    ow+40(FP), R10
	VMOVDQU evenBytes<>(SB), X15

brow:
	MOVQ    SI, R11
	LEAQ    (SI)(R9*1), DX
	MOVQ    DI, R12
	MOVQ    BX, CX
	SHRQ    $3, CX
	JZ      b4

bloop:
	VMOVDQU (R11), X0
	VPMAXSB (DX), X0, X0
	VPSRLW  $8, X0, X1
	VPMAXSB X1, X0, X0
	VPSHUFB X15, X0, X0
	VMOVQ   X0, (R12)
	ADDQ    $16, R11
	ADDQ    $16, DX
	ADDQ    $8, R12
	DECQ    CX
	JNZ     bloop

b4:
	TESTQ   $4, BX
	JZ      bnext
	VMOVQ   (R11), X0
	VMOVQ   (DX), X2
	VPMAXSB X2, X0, X0
	VPSRLW  $8, X0, X1
	VPMAXSB X1, X0, X0
	VPSHUFB X15, X0, X0
	VMOVD   X0, (R12)

bnext:
	LEAQ    (SI)(R9*2), SI
	ADDQ    R10, DI
	DECQ    R8
	JNZ     brow
	VZEROUPPER
	RET

// func maxTapsInt8AVX2(dst, src *int8, offs *int, taps, n int)
// dst[i] = the max of src[offs[t]+i] over the taps offsets, for i < n
// (n ≥ 32): 32 bytes a step, the last step the 32 bytes that end at n
// (overlapping the step before; dst is never src).
TEXT ·maxTapsInt8AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ offs+16(FP), R8
	MOVQ taps+24(FP), R9
	MOVQ n+32(FP), R10
	SUBQ $32, R10 // where the last step starts
	XORQ BX, BX

tstep:
	MOVQ    (R8), AX
	ADDQ    SI, AX
	VMOVDQU (AX)(BX*1), Y0
	MOVQ    $1, DX

ttap:
	CMPQ    DX, R9
	JGE     tstore
	MOVQ    (R8)(DX*8), AX
	ADDQ    SI, AX
	VPMAXSB (AX)(BX*1), Y0, Y0
	INCQ    DX
	JMP     ttap

tstore:
	VMOVDQU Y0, (DI)(BX*1)
	CMPQ    BX, R10
	JGE     tdone
	ADDQ    $32, BX
	CMPQ    BX, R10
	JLE     tstep
	MOVQ    R10, BX
	JMP     tstep

tdone:
	VZEROUPPER
	RET

// evenBytes moves a vector's even bytes to its low half.
DATA evenBytes<>+0(SB)/8, $0x0e0c0a0806040200
DATA evenBytes<>+8(SB)/8, $0x8080808080808080
GLOBL evenBytes<>(SB), RODATA|NOPTR, $16

// func maxWindowsAVX2(dst, src *float32, offs *int, taps, n, stride int)
//
// dst[j] for j < n (n a multiple of 8) is the max of src[offs[t] +
// j·stride] over the taps t in order, as maxInside takes it: the first
// tap, then each next one where it is greater (VMAXPS with the tap as
// the first source: a NaN tap loses, a NaN so far stays, equal values
// keep the earlier one). stride is 1, or 2: then 16 values are read a
// tap and their even ones kept (VSHUFPS within 128-bit lanes, VPERMPD
// across), the last of them one past the window the caller checked.
TEXT ·maxWindowsAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ offs+16(FP), R8
	MOVQ taps+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ stride+40(FP), R10
	SHRQ $3, CX
	JZ   mwdone
	CMPQ R10, $2
	JEQ  mw2

mw1: // 8 outputs, stride 1
	MOVQ    (R8), AX
	VMOVUPS (SI)(AX*4), Y0
	MOVQ    $1, DX
mw1tap:
	CMPQ    DX, R9
	JAE     mw1store
	MOVQ    (R8)(DX*8), AX
	VMOVUPS (SI)(AX*4), Y1
	VMAXPS  Y0, Y1, Y0 // Y0 = Y1 > Y0 ? Y1 : Y0
	INCQ    DX
	JMP     mw1tap
mw1store:
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     mw1
	JMP     mwdone

mw2: // 8 outputs, stride 2
	MOVQ      (R8), AX
	VMOVUPS   (SI)(AX*4), Y2
	VMOVUPS   32(SI)(AX*4), Y3
	VSHUFPS   $0x88, Y3, Y2, Y0
	VPERMPD   $0xD8, Y0, Y0
	MOVQ      $1, DX
mw2tap:
	CMPQ      DX, R9
	JAE       mw2store
	MOVQ      (R8)(DX*8), AX
	VMOVUPS   (SI)(AX*4), Y2
	VMOVUPS   32(SI)(AX*4), Y3
	VSHUFPS   $0x88, Y3, Y2, Y1
	VPERMPD   $0xD8, Y1, Y1
	VMAXPS    Y0, Y1, Y0
	INCQ      DX
	JMP       mw2tap
mw2store:
	VMOVUPS Y0, (DI)
	ADDQ    $64, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     mw2

mwdone:
	VZEROUPPER
	RET
