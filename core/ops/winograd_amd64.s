//go:build amd64 && !purego

#include "textflag.h"

// Winograd F(4×4, 3×3) transforms (winograd.go; Lavin & Gray 2015): the
// input transform Bᵀ d B and the output transform Aᵀ m A, vectors across
// 16 tiles (AVX-512) or 8 (AVX2, two halves of each group of 16).
// Both are separable: first the 1-D transform of each row of the tile
// (across its columns), written to the destination (V, or over M), then
// that of each column, read back, as winoInputTile and winoOutputGo do
// (those without the FMAs).

// BT applies Bᵀ to x0..x5 into y0..y5 (winoInput1D), with temporaries
// t1..t4 and the constants 4, -4, -5, 2, -2 (registers or memory).
#define BT(x0, x1, x2, x3, x4, x5, y0, y1, y2, y3, y4, y5, t1, t2, t3, t4, c4, cm4, cm5, c2, cm2) \
	VMOVAPS     x4, y0     \
	VFMADD231PS c4, x0, y0  \
	VFMADD231PS cm5, x2, y0 \
	VMOVAPS     x4, t1     \
	VFMADD231PS cm4, x2, t1 \
	VMOVAPS     x3, t2     \
	VFMADD231PS cm4, x1, t2 \
	VADDPS      t2, t1, y1 \
	VSUBPS      t2, t1, y2 \
	VSUBPS      x2, x4, t3 \
	VSUBPS      x1, x3, t4 \
	VMOVAPS     t3, y3     \
	VFMADD231PS c2, t4, y3  \
	VMOVAPS     t3, y4     \
	VFMADD231PS cm2, t4, y4 \
	VMOVAPS     x5, y5     \
	VFMADD231PS c4, x1, y5  \
	VFMADD231PS cm5, x3, y5

// AT applies Aᵀ to m0..m5 into y0..y3 (winoOutput1D), with temporaries
// a, b, c, d and the constants 2, 4, 8.
#define AT(m0, m1, m2, m3, m4, m5, y0, y1, y2, y3, a, b, c, d, c2, c4, c8) \
	VADDPS      m2, m1, a  \
	VSUBPS      m2, m1, b  \
	VADDPS      m4, m3, c  \
	VSUBPS      m4, m3, d  \
	VADDPS      a, m0, y0  \
	VADDPS      c, y0, y0  \
	VMOVAPS     b, y1      \
	VFMADD231PS c2, d, y1  \
	VMOVAPS     a, y2      \
	VFMADD231PS c4, c, y2  \
	VMOVAPS     b, y3      \
	VFMADD231PS c8, d, y3  \
	VADDPS      m5, y3, y3

// LOAD6 loads x0..x5 from p, p+s, ..., p+5s (walker w, clobbered).
#define LOAD6(p, s, w, x0, x1, x2, x3, x4, x5) \
	MOVQ    p, w     \
	VMOVUPS (w), x0  \
	ADDQ    s, w     \
	VMOVUPS (w), x1  \
	ADDQ    s, w     \
	VMOVUPS (w), x2  \
	ADDQ    s, w     \
	VMOVUPS (w), x3  \
	ADDQ    s, w     \
	VMOVUPS (w), x4  \
	ADDQ    s, w     \
	VMOVUPS (w), x5

// STORE6 stores y0..y5 at p, p+s, ..., p+5s (walker w, clobbered).
#define STORE6(p, s, w, y0, y1, y2, y3, y4, y5) \
	MOVQ    p, w     \
	VMOVUPS y0, (w)  \
	ADDQ    s, w     \
	VMOVUPS y1, (w)  \
	ADDQ    s, w     \
	VMOVUPS y2, (w)  \
	ADDQ    s, w     \
	VMOVUPS y3, (w)  \
	ADDQ    s, w     \
	VMOVUPS y4, (w)  \
	ADDQ    s, w     \
	VMOVUPS y5, (w)

