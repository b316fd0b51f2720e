//go:build amd64 && !purego

#include "go_asm.h"
#include "textflag.h"

// The fill kernels do fillGo's work on whole vectors of values: for each
// value v with bits b and magnitude bits a = b &^ sign, while a <= rb,
// the min/max of key(b), the count of a == 0, and one increment of
// counts[side·signbit(b) + int(float64(|v|)·scale)]. The products and the
// truncation are the scalar ones (an exact float32 → float64 conversion,
// one IEEE multiplication, truncation toward zero), so every index is
// fillGo's. They stop before the first vector holding a value with a > rb
// (NaN, ±Inf, beyond the range) and return how many values they added;
// fillGo goes on from there.
//
// Each block of fillBlock values is done in two phases: the vector phase
// computes the indices and packs those of the values that are not +0
// into the frame (see fillBlock), the increment phase adds one to each
// packed slot. +0 (most of a ReLU output) goes to slot 0 through one
// count at the end instead: a run of increments of one slot waits on
// store-to-load forwarding for each. The indices are clamped to len(counts)-1, which they never
// exceed (the package doc's bound), so that no input can write outside
// counts.

// func fillAVX512(counts []uint64, x []float32, scale float64, scale32 float32, rb uint32, side int, mn, mx int32) (done int, mno, mxo int32, zeros uint64)
// When scale32 is not 0 it is scale, a power of two: |v|·scale is then
// exact in float32 as in float64 (or below 2^-126, where both truncate to
// 0), and one VMULPS and one VCVTTPS2DQ index 16 values. The packed
// indices live in the frame (not NOSPLIT: it is larger than a nosplit
// frame may be).
TEXT ·fillAVX512(SB), $1088-104
	MOVQ         counts_base+0(FP), R9
	MOVQ         counts_len+8(FP), AX
	DECQ         AX
	VPBROADCASTD AX, Z27              // clamp: len(counts)-1
	MOVQ         x_base+24(FP), SI
	MOVQ         x_len+32(FP), DX
	ANDQ         $-16, DX             // whole vectors only
	VBROADCASTSD scale+48(FP), Z29
	MOVL         scale32+56(FP), AX
	VPBROADCASTD AX, Z21
	MOVL         rb+60(FP), AX
	VPBROADCASTD AX, Z30
	MOVQ         side+64(FP), AX
	VPBROADCASTD AX, Z28
	MOVL         $0x7fffffff, AX
	VPBROADCASTD AX, Z31
	MOVL         $1, AX
	VPBROADCASTD AX, Z23              // ones
	VPXORD       Z22, Z22, Z22        // zeros (±0), per lane
	MOVL         mn+72(FP), AX
	VPBROADCASTD AX, Z26
	MOVL         mx+76(FP), AX
	VPBROADCASTD AX, Z25
	LEAQ         0(SP), DI            // the packed indices
	XORQ         BX, BX               // values done
	XORQ         R11, R11             // indices packed, over all blocks

block:
	CMPQ    BX, DX
	JGE     done
	MOVQ    BX, R12
	ADDQ    $const_fillBlock, R12
	CMPQ    R12, DX
	CMOVQGT DX, R12                   // block end
	XORQ    R8, R8                    // indices packed into the frame

vec:
	CMPQ       BX, R12
	JGE        incr
	VMOVDQU32  (SI)(BX*4), Z0         // b
	VPANDD     Z31, Z0, Z1            // a
	VPCMPUD    $6, Z30, Z1, K1        // a > rb
	KORTESTW   K1, K1
	JNE        stop
	VPSRAD     $31, Z0, Z3            // -1 for negative lanes
	VPANDD     Z31, Z3, Z2
	VPXORD     Z0, Z2, Z2             // key(b)
	VPMINSD    Z2, Z26, Z26
	VPMAXSD    Z2, Z25, Z25
	VPTESTNMD  Z1, Z1, K2             // a == 0
	VPADDD     Z23, Z22, K2, Z22
	VPTESTMD   Z0, Z0, K4             // b != 0: the lanes to count (+0 is not)
	CMPL       scale32+56(FP), $0
	JEQ        wide
	VMULPS     Z21, Z1, Z5
	VCVTTPS2DQ Z5, Z5
	JMP        index

wide:
	VCVTPS2PD  Y1, Z5
	VEXTRACTF64X4 $1, Z1, Y6
	VCVTPS2PD  Y6, Z6
	VMULPD     Z29, Z5, Z5
	VMULPD     Z29, Z6, Z6
	VCVTTPD2DQ Z5, Y5
	VCVTTPD2DQ Z6, Y6
	VINSERTI64X4 $1, Y6, Z5, Z5

