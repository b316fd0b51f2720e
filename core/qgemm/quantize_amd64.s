//go:build amd64 && !purego

#include "textflag.h"

// func quantizeAVX512(dst *int8, src *float32, n int, scale float32)
// Quantizes n (a multiple of 16) values: dst = clamp(rne(src/scale)),
// NaN → 0, exactly as quantize1 does, 16 values at a time.
TEXT ·quantizeAVX512(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS scale+24(FP), Z1
	MOVL         $0x42fe0000, AX // 127.0
	VPBROADCASTD AX, Z3
	MOVL         $0xc3000000, AX // -128.0
	VPBROADCASTD AX, Z4
	SHRQ         $4, CX
	JZ           done

loop:
	VMOVUPS     (SI), Z0
	VDIVPS      Z1, Z0, Z0        // x / scale, correctly rounded
	VCMPPS      $0, Z0, Z0, K1    // lanes that are not NaN
	VMINPS      Z3, Z0, Z0        // clamp to [-128, 127] before converting:
	VMAXPS      Z4, Z0, Z0        // out-of-range converts to INT_MIN otherwise
	VCVTPS2DQ.Z Z0, K1, Z2        // round half to even; NaN lanes → 0
	VPMOVSDB    Z2, (DI)
	ADDQ        $64, SI
	ADDQ        $16, DI
	DECQ        CX
	JNZ         loop

done:
	VZEROUPPER
	RET
