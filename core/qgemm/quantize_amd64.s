//go:build amd64 && !purego

#include "textflag.h"
#include "frame_amd64.h"
#include "quotient_amd64.h"

// func quantizeAVX512(dst *int8, src *float32, n int, scale float32)
// Quantizes n values: dst = clamp(rne(src/scale)), NaN → 0, exactly as
// quantize1 does, 16 values at a time, the last ones under a mask so that
// no length leaves a scalar tail (planes of 14×14, a matmul's rows).
TEXT ·quantizeAVX512(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), DX
	VBROADCASTSS scale+24(FP), Z1
	VBROADCASTSS inv+28(FP), Z28
	MOVL         $0x42fe0000, AX // 127.0
	VPBROADCASTD AX, Z3
	MOVL         $0xc3000000, AX // -128.0
	VPBROADCASTD AX, Z4
	KXNORW       K0, K0, K2
	MOVQ         DX, CX
	SHRQ         $4, CX
	JZ           tail

loop:
	VMOVUPS.Z   (SI), K2, Z0
	QUOTIENT(Z0, Z1, Z28, Z3, Z4, Z29, Z30) // x / scale, correctly rounded
	VCMPPS      $0, Z0, Z0, K2, K1 // lanes that are not NaN (nor masked off)
	VMINPS      Z3, Z0, Z0        // clamp to [-128, 127] before converting:
	VMAXPS      Z4, Z0, Z0        // out-of-range converts to INT_MIN otherwise
	VCVTPS2DQ.Z Z0, K1, Z2        // round half to even; NaN lanes → 0
	VPMOVSDB    Z2, K2, (DI)
	ADDQ        $64, SI
	ADDQ        $16, DI
	DECQ        CX
	JNZ         loop

tail:
	// The last n mod 16 values: one more pass under a mask of them.
	MOVQ  DX, CX
	ANDQ  $15, CX
	JZ    done
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K2
	MOVQ  $1, CX
	XORQ  DX, DX // the loop falls through to here again: nothing left then
	JMP   loop

done:
	VZEROUPPER
	RET

// func quantizeAVX2(dst *int8, src *float32, n int, scale float32)
// quantizeAVX512's steps on 8 values at a time (n a multiple of 8): the
// NaN lanes are cleared after converting, and the clamped int32s narrow
// to bytes through the packs, which cannot saturate any more. Only VEX
// encodings (VMOVD, VMOVQ, not MOVL/MOVQ on X registers): a legacy SSE
// instruction among them cost a state transition per call, and the
// calls on short runs paid for it (quantizing rows of 8 to 32 values made
// ResNet-20 INT8 2.4× slower on a Xeon with AVX2 forced).
TEXT ·quantizeAVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS scale+24(FP), Y1
	VBROADCASTSS inv+28(FP), Y13
	MOVL         $0x42fe0000, AX // 127.0
	VMOVD        AX, X3
	VPBROADCASTD X3, Y3
	MOVL         $0xc3000000, AX // -128.0
	VMOVD        AX, X4
	VPBROADCASTD X4, Y4
	SHRQ         $3, CX
	JZ           done2

loop2:
	VMOVUPS      (SI), Y0
	QUOTIENT(Y0, Y1, Y13, Y3, Y4, Y14, Y15) // x / scale, correctly rounded
	VCMPPS       $0, Y0, Y0, Y5 // lanes that are not NaN
	VMINPS       Y3, Y0, Y0
	VMAXPS       Y4, Y0, Y0
	VCVTPS2DQ    Y0, Y2         // round half to even
	VPAND        Y5, Y2, Y2     // NaN lanes → 0
	VEXTRACTI128 $1, Y2, X0
	VPACKSSDW    X0, X2, X2
	VPACKSSWB    X2, X2, X2
	VMOVQ        X2, (DI)
	ADDQ         $32, SI
	ADDQ         $8, DI
	DECQ         CX
	JNZ          loop2

done2:
	VZEROUPPER
	RET

// The interleaving quantizers: up to four planes' rows quantized as
// quantizeAVX512 / quantizeAVX2 do, each value's int32 clamped to
// [-128, 127], and the four channels' low bytes merged into one dword per
// position (plane c in byte c), so 16 (8) positions of 4 planes are one
// 64-byte (32-byte) store. Frame: see interleaveFrame in quantize_amd64.go.

// CONV16 quantizes Z0's floats (lanes of K2) into Z2's int32 lanes, NaN
// and masked-off lanes 0.
#define CONV16 \
	QUOTIENT(Z0, Z1, Z28, Z3, Z4, Z29, Z30) \
	VCMPPS      $0, Z0, Z0, K2, K1 \
	VMINPS      Z3, Z0, Z0 \
	VMAXPS      Z4, Z0, Z0 \
	VCVTPS2DQ.Z Z0, K1, Z2