index:
	VPANDD     Z28, Z3, Z3
	VPADDD     Z3, Z5, Z5
	VPMINUD    Z27, Z5, Z5
	VPCOMPRESSD Z5, K4, Z7
	VMOVDQU32  Z7, (DI)(R8*4)
	KMOVW      K4, AX
	POPCNTL    AX, AX
	ADDQ       AX, R8
	ADDQ       $16, BX
	JMP        vec

stop:
	MOVQ BX, DX                       // end after this block's increments

incr:
	ADDQ R8, R11
	XORQ CX, CX

inc4:
	LEAQ 4(CX), AX
	CMPQ AX, R8
	JGT  inc1
	MOVL (DI)(CX*4), AX
	MOVL 4(DI)(CX*4), R10
	MOVL 8(DI)(CX*4), R13
	MOVL 12(DI)(CX*4), R14
	ADDQ $1, (R9)(AX*8)
	ADDQ $1, (R9)(R10*8)
	ADDQ $1, (R9)(R13*8)
	ADDQ $1, (R9)(R14*8)
	ADDQ $4, CX
	JMP  inc4

inc1:
	CMPQ CX, R8
	JGE  block
	MOVL (DI)(CX*4), AX
	ADDQ $1, (R9)(AX*8)
	INCQ CX
	JMP  inc1

done:
	MOVQ BX, AX
	SUBQ R11, AX
	ADDQ AX, (R9)                     // the +0s: slot 0
	VEXTRACTI64X4 $1, Z22, Y0
	VPADDD        Y0, Y22, Y22
	VEXTRACTI32X4 $1, Y22, X0
	VPADDD        X0, X22, X22
	VPSHUFD       $0x4e, X22, X0
	VPADDD        X0, X22, X22
	VPSHUFD       $0xb1, X22, X0
	VPADDD        X0, X22, X22
	VMOVD         X22, AX
	MOVQ          AX, zeros+96(FP)
	VEXTRACTI64X4 $1, Z26, Y0
	VPMINSD       Y0, Y26, Y26
	VEXTRACTI32X4 $1, Y26, X0
	VPMINSD       X0, X26, X26
	VPSHUFD       $0x4e, X26, X0
	VPMINSD       X0, X26, X26
	VPSHUFD       $0xb1, X26, X0
	VPMINSD       X0, X26, X26
	VMOVD         X26, AX
	MOVL          AX, mno+88(FP)
	VEXTRACTI64X4 $1, Z25, Y0
	VPMAXSD       Y0, Y25, Y25
	VEXTRACTI32X4 $1, Y25, X0
	VPMAXSD       X0, X25, X25
	VPSHUFD       $0x4e, X25, X0
	VPMAXSD       X0, X25, X25
	VPSHUFD       $0xb1, X25, X0
	VPMAXSD       X0, X25, X25
	VMOVD         X25, AX
	MOVL          AX, mxo+92(FP)
	MOVQ          BX, done+80(FP)
	VZEROUPPER
	RET

// func fillAVX2(counts []uint64, x []float32, scale float64, scale32 float32, rb uint32, side int, mn, mx int32, lut *[256][8]uint32) (done int, mno, mxo int32, zeros uint64)
// fillAVX512's steps on 8 values at a time, the indices packed through
// lut (row m: the lanes set in m, in order, for VPERMD). VEX encodings
// only (see core/qgemm's quantizeAVX2).
TEXT ·fillAVX2(SB), $1104-112
	MOVQ         counts_base+0(FP), R9
	MOVQ         counts_len+8(FP), AX
	DECQ         AX
	VMOVQ        AX, X11
	VPBROADCASTD X11, Y11             // clamp: len(counts)-1
	MOVQ         x_base+24(FP), SI
	MOVQ         x_len+32(FP), DX
	ANDQ         $-8, DX              // whole vectors only
	VBROADCASTSD scale+48(FP), Y13
	MOVL         scale32+56(FP), AX
	VMOVD        AX, X7
	VPBROADCASTD X7, Y7
	MOVL         rb+60(FP), AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14
	MOVQ         side+64(FP), AX
	VMOVD        AX, X12
	VPBROADCASTD X12, Y12
	MOVL         $0x7fffffff, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	MOVL         mn+72(FP), AX
	VMOVD        AX, X10
	VPBROADCASTD X10, Y10
	MOVL         mx+76(FP), AX
	VMOVD        AX, X9
	VPBROADCASTD X9, Y9
	VPXOR        Y8, Y8, Y8           // 0
	MOVQ         $0, zcnt-8(SP)       // zeros (±0)
	LEAQ         0(SP), DI            // the packed indices
	XORQ         BX, BX               // values done
	XORQ         R11, R11             // indices packed, over all blocks