// STORE4 stores y0..y3 at p, p+s, p+2s, p+3s (walker w, clobbered).
#define STORE4(p, s, w, y0, y1, y2, y3) \
	MOVQ    p, w     \
	VMOVUPS y0, (w)  \
	ADDQ    s, w     \
	VMOVUPS y1, (w)  \
	ADDQ    s, w     \
	VMOVUPS y2, (w)  \
	ADDQ    s, w     \
	VMOVUPS y3, (w)

// ---- output transform macros (before any function: they name the output functions' arguments) ----
// Registers: DI channel k's row of M_0 (column 0), R12 the group's
// column, SI channel k's output plane, R15 the residual's distance from
// the output (bytes), DX the bias, BX the group's output offsets, R13 the
// tiles left, CX the groups left, R11 the channels left, R8 the ξ stride
// and R9 six of it (bytes), R10 the output row pitch (bytes), AX and R14
// walkers. The tiles' rows go through tmp: 4 rows of 16 tiles × 4 values.

// COPYOUT(QROW, QRES) stores the group's first min(16, R13) tiles from
// tmp (tile order: output row i of tile l at 256i + 16l) to the output,
// adding the residual (at R15 from the output) when res is not nil, then
// clamping to [lo, hi] (Z14/Y14, Z15/Y15). Four tiles next to each other
// in an output row (their offsets 4 apart: whole tiles of a tile row)
// are 16 contiguous values of each of their 4 rows, stored as vectors
// (QROW512 and RESADD512, or QROW256 and RESADD256); other tiles one row
// of 4 at a time. It clobbers AX, R8, R9 and R14 (R8 and R9 restored).
// Its labels are its function's: one use per function.
#define COPYROW(off, addres) \
	VMOVUPS off(R9), X0  \
	addres               \
	VMAXPS  X0, X14, X0  \
	VMINPS  X0, X15, X0  \
	VMOVUPS X0, (AX)     \
	ADDQ    R10, AX

#define RESADD VADDPS (AX)(R15*1), X0, X0
#define NOADD

#define COPYTILE(addres) \
	MOVLQSX (BX), AX       \
	LEAQ    (SI)(AX*4), AX \
	COPYROW(0, addres)     \
	COPYROW(256, addres)   \
	COPYROW(512, addres)   \
	COPYROW(768, addres)   \
	ADDQ    $4, BX         \
	ADDQ    $16, R9        \
	DECQ    R14

// QUADTEST jumps to one unless the next 4 tiles are a row's run (AX is
// then the first one's output address).
#define QUADTEST(one) \
	CMPQ    R14, $4        \
	JLT     one            \
	MOVLQSX (BX), AX       \
	MOVLQSX 12(BX), R8     \
	SUBQ    AX, R8         \
	CMPQ    R8, $12        \
	JNE     one            \
	LEAQ    (SI)(AX*4), AX

#define QUADNEXT \
	ADDQ $16, BX \
	ADDQ $64, R9 \
	SUBQ $4, R14

#define QROW512(off, addres) \
	VMOVUPS off(R9), Z0  \
	addres               \
	VMAXPS  Z0, Z14, Z0  \
	VMINPS  Z0, Z15, Z0  \
	VMOVUPS Z0, (AX)     \
	ADDQ    R10, AX

#define RESADD512 VADDPS (AX)(R15*1), Z0, Z0

#define QROW256(off, addres) \
	VMOVUPS off(R9), Y0    \
	VMOVUPS off+32(R9), Y1 \
	addres                 \
	VMAXPS  Y0, Y14, Y0    \
	VMINPS  Y0, Y15, Y0    \
	VMAXPS  Y1, Y14, Y1    \
	VMINPS  Y1, Y15, Y1    \
	VMOVUPS Y0, (AX)       \
	VMOVUPS Y1, 32(AX)     \
	ADDQ    R10, AX

#define RESADD256 VADDPS (AX)(R15*1), Y0, Y0; VADDPS 32(AX)(R15*1), Y1, Y1

#define COPYSTART \
	MOVQ tmp+104(FP), R9 \
	MOVQ R13, R14        \
	CMPQ R14, $16        \
	JLE  copyn           \
	MOVQ $16, R14        \
copyn:                   \
	CMPQ res+8(FP), $0   \
	JEQ  copyplain

