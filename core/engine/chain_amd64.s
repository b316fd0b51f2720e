//go:build amd64 && !purego

#include "textflag.h"

// Go's max(v, 0) for float32, as the compiler lowers it (and core/ops's
// Relu therefore computes it), lane by lane: with n = -v,
// r = -(min(min(n, -0), n) | min(n, -0)), where min(p, q) is MINSS's
// (p < q ? p : q). It gives +0 for ±0 and for every v < 0, v for v > 0,
// and a NaN v with its sign bit cleared. VMINPS q, p, dst is MINSS's
// per lane.

// func chainAVX512(a, o, x, y *float32, n int)
// o[i] = max(v, 0) for v = x[i] (a == nil) or v = x[i] + y[i], then
// also stored in a[i]; the last n mod 16 values under a mask.
TEXT ·chainAVX512(SB), NOSPLIT, $0-40
	MOVQ         a+0(FP), DI
	MOVQ         o+8(FP), R8
	MOVQ         x+16(FP), SI
	MOVQ         y+24(FP), R9
	MOVQ         n+32(FP), DX
	MOVL         $0x80000000, AX
	VPBROADCASTD AX, Z31              // sign bit; also -0
	KXNORW       K0, K0, K1
	XORQ         BX, BX

loop512:
	MOVQ DX, CX
	SUBQ BX, CX
	JLE  done512
	CMPQ CX, $16
	JGE  full512
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1

full512:
	VMOVUPS.Z (SI)(BX*4), K1, Z0
	TESTQ     DI, DI
	JZ        relu512
	VMOVUPS.Z (R9)(BX*4), K1, Z1
	VADDPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (DI)(BX*4)

relu512:
	VPXORD  Z31, Z0, Z2               // n = -v
	VMINPS  Z31, Z2, Z3               // m1 = min(n, -0)
	VMINPS  Z2, Z3, Z4                // m2 = min(m1, n)
	VPORD   Z3, Z4, Z4
	VPXORD  Z31, Z4, Z4
	VMOVUPS Z4, K1, (R8)(BX*4)
	ADDQ    $16, BX
	JMP     loop512

done512:
	VZEROUPPER
	RET

// func chainAVX2(a, o, x, y *float32, n int)
// chainAVX512 on 8 values at a time; n must be a multiple of 8.
TEXT ·chainAVX2(SB), NOSPLIT, $0-40
	MOVQ         a+0(FP), DI
	MOVQ         o+8(FP), R8
	MOVQ         x+16(FP), SI
	MOVQ         y+24(FP), R9
	MOVQ         n+32(FP), DX
	MOVL         $0x80000000, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	XORQ         BX, BX

loop2:
	CMPQ    BX, DX
	JGE     done2
	VMOVUPS (SI)(BX*4), Y0
	TESTQ   DI, DI
	JZ      relu2
	VADDPS  (R9)(BX*4), Y0, Y0
	VMOVUPS Y0, (DI)(BX*4)

relu2:
	VPXOR   Y15, Y0, Y2
	VMINPS  Y15, Y2, Y3
	VMINPS  Y2, Y3, Y4
	VPOR    Y3, Y4, Y4
	VPXOR   Y15, Y4, Y4
	VMOVUPS Y4, (R8)(BX*4)
	ADDQ    $8, BX
	JMP     loop2

done2:
	VZEROUPPER
	RET
