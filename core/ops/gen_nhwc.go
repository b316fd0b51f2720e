//go:build ignore

// gen_nhwc.go generates nhwc_amd64.s, the channels-last depthwise
// kernels (see dwLastArgs in nhwc.go). Run with `go generate` in
// core/ops.
//
// Each kernel computes n output positions of one output row, all c
// channels, a block of channels at a time (16 AVX-512, 8 AVX2): the
// block's k×k tap weights are loaded once per block (into registers where
// they fit, else read per tap), and several positions are computed side
// by side, each a chain of one FMA per tap in tap order, reading its
// inputs straight from the k tap rows. Then the bias is added and the
// value clamped to [lo, hi], the bound as the register operand so that a
// NaN is kept. One position at a time, the kernels leave out the tap
// columns whose bit is set in skip (those in the padding). The block of
// the last channels goes under a mask.
//
// Registers: R8, R9, R10, R13, R14 the tap rows at the block's first
// position, R11 the bytes of one position's channels (tap column kx is
// kx·R11 on: R11*1, R11*2, R12 = 3·R11, R11*4), R15 the bytes between
// positions' windows, DI the output, DX the block's byte offset in a
// position, CX the positions left, BX the skip bits, SI the weights.
package main

import (
	"bytes"
	"fmt"
	"os"
)

type isa struct {
	name  string
	reg   string // Z or Y
	lanes int
	nregs int
}

var (
	avx512 = isa{"AVX512", "Z", 16, 32}
	avx2   = isa{"AVX2", "Y", 8, 16}
)

var rowRegs = []string{"R8", "R9", "R10", "R13", "R14"}

type gen struct {
	b    bytes.Buffer
	name string
}

func (g *gen) p(format string, args ...any) { fmt.Fprintf(&g.b, "\t"+format+"\n", args...) }
func (g *gen) label(l string)               { fmt.Fprintf(&g.b, "%s_%s:\n", g.name, l) }

// tapMem is the input of tap column kx in the row at base.
func tapMem(base string, kx int) string {
	switch kx {
	case 0:
		return fmt.Sprintf("(%s)", base)
	case 1:
		return fmt.Sprintf("(%s)(R11*1)", base)
	case 2:
		return fmt.Sprintf("(%s)(R11*2)", base)
	case 3:
		return fmt.Sprintf("(%s)(R12*1)", base)
	default:
		return fmt.Sprintf("(%s)(R11*4)", base)
	}
}