#define COPYEND \
copydone:                  \
	MOVQ mStride+64(FP), R8 \
	SHLQ $2, R8            \
	LEAQ (R8)(R8*2), R9    \
	ADDQ R9, R9

#define COPYOUT(QROW, QRES) \
	COPYSTART                 \
copyres:                      \
	QUADTEST(copyresone)      \
	QROW(0, QRES)             \
	QROW(256, QRES)           \
	QROW(512, QRES)           \
	QROW(768, QRES)           \
	QUADNEXT                  \
	JNZ  copyres              \
	JMP  copydone             \
copyresone:                   \
	COPYTILE(RESADD)          \
	JNZ  copyres              \
	JMP  copydone             \
copyplain:                    \
	QUADTEST(copyplainone)    \
	QROW(0, NOADD)            \
	QROW(256, NOADD)          \
	QROW(512, NOADD)          \
	QROW(768, NOADD)          \
	QUADNEXT                  \
	JNZ  copyplain            \
	JMP  copydone             \
copyplainone:                 \
	COPYTILE(NOADD)           \
	JNZ  copyplain            \
	COPYEND

// OHROW512 applies Aᵀ across row r of the group's tiles at AX, writing
// the 4 values over the row's first 4 positions; AX advances 6 ξ.
#define OHROW512 \
	LOAD6(AX, R8, R14, Z0, Z1, Z2, Z3, Z4, Z5) \
	AT(Z0, Z1, Z2, Z3, Z4, Z5, Z10, Z11, Z12, Z13, Z6, Z7, Z8, Z9, Z26, Z27, Z28) \
	STORE4(AX, R8, R14, Z10, Z11, Z12, Z13) \
	LEAQ (AX)(R9*1), AX

// OVCOL512 applies Aᵀ down column j at AX into o0..o3 (+ bias) and
// advances AX to the next column.
#define OVCOL512(o0, o1, o2, o3) \
	LOAD6(AX, R9, R14, Z0, Z1, Z2, Z3, Z4, Z5) \
	AT(Z0, Z1, Z2, Z3, Z4, Z5, o0, o1, o2, o3, Z6, Z7, Z8, Z9, Z26, Z27, Z28) \
	VADDPS Z29, o0, o0 \
	VADDPS Z29, o1, o1 \
	VADDPS Z29, o2, o2 \
	VADDPS Z29, o3, o3 \
	ADDQ R8, AX

// T512 transposes output row i's values o0..o3 (column j of 16 tiles)
// into 16 rows of 4 values, tile order, at off(AX).
#define T512(o0, o1, o2, o3, off) \
	VUNPCKLPS  o1, o0, Z0       \
	VUNPCKHPS  o1, o0, Z1       \
	VUNPCKLPS  o3, o2, Z2       \
	VUNPCKHPS  o3, o2, Z3       \
	VUNPCKLPD  Z2, Z0, Z4       \
	VUNPCKHPD  Z2, Z0, Z5       \
	VUNPCKLPD  Z3, Z1, Z6       \
	VUNPCKHPD  Z3, Z1, Z7       \
	VSHUFF32X4 $0x44, Z5, Z4, Z0 \
	VSHUFF32X4 $0xee, Z5, Z4, Z1 \
	VSHUFF32X4 $0x44, Z7, Z6, Z2 \
	VSHUFF32X4 $0xee, Z7, Z6, Z3 \
	VSHUFF32X4 $0x88, Z2, Z0, Z4 \
	VSHUFF32X4 $0xdd, Z2, Z0, Z5 \
	VSHUFF32X4 $0x88, Z3, Z1, Z6 \
	VSHUFF32X4 $0xdd, Z3, Z1, Z7 \
	VMOVUPS    Z4, off(AX)      \
	VMOVUPS    Z5, off+64(AX)   \
	VMOVUPS    Z6, off+128(AX)  \
	VMOVUPS    Z7, off+192(AX)

