package gemm

import "unsafe"

// kernGo is the portable micro-kernel. It has exactly the contract of the
// assembly kernels (see gen_kernels.go) and the same accumulation order:
// every C element is a single accumulator summed over p = 0..k-1 in
// ascending order, then C_old, row bias and column bias are added in that
// order, then ReLU. The only numerical difference to the assembly is that
// Go rounds the product and the sum separately where the assembly uses FMA.
func kernGo(rows, panels, k int, a *float32, as int, b *float32, pnl int, c *float32, ldc int, flags int, rb, cb *float32) {
	as4, pnl4, ldc4 := as/4, pnl/4, ldc/4
	var asl, bsl []float32
	if k > 0 {
		asl = unsafe.Slice(a, (k-1)*as4+rows)
		bsl = unsafe.Slice(b, (panels-1)*pnl4+k*NR)
	}
	csl := unsafe.Slice(c, (rows-1)*ldc4+panels*NR)
	var rbs, cbs []float32
	if rb != nil {
		rbs = unsafe.Slice(rb, rows)
	}
	if cb != nil {
		cbs = unsafe.Slice(cb, panels*NR)
	}
	for q := 0; q < panels; q++ {
		for r0 := 0; r0 < rows; r0 += 4 {
			nr := min(4, rows-r0)
			for j0 := 0; j0 < NR; j0 += 4 {
				var acc [4][4]float32
				boff := q*pnl4 + j0
				if nr == 4 {
					acc = dot4x4(k, asl, as4, r0, bsl, boff)
				} else {
					for i := 0; i < nr; i++ {
						acc[i] = dot1x4(k, asl, as4, r0+i, bsl, boff)
					}
				}
				col := q*NR + j0
				for i := 0; i < nr; i++ {
					row := r0 + i
					cv := csl[row*ldc4+col:][:4]
					for jj := 0; jj < 4; jj++ {
						v := acc[i][jj]
						if flags&flagAccumulate != 0 {
							v += cv[jj]
						}
						if rbs != nil {
							v += rbs[row]
						}
						if cbs != nil {
							v += cbs[col+jj]
						}
						if flags&flagReLU != 0 && v < 0 {
							v = 0
						}
						cv[jj] = v
					}
				}
			}
		}
	}
}

func dot4x4(k int, a []float32, as, r0 int, b []float32, boff int) (acc [4][4]float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < k; p++ {
		av := a[p*as+r0:][:4]
		bv := b[boff+p*NR:][:4]
		a0, a1, a2, a3 := av[0], av[1], av[2], av[3]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	acc[0] = [4]float32{c00, c01, c02, c03}
	acc[1] = [4]float32{c10, c11, c12, c13}
	acc[2] = [4]float32{c20, c21, c22, c23}
	acc[3] = [4]float32{c30, c31, c32, c33}
	return acc
}

func dot1x4(k int, a []float32, as, r int, b []float32, boff int) [4]float32 {
	var c0, c1, c2, c3 float32
	for p := 0; p < k; p++ {
		a0 := a[p*as+r]
		bv := b[boff+p*NR:][:4]
		c0 += a0 * bv[0]
		c1 += a0 * bv[1]
		c2 += a0 * bv[2]
		c3 += a0 * bv[3]
	}
	return [4]float32{c0, c1, c2, c3}
}