// kernel writes the kernel of k×k taps for one instruction set.
func kernel(out *bytes.Buffer, is isa, k int) {
	g := &gen{name: fmt.Sprintf("dwLast%dx%d%s", k, k, is.name)}
	taps := k * k
	R := func(i int) string { return fmt.Sprintf("%s%d", is.reg, i) }
	// Register plan.
	inRegs := taps+3 <= is.nregs-4 // weights, bias, lo, hi in registers, ≥ 4 positions
	var wreg func(t int) string
	var acc0, nacc int
	var bias, lo, hi, tmp string
	if inRegs {
		wreg = func(t int) string { return R(t) }
		bias, lo, hi = R(taps), R(taps+1), R(taps+2)
		acc0 = taps + 3
		nacc = min(8, is.nregs-acc0)
	} else { // weights read per tap (SI), a tap's input into tmp first
		bias, lo, hi, tmp = R(0), R(1), R(2), R(3)
		acc0, nacc = 4, min(8, is.nregs-4)
	}
	blockBytes := 4 * is.lanes
	fmt.Fprintf(&g.b, "\n// func %s(rows *[5]*float32, col0 int, w, bias, out *float32, n, c, step, skip int, lo, hi float32, mask *int32)\n", g.name)
	fmt.Fprintf(&g.b, "TEXT ·%s(SB), NOSPLIT, $0-88\n", g.name)
	g.p("MOVQ c+48(FP), R11")
	g.p("SHLQ $2, R11")
	g.p("LEAQ (R11)(R11*2), R12")
	g.p("MOVQ step+56(FP), R15")
	g.p("SHLQ $2, R15")
	g.p("MOVQ skip+64(FP), BX")
	g.p("XORQ DX, DX")
	g.label("block")
	// The block's lanes: AX the bytes left; AVX-512 K1 all 16 lanes or the
	// last c%16 (AVX2 branches to its tail instead).
	g.p("MOVQ R11, AX")
	g.p("SUBQ DX, AX")
	if is.name == "AVX512" {
		g.p("SHRQ $2, AX")
		g.p("MOVL $0xffff, CX")
		g.p("CMPQ AX, $16")
		g.p("JAE %s_full", g.name)
		g.p("MOVQ AX, CX")
		g.p("MOVL $1, AX")
		g.p("SHLL CX, AX")
		g.p("DECL AX")
		g.p("MOVL AX, CX")
		g.label("full")
		g.p("KMOVW CX, K1")
	}
	var kmask, zmask string // AVX-512: the mask operands
	if is.name == "AVX512" {
		kmask, zmask = "K1, ", ".Z"
	}
	if is.name == "AVX2" {
		g.p("CMPQ AX, $%d", blockBytes)
		g.p("JB %s_tail", g.name)
	}
	// Weights, bias and bounds of the block.
	loadConsts := func(tail bool) {
		if is.name == "AVX2" && tail {
			// Y15 the mask of the last AX bytes' lanes.
			g.p("MOVQ mask+80(FP), SI")
			g.p("SUBQ AX, SI")
			g.p("VMOVDQU 32(SI), Y15")
		}
		load := func(src, dst string) {
			switch {
			case is.name == "AVX2" && tail:
				g.p("VMASKMOVPS %s, Y15, %s", src, dst)
			default:
				g.p("VMOVUPS%s %s, %s%s", zmask, src, kmask, dst)
			}
		}
		if inRegs {
			g.p("MOVQ w+16(FP), SI")
			g.p("ADDQ DX, SI")
			for t := 0; t < taps; t++ {
				load("(SI)", wreg(t))
				if t < taps-1 {
					g.p("ADDQ R11, SI")
				}
			}
		}
		g.p("MOVQ bias+24(FP), SI")
		load("(SI)(DX*1)", bias)
		g.p("VBROADCASTSS lo+72(FP), %s", lo)
		g.p("VBROADCASTSS hi+76(FP), %s", hi)
		g.p("MOVQ col0+8(FP), AX")
		g.p("SHLQ $2, AX")
		g.p("ADDQ DX, AX")
		g.p("MOVQ rows+0(FP), SI")
		for ky := 0; ky < k; ky++ {
			g.p("MOVQ %d(SI), %s", 8*ky, rowRegs[ky])
			g.p("ADDQ AX, %s", rowRegs[ky])
		}
		g.p("MOVQ out+32(FP), DI")
		g.p("ADDQ DX, DI")
		g.p("MOVQ n+40(FP), CX")
	}
	// position computes one output position into acc.
	position := func(acc string, skip, tail bool, tag string) {
		g.p("VXORPS %s, %s, %s", acc, acc, acc)
		if !inRegs {
			g.p("MOVQ w+16(FP), SI")
			g.p("ADDQ DX, SI")
		}
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				t := ky*k + kx
				lab := ""
				if skip {
					lab = fmt.Sprintf("%s%d_%d", tag, ky, kx)
					g.p("TESTQ $%d, BX", 1<<kx)
					g.p("JNZ %s_%s", g.name, lab)
				}
				in := tapMem(rowRegs[ky], kx)
				switch {
				case is.name == "AVX2" && tail:
					// Y14 the tap's input, Y13 its weight (weights in
					// registers: the register).
					g.p("VMASKMOVPS %s, Y15, Y14", in)
					if inRegs {
						g.p("VFMADD231PS Y14, %s, %s", wreg(t), acc)
					} else {
						g.p("VMASKMOVPS (SI), Y15, Y13")
						g.p("VFMADD231PS Y14, Y13, %s", acc)
					}
				case inRegs:
					g.p("VFMADD231PS %s, %s, %s%s", in, wreg(t), kmask, acc)
				default:
					g.p("VMOVUPS%s %s, %s%s", zmask, in, kmask, tmp)
					g.p("VFMADD231PS (SI), %s, %s%s", tmp, kmask, acc)
				}
				if lab != "" {
					g.label(lab)
				}
				if !inRegs && t < taps-1 { // after the label: whether or not the tap ran
					g.p("ADDQ R11, SI")
				}
			}
		}
		g.p("VADDPS %s, %s, %s", bias, acc, acc)
		g.p("VMAXPS %s, %s, %s", acc, lo, acc)
		g.p("VMINPS %s, %s, %s", acc, hi, acc)
		switch {
		case is.name == "AVX2" && tail:
			g.p("VMASKMOVPS %s, Y15, (DI)", acc)
		default:
			g.p("VMOVUPS %s, %s(DI)", acc, kmask)
		}
		g.p("ADDQ R11, DI")
		for ky := 0; ky < k; ky++ {
			g.p("ADDQ R15, %s", rowRegs[ky])
		}
	}
	loadConsts(false)
	g.p("CMPQ CX, $%d", nacc)
	g.p("JB %s_one", g.name)
	g.label("many")
	for j := 0; j < nacc; j++ {
		position(R(acc0+j), false, false, "")
	}
	g.p("SUBQ $%d, CX", nacc)
	g.p("CMPQ CX, $%d", nacc)
	g.p("JAE %s_many", g.name)
	g.label("one")
	g.p("TESTQ CX, CX")
	g.p("JZ %s_next", g.name)
	position(R(acc0), true, false, "s")
	g.p("DECQ CX")
	g.p("JMP %s_one", g.name)
	g.label("next")
	g.p("ADDQ $%d, DX", blockBytes)
	g.p("CMPQ DX, R11")
	g.p("JB %s_block", g.name)
	g.p("VZEROUPPER")
	g.p("RET")
	if is.name == "AVX2" {
		g.label("tail")
		loadConsts(true)
		g.label("tailone")
		position(R(acc0), true, true, "t")
		g.p("DECQ CX")
		g.p("JNZ %s_tailone", g.name)
		g.p("VZEROUPPER")
		g.p("RET")
	}
	out.Write(g.b.Bytes())
}

func main() {
	var out bytes.Buffer
	fmt.Fprintf(&out, "// Code generated by gen_nhwc.go; DO NOT EDIT.\n\n//go:build amd64 && !purego\n\n#include \"textflag.h\"\n")
	for _, is := range []isa{avx512, avx2} {
		for _, k := range []int{3, 5} {
			kernel(&out, is, k)
		}
	}
	if err := os.WriteFile("nhwc_amd64.s", out.Bytes(), 0o644); err != nil {
		panic(err)
	}
}