// AVX2: per half of a group, the rows' transform in place, then the
// columns' into the first 4×4 positions (o[i][j] at ξ = 6i + j), then
// per output row i those 4 (+ bias, Y15) transposed into tmp.
#define OHROW256 \
	LOAD6(AX, R8, R14, Y0, Y1, Y2, Y3, Y4, Y5) \
	AT(Y0, Y1, Y2, Y3, Y4, Y5, Y10, Y11, Y12, Y13, Y6, Y7, Y8, Y9, winoC2<>(SB), winoC4<>(SB), winoC8<>(SB)) \
	STORE4(AX, R8, R14, Y10, Y11, Y12, Y13) \
	LEAQ (AX)(R9*1), AX

#define OVCOL256 \
	LOAD6(AX, R9, R14, Y0, Y1, Y2, Y3, Y4, Y5) \
	AT(Y0, Y1, Y2, Y3, Y4, Y5, Y10, Y11, Y12, Y13, Y6, Y7, Y8, Y9, winoC2<>(SB), winoC4<>(SB), winoC8<>(SB)) \
	STORE4(AX, R9, R14, Y10, Y11, Y12, Y13) \
	ADDQ R8, AX

// T256 transposes output row i (its 4 values at AX, AX+ξ, ...; then AX
// advances 6 ξ) of 8 tiles into 8 rows of 4 values at off(R14).
#define T256(off) \
	MOVQ       AX, R14           \
	VMOVUPS    (R14), Y0         \
	ADDQ       R8, R14           \
	VMOVUPS    (R14), Y1         \
	ADDQ       R8, R14           \
	VMOVUPS    (R14), Y2         \
	ADDQ       R8, R14           \
	VMOVUPS    (R14), Y3         \
	VADDPS     Y15, Y0, Y0       \
	VADDPS     Y15, Y1, Y1       \
	VADDPS     Y15, Y2, Y2       \
	VADDPS     Y15, Y3, Y3       \
	VUNPCKLPS  Y1, Y0, Y4        \
	VUNPCKHPS  Y1, Y0, Y5        \
	VUNPCKLPS  Y3, Y2, Y6        \
	VUNPCKHPS  Y3, Y2, Y7        \
	VUNPCKLPD  Y6, Y4, Y8        \
	VUNPCKHPD  Y6, Y4, Y9        \
	VUNPCKLPD  Y7, Y5, Y10       \
	VUNPCKHPD  Y7, Y5, Y11       \
	VPERM2F128 $0x20, Y9, Y8, Y0 \
	VPERM2F128 $0x20, Y11, Y10, Y1 \
	VPERM2F128 $0x31, Y9, Y8, Y2 \
	VPERM2F128 $0x31, Y11, Y10, Y3 \
	MOVQ       tmp+104(FP), R14  \
	VMOVUPS    Y0, off(R14)      \
	VMOVUPS    Y1, off+32(R14)   \
	VMOVUPS    Y2, off+64(R14)   \
	VMOVUPS    Y3, off+96(R14)   \
	LEAQ       (AX)(R9*1), AX

#define OHALF256(h) \
	MOVQ R12, AX  \
	OHROW256      \
	OHROW256      \
	OHROW256      \
	OHROW256      \
	OHROW256      \
	OHROW256      \
	MOVQ R12, AX  \
	OVCOL256      \
	OVCOL256      \
	OVCOL256      \
	OVCOL256      \
	VBROADCASTSS (DX), Y15 \
	MOVQ R12, AX  \
	T256(h)       \
	T256(h+256)   \
	T256(h+512)   \
	T256(h+768)

// OUTSETUP loads the output transforms' arguments: R8 the stride between
// the 36 matrices in bytes and R9 six of it, R10 ldo in bytes, DI the
// first channel's matrices, SI dst, R15 res as an offset from dst, DX
// bias, R11 the channels.
#define OUTSETUP \
	MOVQ mStride+64(FP), R8 \
	SHLQ $2, R8 \
	LEAQ (R8)(R8*2), R9 \
	ADDQ R9, R9 \
	MOVQ ldo+88(FP), R10 \
	SHLQ $2, R10 \
	MOVQ m+16(FP), DI \
	MOVQ dst+0(FP), SI \
	MOVQ res+8(FP), R15 \
	SUBQ SI, R15 \
	MOVQ bias+24(FP), DX \
	MOVQ chans+56(FP), R11