// LOAD16 loads 16 consecutive floats (lanes of K2); LOAD16S2 every other
// float of 32 (those of K3 and K4 loaded: no read past the last needed),
// gathered by a two-table permute of the even lanes.
#define LOAD16(addr) VMOVUPS.Z addr, K2, Z0
#define LOAD16S2(addr, next) \
	VMOVUPS.Z addr, K3, Z0 \
	VMOVUPS.Z next, K4, Z7 \
	VPERMT2PS Z7, Z8, Z0

// HAVE jumps to lbl when fewer than n planes are quantized (R15): the
// bytes of the missing ones stay 0.
#define HAVE(n, lbl) \
	CMPQ R15, $n \
	JLT  lbl

// MERGE16 puts Z2's low bytes into byte lane sh/8 of Z6's dwords.
#define MERGE16(sh) \
	VPANDD Z5, Z2, Z2 \
	VPSLLD $sh, Z2, Z2 \
	VPORD  Z2, Z6, Z6

// func quantizeInterleavedAVX512(f *interleaveFrame)
// Column step 1 or 2 (f.step).
TEXT ·quantizeInterleavedAVX512(SB), NOSPLIT, $0-8
	LOADFRAME
	VBROADCASTSS 64(R8), Z1
	VBROADCASTSS 68(R8), Z28
	MOVL         $0x42fe0000, AX  // 127.0
	VPBROADCASTD AX, Z3
	MOVL         $0xc3000000, AX  // -128.0
	VPBROADCASTD AX, Z4
	MOVL         $0xff, AX
	VPBROADCASTD AX, Z5
	VMOVDQU32    evenLanes<>(SB), Z8

irow:
	MOVQ   SI, AX
	MOVQ   DI, DX
	MOVQ   24(R8), CX // cols
	KXNORW K0, K0, K2
	KXNORW K0, K0, K3
	MOVL   $0x7fff, R10 // 16 positions at step 2 read 31 floats
	KMOVW  R10, K4

icol:
	CMPQ  CX, $16
	JAE   ifull
	TESTQ CX, CX
	JZ    inext
	// The last cols mod 16 positions, r: one pass under a mask of them
	// (K2) and of the floats step 2 reads (2r−1: K3 the first 16, K4
	// the rest).
	MOVL  $1, R10
	SHLL  CX, R10
	DECL  R10
	KMOVW R10, K2
	LEAQ  -1(CX)(CX*1), CX
	MOVQ  $1, R10
	SHLQ  CX, R10
	DECQ  R10
	KMOVW R10, K3
	SHRQ  $16, R10
	KMOVW R10, K4
	MOVQ  $16, CX

ifull:
	CMPQ R14, $1
	JNE  istep2
	LOAD16((AX))
	CONV16
	VPANDD Z5, Z2, Z6
	HAVE(2, i1done)
	LOAD16((AX)(BX*1))
	CONV16
	MERGE16(8)
	HAVE(3, i1done)
	LOAD16((AX)(BX*2))
	CONV16
	MERGE16(16)
	HAVE(4, i1done)
	LOAD16((AX)(R13*1))
	CONV16
	MERGE16(24)

i1done:
	ADDQ $64, AX
	JMP  istore

istep2:
	LOAD16S2((AX), 64(AX))
	CONV16
	VPANDD Z5, Z2, Z6
	HAVE(2, i2done)
	LOAD16S2((AX)(BX*1), 64(AX)(BX*1))
	CONV16
	MERGE16(8)
	HAVE(3, i2done)
	LOAD16S2((AX)(BX*2), 64(AX)(BX*2))
	CONV16
	MERGE16(16)
	HAVE(4, i2done)
	LOAD16S2((AX)(R13*1), 64(AX)(R13*1))
	CONV16
	MERGE16(24)

i2done:
	ADDQ $128, AX

istore:
	VMOVDQU32 Z6, K2, (DX)
	ADDQ      $64, DX
	SUBQ      $16, CX
	JMP       icol

inext:
	ADDQ R12, SI
	ADDQ R11, DI
	DECQ R9
	JNZ  irow
	VZEROUPPER
	RET

