//go:build amd64 && !purego

#include "textflag.h"

// The constants of gelu and erf (unary.go), each four times (one YMM).
// The subtracted coefficients are stored negated: x − c and x + (−c)
// round alike.
#define CONST(off, bits) \
	DATA geluConsts<>+(off+0)(SB)/8, $bits \
	DATA geluConsts<>+(off+8)(SB)/8, $bits \
	DATA geluConsts<>+(off+16)(SB)/8, $bits \
	DATA geluConsts<>+(off+24)(SB)/8, $bits

CONST(0, 0x3ff6a09e667f3bcd) // √2 (math.Sqrt2)
CONST(32, 0x4010000000000000) // 4
CONST(64, 0xc010000000000000) // −4
CONST(96, 0x3ff0000000000000) // 1
CONST(128, 0xbff0000000000000) // −1
CONST(160, 0x3fe0000000000000) // 0.5
CONST(192, 0xbdf2bbe1536358b7) // p: −2.72614225801306e-10
CONST(224, 0x3e5dbffdb951fff6) // 2.77068142495902e-08
CONST(256, 0xbec19fea2baa463b) // −2.10102402082508e-06
CONST(288, 0xbf0dd85a4dc426e3) // −5.69250639462346e-05
CONST(320, 0xbf48158c5c2ce6a4) // −7.34990630326855e-04
CONST(352, 0xbf68343eb19d459e) // −2.95459980854025e-03
CONST(384, 0xbf907b7a82ed1713) // −1.60960333262415e-02
CONST(416, 0xbeee8c19abb84b81) // q: −1.45660718464996e-05
CONST(448, 0xbf2bf7a52db09376) // −2.13374055278905e-04
CONST(480, 0xbf5b9249b4778fb8) // −1.68282697438203e-03
CONST(512, 0xbf7e337efa2c2f02) // −7.37332916720468e-03
CONST(544, 0xbf8d36d4ddb1cdc3) // −1.42647390514189e-02
GLOBL geluConsts<>(SB), RODATA|NOPTR, $576

// ERF computes erf(Y1) into Y3 (clobbering Y1, Y2, Y4), with exactly
// the operations of erf in unary.go, unfused and in their order, so that
// every value is bit for bit the Go function's. MINPD and MAXPD return
// their second source when either is NaN: the value being clamped goes
// there, so that NaN passes as Go's min and max pass it. AX holds the
// constants; Y12..Y15 hold 4, −4, 1, −1.
#define ERF \
	VMINPD  Y1, Y12, Y1 \ // min(4, x)
	VMAXPD  Y1, Y13, Y1 \ // max(−4, ·)
	VMULPD  Y1, Y1, Y2 \  // x2
	VMOVUPD 192(AX), Y3 \ // p
	VMULPD  Y2, Y3, Y3 \
	VADDPD  224(AX), Y3, Y3 \
	VMULPD  Y2, Y3, Y3 \
	VADDPD  256(AX), Y3, Y3 \
	VMULPD  Y2, Y3, Y3 \
	VADDPD  288(AX), Y3, Y3 \
	VMULPD  Y2, Y3, Y3 \
	VADDPD  320(AX), Y3, Y3 \
	VMULPD  Y2, Y3, Y3 \
	VADDPD  352(AX), Y3, Y3 \
	VMULPD  Y2, Y3, Y3 \
	VADDPD  384(AX), Y3, Y3 \
	VMOVUPD 416(AX), Y4 \ // q
	VMULPD  Y2, Y4, Y4 \
	VADDPD  448(AX), Y4, Y4 \
	VMULPD  Y2, Y4, Y4 \
	VADDPD  480(AX), Y4, Y4 \
	VMULPD  Y2, Y4, Y4 \
	VADDPD  512(AX), Y4, Y4 \
	VMULPD  Y2, Y4, Y4 \
	VADDPD  544(AX), Y4, Y4 \
	VMULPD  Y3, Y1, Y3 \  // x·p
	VDIVPD  Y4, Y3, Y3 \  // x·p/q
	VMINPD  Y3, Y14, Y3 \ // min(1, ·)
	VMAXPD  Y3, Y15, Y3    // max(−1, ·)

// LOADCONSTS points AX at the constants and loads Y12..Y15.
#define LOADCONSTS \
	LEAQ    geluConsts<>(SB), AX \
	VMOVUPD 32(AX), Y12 \
	VMOVUPD 64(AX), Y13 \
	VMOVUPD 96(AX), Y14 \
	VMOVUPD 128(AX), Y15

// func erfAVX2(dst, src *float32, n int)
// dst[i] = float32(erf(float64(src[i]))) for n (a multiple of 4) values,
// 4 at a time in float64 (ERF).
TEXT ·erfAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	LOADCONSTS

erfLoop:
	CMPQ       CX, $4
	JL         erfDone
	VCVTPS2PD  (SI), Y1
	ERF
	VCVTPD2PSY Y3, X3
	VMOVUPS    X3, (DI)
	ADDQ       $16, SI
	ADDQ       $16, DI
	SUBQ       $4, CX
	JMP        erfLoop

erfDone:
	VZEROUPPER
	RET

// func geluAVX2(dst, src *float32, n int)
// dst[i] = float32(0.5·x·(1 + erf(x/√2))), x = float64(src[i]), for n
// (a multiple of 4) values, 4 at a time in float64 with gelu's
// operations in their order (ERF for erf).
TEXT ·geluAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	LOADCONSTS

geluLoop:
	CMPQ       CX, $4
	JL         geluDone
	VCVTPS2PD  (SI), Y0      // x
	VDIVPD     (AX), Y0, Y1  // x/√2
	ERF
	VMULPD     160(AX), Y0, Y5 // 0.5·x
	VADDPD     Y14, Y3, Y3     // 1 + erf
	VMULPD     Y3, Y5, Y5
	VCVTPD2PSY Y5, X5
	VMOVUPS    X5, (DI)
	ADDQ       $16, SI
	ADDQ       $16, DI
	SUBQ       $4, CX
	JMP        geluLoop

geluDone:
	VZEROUPPER
	RET