// OUTCHAN starts a channel: BX the tile offsets, CX its groups of 16
// tiles, R13 the tiles left, R12 its matrices.
#define OUTCHAN \
	MOVQ out+32(FP), BX \
	MOVQ groups+48(FP), CX \
	MOVQ n+40(FP), R13 \
	MOVQ DI, R12

// OUTNEXT moves to the next group of 16 tiles, looping to group while
// the channel has some, then to the next channel, looping to chan while
// channels are left, then returns.
#define OUTNEXT(group, chan) \
	ADDQ $64, R12 \
	SUBQ $16, R13 \
	DECQ CX \
	JNZ  group \
	MOVQ ldm+72(FP), AX \
	LEAQ (DI)(AX*4), DI \
	MOVQ outPlane+80(FP), AX \
	LEAQ (SI)(AX*4), SI \
	ADDQ $4, DX \
	DECQ R11 \
	JNZ  chan \
	VZEROUPPER \
	RET

// ---- input transform ----
// Registers: DI channel c's row of panel 0 of V_0, R15 that of the
// current group, SI channel c's input plane, R12 the input row of r,
// BX/DX the group's offsets and masks, R8 the ξ stride and R9 six of it
// (bytes), R10 the input row pitch (bytes), R13 the panel stride, CX the
// groups left, R11 the channels left, AX and R14 walkers.

// G512 gathers d[r][s] into zd: the lanes whose row (K1) and column (the
// mask at km(DX)) are inside the image, zero elsewhere.
#define G512(disp, km, zd) \
	KMOVW      km(DX), K2 \
	KANDW      K1, K2, K2 \
	VPXORD     zd, zd, zd \
	VGATHERDPS disp(R12)(Z31*4), K2, zd

// ROW512 gathers row r of the 16 tiles (row mask at km(DX)), applies Bᵀ
// across it and stores the 6 values at AX, advancing it by 6 ξ.
#define ROW512(km) \
	KMOVW km(DX), K1 \
	G512(0, 12, Z0)  \
	G512(4, 14, Z1)  \
	G512(8, 16, Z2)  \
	G512(12, 18, Z3) \
	G512(16, 20, Z4) \
	G512(20, 22, Z5) \
	BT(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15, Z24, Z25, Z26, Z27, Z28) \
	STORE6(AX, R8, R14, Z6, Z7, Z8, Z9, Z10, Z11) \
	LEAQ (AX)(R9*1), AX \
	ADDQ R10, R12

// COL512 applies Bᵀ down the column at AX (6 ξ apart), in place, and
// advances AX to the next column.
#define COL512 \
	LOAD6(AX, R9, R14, Z0, Z1, Z2, Z3, Z4, Z5) \
	BT(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15, Z24, Z25, Z26, Z27, Z28) \
	STORE6(AX, R9, R14, Z6, Z7, Z8, Z9, Z10, Z11) \
	ADDQ R8, AX

// IN512SETUP loads the AVX-512 input transforms' arguments (DI dst, SI
// src, R8 vStride and R9 6·vStride in bytes, R10 a row of the input in
// bytes, R13 a group's channels in bytes, R11 the channels left) and Bᵀ's
// constants (Z24-Z28).
#define IN512SETUP \
	MOVQ dst+0(FP), DI \
	MOVQ src+8(FP), SI \
	MOVQ vStride+64(FP), R8 \
	SHLQ $2, R8 \
	LEAQ (R8)(R8*2), R9 \
	ADDQ R9, R9 \
	MOVQ width+56(FP), R10 \
	SHLQ $2, R10 \
	MOVQ chans+40(FP), R13 \
	SHLQ $6, R13 \
	MOVQ chans+40(FP), R11 \
	MOVL $0x40800000, AX \
	VPBROADCASTD AX, Z24 \
	MOVL $0xc0800000, AX \
	VPBROADCASTD AX, Z25 \
	MOVL $0xc0a00000, AX \
	VPBROADCASTD AX, Z26 \
	MOVL $0x40000000, AX \
	VPBROADCASTD AX, Z27 \
	MOVL $0xc0000000, AX \
	VPBROADCASTD AX, Z28