block2:
	CMPQ    BX, DX
	JGE     done2
	MOVQ    BX, R13
	ADDQ    $const_fillBlock, R13
	CMPQ    R13, DX
	CMOVQGT DX, R13                   // block end
	XORQ    R8, R8
	MOVQ    lut+80(FP), R12           // (a temporary of the increments)

vec2:
	CMPQ         BX, R13
	JGE          incr2
	VMOVDQU      (SI)(BX*4), Y0        // b
	VPAND        Y15, Y0, Y1           // a
	VPCMPGTD     Y14, Y1, Y2           // a > rb (both non-negative as int32)
	VPTEST       Y2, Y2
	JNE          stop2
	VPSRAD       $31, Y0, Y3
	VPAND        Y15, Y3, Y2
	VPXOR        Y0, Y2, Y2            // key(b)
	VPMINSD      Y2, Y10, Y10
	VPMAXSD      Y2, Y9, Y9
	VPCMPEQD     Y8, Y1, Y4            // a == 0
	VMOVMSKPS    Y4, AX
	POPCNTL      AX, AX
	ADDQ         AX, zcnt-8(SP)
	VPCMPEQD     Y8, Y0, Y4            // b == 0 (+0)
	VMOVMSKPS    Y4, AX
	XORL         $0xff, AX             // lanes to count
	CMPL         scale32+56(FP), $0
	JEQ          wide2
	VMULPS       Y7, Y1, Y5
	VCVTTPS2DQ   Y5, Y5
	JMP          index2

wide2:
	VCVTPS2PD    X1, Y5
	VEXTRACTI128 $1, Y1, X6
	VCVTPS2PD    X6, Y6
	VMULPD       Y13, Y5, Y5
	VMULPD       Y13, Y6, Y6
	VCVTTPD2DQY  Y5, X5
	VCVTTPD2DQY  Y6, X6
	VINSERTI128  $1, X6, Y5, Y5

index2:
	VPAND        Y12, Y3, Y3
	VPADDD       Y3, Y5, Y5
	VPMINUD      Y11, Y5, Y5
	MOVQ         AX, CX
	SHLQ         $5, AX
	VMOVDQU      (R12)(AX*1), Y6
	VPERMD       Y5, Y6, Y5
	VMOVDQU      Y5, (DI)(R8*4)
	POPCNTL      CX, CX
	ADDQ         CX, R8
	ADDQ         $8, BX
	JMP          vec2

stop2:
	MOVQ BX, DX

incr2:
	ADDQ R8, R11
	XORQ CX, CX

inc42:
	LEAQ 4(CX), AX
	CMPQ AX, R8
	JGT  inc12
	MOVL (DI)(CX*4), AX
	MOVL 4(DI)(CX*4), R10
	MOVL 8(DI)(CX*4), R12
	MOVL 12(DI)(CX*4), R14
	ADDQ $1, (R9)(AX*8)
	ADDQ $1, (R9)(R10*8)
	ADDQ $1, (R9)(R12*8)
	ADDQ $1, (R9)(R14*8)
	ADDQ $4, CX
	JMP  inc42

inc12:
	CMPQ CX, R8
	JGE  block2
	MOVL (DI)(CX*4), AX
	ADDQ $1, (R9)(AX*8)
	INCQ CX
	JMP  inc12

done2:
	MOVQ         BX, AX
	SUBQ         R11, AX
	ADDQ         AX, (R9)             // the +0s: slot 0
	MOVQ         zcnt-8(SP), AX
	MOVQ         AX, zeros+104(FP)
	VEXTRACTI128 $1, Y10, X0
	VPMINSD      X0, X10, X10
	VPSHUFD      $0x4e, X10, X0
	VPMINSD      X0, X10, X10
	VPSHUFD      $0xb1, X10, X0
	VPMINSD      X0, X10, X10
	VMOVD        X10, AX
	MOVL         AX, mno+96(FP)
	VEXTRACTI128 $1, Y9, X0
	VPMAXSD      X0, X9, X9
	VPSHUFD      $0x4e, X9, X0
	VPMAXSD      X0, X9, X9
	VPSHUFD      $0xb1, X9, X0
	VPMAXSD      X0, X9, X9
	VMOVD        X9, AX
	MOVL         AX, mxo+100(FP)
	MOVQ         BX, done+88(FP)
	VZEROUPPER
	RET

