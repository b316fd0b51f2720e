package qgemm

import "unsafe"

// kernGo is the portable micro-kernel, with exactly the contract of the
// assembly kernels (see gen_kernels.go) except that it reads B as int8
// directly (no +128 offset, so the caller passes rb = nil): a
// rows×(NR·panels) tile of C = Σ_p A(r,p)·B(p,j) in int32 (+ C_old with
// flagAccumulate, + rb[r] when rb is not nil). Integer arithmetic is exact
// (and wraps identically), so the summation order is irrelevant and the
// result is bit-identical to the assembly.
//
// B is a slice (bounds-checked, unlike A and C, which the package lays
// out itself): with offs nil, group g of panel q is at b[q·pnl+64g:]; else
// (MulTaps, B read in place from the caller's image) at b[offs[g]+64q:].
//
// Two rows are computed at a time so that each B value loaded serves two
// multiply-adds.
func kernGo(rows, panels, kg int, a *int8, as int, b []int8, offs []int32, pnl int, c *int32, ldc int, flags int, rb *int32) {
	ldc4 := ldc / 4
	csl := unsafe.Slice(c, (rows-1)*ldc4+panels*NR)
	var rbs []int32
	if rb != nil {
		rbs = unsafe.Slice(rb, rows)
	}
	asl := unsafe.Slice(a, (kg-1)*as+KGroup*rows)
	for q := 0; q < panels; q++ {
		var bq []int8
		if offs == nil {
			bq = b[q*pnl:][:kg*KGroup*NR]
		} else {
			bq = b[q*KGroup*NR:]
		}
		for r := 0; r < rows; r += 2 {
			var acc [2][NR]int32
			if r+1 < rows {
				acc = dot2(kg, asl[KGroup*r:], as, bq, offs)
			} else {
				acc[0] = dot1(kg, asl[KGroup*r:], as, bq, offs)
			}
			for i := 0; i < min(2, rows-r); i++ {
				row := r + i
				cv := csl[row*ldc4+q*NR:][:NR]
				for jj, v := range acc[i] {
					if flags&flagAccumulate != 0 {
						v += cv[jj]
					}
					if rbs != nil {
						v += rbs[row]
					}
					cv[jj] = v
				}
			}
		}
	}
}

// group returns group g of one panel's B: b[64g:], or b[offs[g]:] when B
// is read in place.
func group(b []int8, offs []int32, g int) *[KGroup * NR]int8 {
	if offs != nil {
		return (*[KGroup * NR]int8)(b[offs[g]:])
	}
	return (*[KGroup * NR]int8)(b[g*KGroup*NR:])
}

// dot2 returns Σ_p A(r,p)·B(p,j) for rows r = 0, 1 (A group g at a[g·as:],
// 4 bytes per row) and the NR columns of one panel (group g from group).
func dot2(kg int, a []int8, as int, b []int8, offs []int32) (acc [2][NR]int32) {
	for g := 0; g < kg; g++ {
		av := (*[2 * KGroup]int8)(a[g*as:])
		a0, a1, a2, a3 := int32(av[0]), int32(av[1]), int32(av[2]), int32(av[3])
		a4, a5, a6, a7 := int32(av[4]), int32(av[5]), int32(av[6]), int32(av[7])
		bv := group(b, offs, g)
		for jj := 0; jj < NR; jj++ {
			b0, b1, b2, b3 := int32(bv[4*jj]), int32(bv[4*jj+1]), int32(bv[4*jj+2]), int32(bv[4*jj+3])
			acc[0][jj] += a0*b0 + a1*b1 + a2*b2 + a3*b3
			acc[1][jj] += a4*b0 + a5*b1 + a6*b2 + a7*b3
		}
	}
	return acc
}

func dot1(kg int, a []int8, as int, b []int8, offs []int32) (acc [NR]int32) {
	for g := 0; g < kg; g++ {
		av := (*[KGroup]int8)(a[g*as:])
		a0, a1, a2, a3 := int32(av[0]), int32(av[1]), int32(av[2]), int32(av[3])
		bv := group(b, offs, g)
		for jj := 0; jj < NR; jj++ {
			acc[jj] += a0*int32(bv[4*jj]) + a1*int32(bv[4*jj+1]) + a2*int32(bv[4*jj+2]) + a3*int32(bv[4*jj+3])
		}
	}
	return acc
}