// COLS512 applies Bᵀ down the 6 columns of the group at R15.
#define COLS512 \
	MOVQ R15, AX \
	COL512 \
	COL512 \
	COL512 \
	COL512 \
	COL512 \
	COL512

// IN512NEXT moves DI and SI to the next channel and loops to lbl while
// channels are left, then returns.
#define IN512NEXT(lbl) \
	ADDQ $64, DI \
	MOVQ inPlane+48(FP), R14 \
	LEAQ (SI)(R14*4), SI \
	DECQ R11 \
	JNZ  lbl \
	VZEROUPPER \
	RET

// func winoInputAVX512(dst, src *float32, idx *int32, bits *uint16, groups, chans, inPlane, width, vStride int)
TEXT ·winoInputAVX512(SB), NOSPLIT, $0-72
	IN512SETUP

in512chan:
	MOVQ idx+16(FP), BX
	MOVQ bits+24(FP), DX
	MOVQ groups+32(FP), CX
	MOVQ DI, R15

in512group:
	VMOVDQU32 (BX), Z31
	MOVQ      SI, R12
	MOVQ      R15, AX
	ROW512(0)
	ROW512(2)
	ROW512(4)
	ROW512(6)
	ROW512(8)
	ROW512(10)
	COLS512
	ADDQ      $64, BX
	ADDQ      $24, DX
	ADDQ      R13, R15
	DECQ      CX
	JNZ       in512group

	IN512NEXT(in512chan)

// The pair variant of the AVX-512 input transform: each row's 6 values
// are gathered as 3 pairs of adjacent values (VPGATHERDQ, 8 tiles a
// gather: half the loads of gathering them one by one), then split into
// the 6 vectors (VPERMT2PS), the values outside the image zeroed there.
// A pair is gathered when its row and either column is inside the image,
// so it may read one value past its row's ends (the neighbouring row's,
// dropped): the caller keeps the groups where such a value may be outside
// the tensor on the one-by-one kernel (pairsOut). Masks per group at DX
// (pairs): 18 pair masks (row r, pair p at 2(3r+p)), then 36 value
// masks (at 36 + 2(6r+s)).
DATA winoEven<>+0(SB)/4, $0
DATA winoEven<>+4(SB)/4, $2
DATA winoEven<>+8(SB)/4, $4
DATA winoEven<>+12(SB)/4, $6
DATA winoEven<>+16(SB)/4, $8
DATA winoEven<>+20(SB)/4, $10
DATA winoEven<>+24(SB)/4, $12
DATA winoEven<>+28(SB)/4, $14
DATA winoEven<>+32(SB)/4, $16
DATA winoEven<>+36(SB)/4, $18
DATA winoEven<>+40(SB)/4, $20
DATA winoEven<>+44(SB)/4, $22
DATA winoEven<>+48(SB)/4, $24
DATA winoEven<>+52(SB)/4, $26
DATA winoEven<>+56(SB)/4, $28
DATA winoEven<>+60(SB)/4, $30
GLOBL winoEven<>(SB), RODATA|NOPTR, $64

// GP512 gathers pair p of row r (pair mask at pm(DX), values' masks at
// m0(DX) and m1(DX)) into z0 and z1.
#define GP512(disp, pm, m0, m1, z0, z1) \
	KMOVW      pm(DX), K4               \
	KSHIFTRW   $8, K4, K5               \
	VPXORQ     Z16, Z16, Z16            \
	VPGATHERDQ disp(R12)(Y30*4), K4, Z16 \
	VPXORQ     Z17, Z17, Z17            \
	VPGATHERDQ disp(R12)(Y31*4), K5, Z17 \
	KMOVW      m0(DX), K2               \
	KMOVW      m1(DX), K3               \
	VMOVAPS    Z16, z0                  \
	VPERMT2PS.Z Z17, Z18, K2, z0        \
	VMOVAPS    Z16, z1                  \
	VPERMT2PS.Z Z17, Z19, K3, z1