// func boundsAVX512(x []float32, mn, mx int32) (done int, mno, mxo int32)
// The min and max of key(b) over the leading 32-value blocks of x, two
// vectors a step with one pair of accumulators each.
TEXT ·boundsAVX512(SB), NOSPLIT, $0-48
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), DX
	ANDQ         $-32, DX
	MOVL         $0x7fffffff, AX
	VPBROADCASTD AX, Z31
	MOVL         mn+24(FP), AX
	VPBROADCASTD AX, Z26
	VMOVDQA64    Z26, Z24
	MOVL         mx+28(FP), AX
	VPBROADCASTD AX, Z25
	VMOVDQA64    Z25, Z23
	XORQ         BX, BX

bloop:
	CMPQ      BX, DX
	JGE       bdone
	VMOVDQU32 (SI)(BX*4), Z0
	VMOVDQU32 64(SI)(BX*4), Z1
	VPSRAD    $31, Z0, Z2
	VPSRAD    $31, Z1, Z3
	VPANDD    Z31, Z2, Z2
	VPANDD    Z31, Z3, Z3
	VPXORD    Z0, Z2, Z2
	VPXORD    Z1, Z3, Z3
	VPMINSD   Z2, Z26, Z26
	VPMAXSD   Z2, Z25, Z25
	VPMINSD   Z3, Z24, Z24
	VPMAXSD   Z3, Z23, Z23
	ADDQ      $32, BX
	JMP       bloop

bdone:
	VPMINSD       Z24, Z26, Z26
	VPMAXSD       Z23, Z25, Z25
	VEXTRACTI64X4 $1, Z26, Y0
	VPMINSD       Y0, Y26, Y26
	VEXTRACTI32X4 $1, Y26, X0
	VPMINSD       X0, X26, X26
	VPSHUFD       $0x4e, X26, X0
	VPMINSD       X0, X26, X26
	VPSHUFD       $0xb1, X26, X0
	VPMINSD       X0, X26, X26
	VMOVD         X26, AX
	MOVL          AX, mno+40(FP)
	VEXTRACTI64X4 $1, Z25, Y0
	VPMAXSD       Y0, Y25, Y25
	VEXTRACTI32X4 $1, Y25, X0
	VPMAXSD       X0, X25, X25
	VPSHUFD       $0x4e, X25, X0
	VPMAXSD       X0, X25, X25
	VPSHUFD       $0xb1, X25, X0
	VPMAXSD       X0, X25, X25
	VMOVD         X25, AX
	MOVL          AX, mxo+44(FP)
	MOVQ          BX, done+32(FP)
	VZEROUPPER
	RET

// func boundsAVX2(x []float32, mn, mx int32) (done int, mno, mxo int32)
// boundsAVX512 on 16-value blocks.
TEXT ·boundsAVX2(SB), NOSPLIT, $0-48
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), DX
	ANDQ         $-16, DX
	MOVL         $0x7fffffff, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	MOVL         mn+24(FP), AX
	VMOVD        AX, X10
	VPBROADCASTD X10, Y10
	VMOVDQA      Y10, Y8
	MOVL         mx+28(FP), AX
	VMOVD        AX, X9
	VPBROADCASTD X9, Y9
	VMOVDQA      Y9, Y7
	XORQ         BX, BX

bloop2:
	CMPQ    BX, DX
	JGE     bdone2
	VMOVDQU (SI)(BX*4), Y0
	VMOVDQU 32(SI)(BX*4), Y1
	VPSRAD  $31, Y0, Y2
	VPSRAD  $31, Y1, Y3
	VPAND   Y15, Y2, Y2
	VPAND   Y15, Y3, Y3
	VPXOR   Y0, Y2, Y2
	VPXOR   Y1, Y3, Y3
	VPMINSD Y2, Y10, Y10
	VPMAXSD Y2, Y9, Y9
	VPMINSD Y3, Y8, Y8
	VPMAXSD Y3, Y7, Y7
	ADDQ    $16, BX
	JMP     bloop2

bdone2:
	VPMINSD      Y8, Y10, Y10
	VPMAXSD      Y7, Y9, Y9
	VEXTRACTI128 $1, Y10, X0
	VPMINSD      X0, X10, X10
	VPSHUFD      $0x4e, X10, X0
	VPMINSD      X0, X10, X10
	VPSHUFD      $0xb1, X10, X0
	VPMINSD      X0, X10, X10
	VMOVD        X10, AX
	MOVL         AX, mno+40(FP)
	VEXTRACTI128 $1, Y9, X0
	VPMAXSD      X0, X9, X9
	VPSHUFD      $0x4e, X9, X0
	VPMAXSD      X0, X9, X9
	VPSHUFD      $0xb1, X9, X0
	VPMAXSD      X0, X9, X9
	VMOVD        X9, AX
	MOVL         AX, mxo+44(FP)
	MOVQ         BX, done+32(FP)
	VZEROUPPER
	RET
