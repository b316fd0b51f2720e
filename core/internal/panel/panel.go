// Package panel holds the bookkeeping the float32 (core/gemm) and int8
// (core/qgemm) matrix kernels share: cache-line aligned buffers and the even
// split of a matrix's rows into micro-panels.
package panel

import "unsafe"

// Aligned returns a zeroed slice of n elements whose first element is
// 64-byte aligned (one cache line; an AVX-512 register).
func Aligned[T any](n int) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	s := make([]T, n+64/size)
	off := int((64 - uintptr(unsafe.Pointer(&s[0]))%64) % 64 / uintptr(size))
	return s[off : off+n : off+n]
}

// Count returns the number of micro-panels of at most mr rows for m rows.
func Count(m, mr int) int { return (m + mr - 1) / mr }

// Rows returns the first row and the row count of panel i when m rows are
// split as evenly as possible into np panels (sizes differ by at most one),
// so that no kernel call runs on padding rows.
func Rows(m, np, i int) (row0, rows int) {
	base, extra := m/np, m%np
	row0 = i*base + min(i, extra)
	rows = base
	if i < extra {
		rows++
	}
	return row0, rows
}