#define ROWQ512(pm, m) \
	GP512(0, pm, m, m+2, Z0, Z1)     \
	GP512(8, pm+2, m+4, m+6, Z2, Z3)  \
	GP512(16, pm+4, m+8, m+10, Z4, Z5) \
	BT(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15, Z24, Z25, Z26, Z27, Z28) \
	STORE6(AX, R8, R14, Z6, Z7, Z8, Z9, Z10, Z11) \
	LEAQ (AX)(R9*1), AX \
	ADDQ R10, R12

// func winoInputPairsAVX512(dst, src *float32, idx *int32, pairs *uint16, groups, chans, inPlane, width, vStride int)
TEXT ·winoInputPairsAVX512(SB), NOSPLIT, $0-72
	IN512SETUP
	VMOVDQU32 winoEven<>(SB), Z18
	MOVL $1, AX
	VPBROADCASTD AX, Z19
	VPADDD Z19, Z18, Z19 // odd

inqchan:
	MOVQ idx+16(FP), BX
	MOVQ pairs+24(FP), DX
	MOVQ groups+32(FP), CX
	MOVQ DI, R15

inqgroup:
	VMOVDQU32  (BX), Z30
	VSHUFI64X2 $0xee, Z30, Z30, Z31
	MOVQ       SI, R12
	MOVQ       R15, AX
	ROWQ512(0, 36)
	ROWQ512(6, 48)
	ROWQ512(12, 60)
	ROWQ512(18, 72)
	ROWQ512(24, 84)
	ROWQ512(30, 96)
	COLS512
	ADDQ       $64, BX
	ADDQ       $108, DX
	ADDQ       R13, R15
	DECQ       CX
	JNZ        inqgroup

	IN512NEXT(inqchan)

// SPLAT8 defines name<> as 8 copies of the float32 bits (a YMM operand).
#define SPLAT8(name, bits) \
	DATA name<>+0(SB)/4, bits  \
	DATA name<>+4(SB)/4, bits  \
	DATA name<>+8(SB)/4, bits  \
	DATA name<>+12(SB)/4, bits \
	DATA name<>+16(SB)/4, bits \
	DATA name<>+20(SB)/4, bits \
	DATA name<>+24(SB)/4, bits \
	DATA name<>+28(SB)/4, bits \
	GLOBL name<>(SB), RODATA|NOPTR, $32

// AVX2: the groups' halves of 8 tiles, masks as bytes (0 or -1, 16 a
// mask) at DX, sign-extended into Y14 (row) and Y13 (row and column).
// The constants are in memory.
SPLAT8(winoC4, $0x40800000)
SPLAT8(winoCM4, $0xc0800000)
SPLAT8(winoCM5, $0xc0a00000)
SPLAT8(winoC2, $0x40000000)
SPLAT8(winoCM2, $0xc0000000)
SPLAT8(winoC8, $0x41000000)

#define G256(disp, km, yd) \
	VPMOVSXBD  km(DX), Y13   \
	VPAND      Y14, Y13, Y13 \
	VPXOR      yd, yd, yd    \
	VGATHERDPS Y13, disp(R12)(Y15*4), yd

#define ROW256(km) \
	VPMOVSXBD km(DX), Y14 \
	VMOVDQU   (BX), Y15   \
	G256(0, 96, Y0)       \
	G256(4, 112, Y1)      \
	G256(8, 128, Y2)      \
	G256(12, 144, Y3)     \
	G256(16, 160, Y4)     \
	G256(20, 176, Y5)     \
	BT(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15, winoC4<>(SB), winoCM4<>(SB), winoCM5<>(SB), winoC2<>(SB), winoCM2<>(SB)) \
	STORE6(AX, R8, R14, Y6, Y7, Y8, Y9, Y10, Y11) \
	LEAQ (AX)(R9*1), AX \
	ADDQ R10, R12

#define COL256 \
	LOAD6(AX, R9, R14, Y0, Y1, Y2, Y3, Y4, Y5) \
	BT(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15, winoC4<>(SB), winoCM4<>(SB), winoCM5<>(SB), winoC2<>(SB), winoCM2<>(SB)) \
	STORE6(AX, R9, R14, Y6, Y7, Y8, Y9, Y10, Y11) \
	ADDQ R8, AX

