package gemm

import "unsafe"

// kernGo is the portable micro-kernel. It has exactly the contract of the
// assembly kernels (see gen_kernels.go) and the same accumulation order:
// every C element is a single accumulator summed over p = 0..k-1 in
// ascending order, then C_old (read at co), row bias and column bias are added in that
// order, then ReLU. The only numerical difference to the assembly is that
// Go rounds the product and the sum separately where the assembly uses FMA.
//
// The tile is computed in 2×4 register blocks (8 scalar accumulators plus 6
// operands fit the 16 SSE registers without spilling; 4×4 spills and is
// slower).
func kernGo(rows, panels, k int, a *float32, as int, b *float32, pnl int, c *float32, ldc int, flags int, rb, cb *float32, lo, hi float32, co *float32) {
	ldc4 := ldc / 4
	csl := unsafe.Slice(c, (rows-1)*ldc4+panels*NR)
	old := csl // C's old values: C's own, or co's (a residual in C's layout)
	if co != c && flags&flagAccumulate != 0 {
		old = unsafe.Slice(co, (rows-1)*ldc4+panels*NR)
	}
	var rbs, cbs []float32
	if rb != nil {
		rbs = unsafe.Slice(rb, rows)
	}
	if cb != nil {
		cbs = unsafe.Slice(cb, panels*NR)
	}
	ap := unsafe.Pointer(a)
	for q := 0; q < panels; q++ {
		bq := unsafe.Add(unsafe.Pointer(b), q*pnl)
		for r0 := 0; r0 < rows; r0 += 2 {
			nr := min(2, rows-r0)
			ar := unsafe.Add(ap, 4*r0)
			for j0 := 0; j0 < NR; j0 += 4 {
				var acc [2][4]float32
				bj := unsafe.Add(bq, 4*j0)
				if nr == 2 {
					acc = dot2x4(k, ar, as, bj)
				} else {
					acc[0] = dot1x4(k, ar, as, bj)
				}
				col := q*NR + j0
				for i := 0; i < nr; i++ {
					row := r0 + i
					cv, ov := csl[row*ldc4+col:][:4], old[row*ldc4+col:][:4]
					for jj := 0; jj < 4; jj++ {
						v := acc[i][jj]
						if flags&flagAccumulate != 0 {
							v += ov[jj]
						}
						if rbs != nil {
							v += rbs[row]
						}
						if cbs != nil {
							v += cbs[col+jj]
						}
						cv[jj] = clampTo(v, flags, lo, hi)
					}
				}
			}
		}
	}
}

// clampTo applies the kernels' clamp (flagMax, flagMin) to v: a NaN fails
// both comparisons and is kept, as the assembly's VMAXPS/VMINPS keep it.
func clampTo(v float32, flags int, lo, hi float32) float32 {
	if flags&flagMax != 0 && v < lo {
		v = lo
	}
	if flags&flagMin != 0 && v > hi {
		v = hi
	}
	return v
}

// dot2x4 returns Σ_p A(r,p)·B(p,j) for rows r = 0, 1 at a (+as bytes per p)
// and 4 columns at b (+64 bytes per p). Pointers are formed from the base at
// every step so that none points past the operands.
func dot2x4(k int, a unsafe.Pointer, as int, b unsafe.Pointer) (acc [2][4]float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	for p := 0; p < k; p++ {
		av := (*[2]float32)(unsafe.Add(a, p*as))
		bv := (*[4]float32)(unsafe.Add(b, p*NR*4))
		a0, a1 := av[0], av[1]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	acc[0] = [4]float32{c00, c01, c02, c03}
	acc[1] = [4]float32{c10, c11, c12, c13}
	return acc
}

func dot1x4(k int, a unsafe.Pointer, as int, b unsafe.Pointer) [4]float32 {
	var c0, c1, c2, c3 float32
	for p := 0; p < k; p++ {
		a0 := *(*float32)(unsafe.Add(a, p*as))
		bv := (*[4]float32)(unsafe.Add(b, p*NR*4))
		c0 += a0 * bv[0]
		c1 += a0 * bv[1]
		c2 += a0 * bv[2]
		c3 += a0 * bv[3]
	}
	return [4]float32{c0, c1, c2, c3}
}