// func quantizeRowsAVX512(f *interleaveFrame)
// One plane (f.plane unused), column step 1 or 2, the bytes stored as they
// are: dst[i·ldd + j] = q(src[i·lds + j·step]). The masks as in
// quantizeInterleavedAVX512.
TEXT ·quantizeRowsAVX512(SB), NOSPLIT, $0-8
	MOVQ         f+0(FP), R8
	MOVQ         0(R8), DI
	MOVQ         8(R8), SI
	MOVQ         16(R8), R9
	MOVQ         32(R8), R11
	MOVQ         40(R8), R12
	MOVQ         56(R8), R14
	VBROADCASTSS 64(R8), Z1
	VBROADCASTSS 68(R8), Z28
	MOVL         $0x42fe0000, AX
	VPBROADCASTD AX, Z3
	MOVL         $0xc3000000, AX
	VPBROADCASTD AX, Z4
	VMOVDQU32    evenLanes<>(SB), Z8

rrow:
	MOVQ   SI, AX
	MOVQ   DI, DX
	MOVQ   24(R8), CX
	KXNORW K0, K0, K2
	KXNORW K0, K0, K3
	MOVL   $0x7fff, R10
	KMOVW  R10, K4

rcol:
	CMPQ  CX, $16
	JAE   rfull
	TESTQ CX, CX
	JZ    rnext
	MOVL  $1, R10
	SHLL  CX, R10
	DECL  R10
	KMOVW R10, K2
	LEAQ  -1(CX)(CX*1), CX
	MOVQ  $1, R10
	SHLQ  CX, R10
	DECQ  R10
	KMOVW R10, K3
	SHRQ  $16, R10
	KMOVW R10, K4
	MOVQ  $16, CX

rfull:
	CMPQ R14, $1
	JNE  rstep2
	LOAD16((AX))
	ADDQ $64, AX
	JMP  rconv

rstep2:
	LOAD16S2((AX), 64(AX))
	ADDQ $128, AX

rconv:
	CONV16
	VPMOVSDB Z2, K2, (DX)
	ADDQ     $16, DX
	SUBQ     $16, CX
	JMP      rcol

rnext:
	ADDQ R12, SI
	ADDQ R11, DI
	DECQ R9
	JNZ  rrow
	VZEROUPPER
	RET

// evenLanes indexes the even floats of two ZMM tables: 0, 2, …, 30.
DATA evenLanes<>+0(SB)/4, $0
DATA evenLanes<>+4(SB)/4, $2
DATA evenLanes<>+8(SB)/4, $4
DATA evenLanes<>+12(SB)/4, $6
DATA evenLanes<>+16(SB)/4, $8
DATA evenLanes<>+20(SB)/4, $10
DATA evenLanes<>+24(SB)/4, $12
DATA evenLanes<>+28(SB)/4, $14
DATA evenLanes<>+32(SB)/4, $16
DATA evenLanes<>+36(SB)/4, $18
DATA evenLanes<>+40(SB)/4, $20
DATA evenLanes<>+44(SB)/4, $22
DATA evenLanes<>+48(SB)/4, $24
DATA evenLanes<>+52(SB)/4, $26
DATA evenLanes<>+56(SB)/4, $28
DATA evenLanes<>+60(SB)/4, $30
GLOBL evenLanes<>(SB), RODATA|NOPTR, $64

// CONV8 quantizes Y0's floats into Y2's int32 lanes, NaN lanes 0.
#define CONV8 \
	QUOTIENT(Y0, Y1, Y13, Y3, Y4, Y14, Y15) \
	VCMPPS    $0, Y0, Y0, Y5 \
	VMINPS    Y3, Y0, Y0 \
	VMAXPS    Y4, Y0, Y0 \
	VCVTPS2DQ Y0, Y2 \
	VPAND     Y5, Y2, Y2

// LOAD8 loads 8 consecutive floats; LOAD8S2 the even ones of 16 through
// a shuffle within lanes and a permute of the 64-bit halves, the 16th
// (odd, unused) not loaded: VMASKMOVPS with Y12's first seven lanes
// (sevenLanes) reads no byte of a masked-off lane, so a row's last block
// never reads past its last column.
#define LOAD8(addr) VMOVUPS addr, Y0
#define LOAD8S2(addr, next) \
	VMOVUPS    addr, Y0 \
	VMASKMOVPS next, Y12, Y8 \
	VSHUFPS    $0x88, Y8, Y0, Y0 \
	VPERMPD    $0xD8, Y0, Y0

// MERGE8 puts Y2's low bytes into byte lane sh/8 of Y7's dwords.
#define MERGE8(sh) \
	VPAND  Y6, Y2, Y2 \
	VPSLLD $sh, Y2, Y2 \
	VPOR   Y2, Y7, Y7