// HALF256 transforms the half of the group whose indices are at BX, masks
// at DX and panel columns at R15.
#define HALF256 \
	MOVQ SI, R12  \
	MOVQ R15, AX  \
	ROW256(0)     \
	ROW256(16)    \
	ROW256(32)    \
	ROW256(48)    \
	ROW256(64)    \
	ROW256(80)    \
	MOVQ R15, AX  \
	COL256        \
	COL256        \
	COL256        \
	COL256        \
	COL256        \
	COL256

// func winoInputAVX2(dst, src *float32, idx *int32, bytes *int8, groups, chans, inPlane, width, vStride int)
TEXT ·winoInputAVX2(SB), NOSPLIT, $0-72
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ vStride+64(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	ADDQ R9, R9
	MOVQ width+56(FP), R10
	SHLQ $2, R10
	MOVQ chans+40(FP), R13
	SHLQ $6, R13
	MOVQ chans+40(FP), R11

in256chan:
	MOVQ idx+16(FP), BX
	MOVQ bytes+24(FP), DX
	MOVQ groups+32(FP), CX
	MOVQ DI, R15

in256group:
	HALF256
	ADDQ $32, BX
	ADDQ $8, DX
	ADDQ $32, R15
	HALF256
	ADDQ $32, BX
	ADDQ $184, DX
	ADDQ R13, R15
	SUBQ $32, R15
	DECQ CX
	JNZ  in256group

	ADDQ $64, DI
	MOVQ inPlane+48(FP), R14
	LEAQ (SI)(R14*4), SI
	DECQ R11
	JNZ  in256chan
	VZEROUPPER
	RET

// ---- output transform (its macros are above: they name its arguments) ----

// func winoOutputAVX512(dst, res, m, bias *float32, out *int32, n, groups, chans, mStride, ldm, outPlane, ldo int, lo, hi float32, tmp *float32)
TEXT ·winoOutputAVX512(SB), NOSPLIT, $0-112
	OUTSETUP
	MOVL $0x40000000, AX // 2
	VPBROADCASTD AX, Z26
	MOVL $0x40800000, AX // 4
	VPBROADCASTD AX, Z27
	MOVL $0x41000000, AX // 8
	VPBROADCASTD AX, Z28

out512chan:
	VBROADCASTSS (DX), Z29
	OUTCHAN

out512group:
	MOVQ R12, AX
	OHROW512
	OHROW512
	OHROW512
	OHROW512
	OHROW512
	OHROW512
	MOVQ R12, AX
	OVCOL512(Z10, Z14, Z18, Z22)
	OVCOL512(Z11, Z15, Z19, Z23)
	OVCOL512(Z12, Z16, Z20, Z24)
	OVCOL512(Z13, Z17, Z21, Z25)
	MOVQ tmp+104(FP), AX
	T512(Z10, Z11, Z12, Z13, 0)
	T512(Z14, Z15, Z16, Z17, 256)
	T512(Z18, Z19, Z20, Z21, 512)
	T512(Z22, Z23, Z24, Z25, 768)
	VBROADCASTSS lo+96(FP), Z14
	VBROADCASTSS hi+100(FP), Z15
	COPYOUT(QROW512, RESADD512)
	OUTNEXT(out512group, out512chan)

// func winoOutputAVX2(dst, res, m, bias *float32, out *int32, n, groups, chans, mStride, ldm, outPlane, ldo int, lo, hi float32, tmp *float32)
TEXT ·winoOutputAVX2(SB), NOSPLIT, $0-112
	OUTSETUP

out256chan:
	OUTCHAN

out256group:
	OHALF256(0)
	ADDQ $32, R12
	OHALF256(128)
	SUBQ $32, R12
	VBROADCASTSS lo+96(FP), Y14
	VBROADCASTSS hi+100(FP), Y15
	COPYOUT(QROW256, RESADD256)
	OUTNEXT(out256group, out256chan)