// func quantizeInterleavedAVX2(f *interleaveFrame)
// Every column of rows of at least 8, 8 positions a block, column step 1
// or 2; a row's last r < 8 positions are the block of 8 ending at its last
// (LASTBLOCK8).
TEXT ·quantizeInterleavedAVX2(SB), NOSPLIT, $0-8
	LOADFRAME
	VBROADCASTSS 64(R8), Y1
	VBROADCASTSS 68(R8), Y13
	MOVL         $0x42fe0000, AX
	VMOVD        AX, X3
	VPBROADCASTD X3, Y3
	MOVL         $0xc3000000, AX
	VMOVD        AX, X4
	VPBROADCASTD X4, Y4
	MOVL         $0xff, AX
	VMOVD        AX, X6
	VPBROADCASTD X6, Y6
	VMOVDQU      sevenLanes<>(SB), Y12

jrow:
	MOVQ SI, AX
	MOVQ DI, DX
	MOVQ 24(R8), CX

jcol:
	CMPQ CX, $8
	JGE  jblock
	LASTBLOCK8(4, 4)

jblock:
	CMPQ R14, $1
	JNE  jstep2
	LOAD8((AX))
	CONV8
	VPAND Y6, Y2, Y7
	HAVE(2, j1done)
	LOAD8((AX)(BX*1))
	CONV8
	MERGE8(8)
	HAVE(3, j1done)
	LOAD8((AX)(BX*2))
	CONV8
	MERGE8(16)
	HAVE(4, j1done)
	LOAD8((AX)(R13*1))
	CONV8
	MERGE8(24)

j1done:
	ADDQ $32, AX
	JMP  jstore

jstep2:
	LOAD8S2((AX), 32(AX))
	CONV8
	VPAND Y6, Y2, Y7
	HAVE(2, j2done)
	LOAD8S2((AX)(BX*1), 32(AX)(BX*1))
	CONV8
	MERGE8(8)
	HAVE(3, j2done)
	LOAD8S2((AX)(BX*2), 32(AX)(BX*2))
	CONV8
	MERGE8(16)
	HAVE(4, j2done)
	LOAD8S2((AX)(R13*1), 32(AX)(R13*1))
	CONV8
	MERGE8(24)

j2done:
	ADDQ $64, AX

jstore:
	VMOVDQU Y7, (DX)
	ADDQ    $32, DX
	SUBQ    $8, CX
	JNZ     jcol

	ADDQ R12, SI
	ADDQ R11, DI
	DECQ R9
	JNZ  jrow
	VZEROUPPER
	RET

// func quantizeRowsAVX2(f *interleaveFrame)
// quantizeRowsAVX512 8 positions at a time, rows of at least 8 (a row's
// last r < 8 positions as in quantizeInterleavedAVX2): the int32s narrow
// to bytes through the packs.
TEXT ·quantizeRowsAVX2(SB), NOSPLIT, $0-8
	MOVQ         f+0(FP), R8
	MOVQ         0(R8), DI
	MOVQ         8(R8), SI
	MOVQ         16(R8), R9
	MOVQ         32(R8), R11
	MOVQ         40(R8), R12
	MOVQ         56(R8), R14
	VBROADCASTSS 64(R8), Y1
	VBROADCASTSS 68(R8), Y13
	MOVL         $0x42fe0000, AX
	VMOVD        AX, X3
	VPBROADCASTD X3, Y3
	MOVL         $0xc3000000, AX
	VMOVD        AX, X4
	VPBROADCASTD X4, Y4
	VMOVDQU      sevenLanes<>(SB), Y12

krow:
	MOVQ SI, AX
	MOVQ DI, DX
	MOVQ 24(R8), CX

kcol:
	CMPQ CX, $8
	JGE  kblock
	LASTBLOCK8(1, 4)

kblock:
	CMPQ R14, $1
	JNE  kstep2
	LOAD8((AX))
	ADDQ $32, AX
	JMP  kconv

kstep2:
	LOAD8S2((AX), 32(AX))
	ADDQ $64, AX

kconv:
	CONV8
	VEXTRACTI128 $1, Y2, X0
	VPACKSSDW    X0, X2, X2
	VPACKSSWB    X2, X2, X2
	VMOVQ        X2, (DX)
	ADDQ         $8, DX
	SUBQ         $8, CX
	JNZ          kcol

	ADDQ R12, SI
	ADDQ R11, DI
	DECQ R9
	JNZ  krow
	VZEROUPPER
	RET

// sevenLanes masks a YMM register's first seven dwords (VMASKMOVPS).
DATA sevenLanes<>+0(SB)/8, $-1
DATA sevenLanes<>+8(SB)/8, $-1
DATA sevenLanes<>+16(SB)/8, $-1
DATA sevenLanes<>+24(SB)/8, $0x00000000ffffffff
GLOBL sevenLanes<>(SB), RODATA|NOPTR, $32
