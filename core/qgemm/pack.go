package qgemm

import "fmt"

// zeroRow backs the missing rows of a partial last group in packBBlock.
var zeroRow [zeroLen]int8

const zeroLen = 512 // a multiple of 2·NR

// PackB packs the k×n row-major operand b (leading dimension ldb) into a new
// buffer in the packed-B layout (see PackBInto).
func PackB(k, n int, b []int8, ldb int) []int8 {
	dst := MakePackedBBuffer(k, n)
	PackBInto(dst, k, n, b, ldb)
	return dst
}

// PackBInto writes the k×n row-major operand b (leading dimension ldb) into
// dst in the packed-B layout; len(dst) ≥ PackedBSize(k, n). Every byte of
// the layout is written (pad rows and columns with zeros).
func PackBInto(dst []int8, k, n int, b []int8, ldb int) {
	checkMat("B", k, n, b, ldb)
	if len(dst) < PackedBSize(k, n) {
		panic(fmt.Sprintf("qgemm: packed B buffer has %d bytes, need %d", len(dst), PackedBSize(k, n)))
	}
	packBBlock(dst, k, b, ldb, 0, n)
}

// packBBlock packs columns [j0, j0+nb) of the k-row matrix b (row-major,
// leading dimension ldb) into dst as a k×nb packed-B operand, pad rows and
// columns included.
func packBBlock(dst []int8, k int, b []int8, ldb, j0, nb int) {
	if k == 0 || nb == 0 {
		return
	}
	pnl := NR * PaddedK(k)
	var rows [KGroup][]int8
	for g := 0; g*KGroup < k; g++ {
		p0 := g * KGroup
		if p0+KGroup <= k {
			for t := range rows {
				rows[t] = b[(p0+t)*ldb+j0:][:nb]
			}
			packBGroup(dst[g*KGroup*NR:], pnl, &rows, nb)
			continue
		}
		// Last group: the real rows, then zeros, zeroLen columns at a time.
		for c0 := 0; c0 < nb; c0 += zeroLen {
			w := min(zeroLen, nb-c0)
			for t := range rows {
				if p0+t < k {
					rows[t] = b[(p0+t)*ldb+j0+c0:][:w]
				} else {
					rows[t] = zeroRow[:w]
				}
			}
			packBGroup(dst[c0/NR*pnl+g*KGroup*NR:], pnl, &rows, w)
		}
	}
}

// packBGroupGo writes one group of 4 rows (rows[t] holds nb columns) into
// the packed-B panels, 64 bytes per panel at dst[q·pnl:], zero-padding the
// last panel.
func packBGroupGo(dst []int8, pnl int, rows *[KGroup][]int8, nb int) {
	r0, r1, r2, r3 := rows[0][:nb], rows[1][:nb], rows[2][:nb], rows[3][:nb]
	for q := 0; q*NR < nb; q++ {
		d := dst[q*pnl:][:KGroup*NR]
		for jj := 0; jj < NR; jj++ {
			j := q*NR + jj
			if j >= nb {
				clear(d[jj*KGroup:])
				break
			}
			dd := d[jj*KGroup:][:KGroup]
			dd[0], dd[1], dd[2], dd[3] = r0[j], r1[j], r2[j], r3[j]
		}
	}
}

// PackBRows writes rows [p0, p0+rows) of a k×n matrix B, given row-major in
// src (leading dimension lds), into dst, a buffer in the packed-B layout of
// PackedBSize(k, n) bytes, zero-filling those rows' bytes in the pad columns
// of the last panel. Like PackBRow it writes only the bytes of its rows, so
// disjoint row ranges may be written concurrently; each complete aligned
// group of 4 rows in the range is interleaved at once (AVX2: ≈ 20 GB/s),
// which makes it the fastest way for a producer (im2col) to fill the
// layout: unfold 4 or 8 rows into a small buffer, then call PackBRows.
func PackBRows(dst []int8, k, n, p0, rows int, src []int8, lds int) {
	checkMat("src", rows, n, src, lds)
	if p0 < 0 || rows < 0 || p0+rows > k || len(dst) < PackedBSize(k, n) {
		panic(fmt.Sprintf("qgemm: PackBRows rows [%d, %d) of %d into %d bytes, need %d", p0, p0+rows, k, len(dst), PackedBSize(k, n)))
	}
	pnl := NR * PaddedK(k)
	p := p0
	for ; p < p0+rows; p++ {
		if p%KGroup == 0 && p+KGroup <= p0+rows {
			var rs [KGroup][]int8
			for t := range rs {
				rs[t] = src[(p+t-p0)*lds:][:n]
			}
			packBGroup(dst[p/KGroup*KGroup*NR:], pnl, &rs, n)
			p += KGroup - 1
			continue
		}
		packBRow(dst, pnl, p, src[(p-p0)*lds:][:n])
	}
}

// PackBRow writes row p of a k×len(row) matrix B into dst, a buffer in the
// packed-B layout of PackedBSize(k, len(row)) bytes, zero-filling the row's
// bytes in the pad columns of the last panel. It writes only the bytes of
// row p (with AVX-512BW, 16 columns per masked byte store), so different
// rows may be written concurrently; producers that generate B a row at a
// time (im2col) use it to skip a separate packing pass. The pad rows
// k..PaddedK(k)-1 are only ever multiplied by the zeros of the packed A, so
// they need not be written.
func PackBRow(dst []int8, k, p int, row []int8) {
	n := len(row)
	if p < 0 || p >= k || len(dst) < PackedBSize(k, n) {
		panic(fmt.Sprintf("qgemm: PackBRow row %d of %d into %d bytes, need %d", p, k, len(dst), PackedBSize(k, n)))
	}
	packBRow(dst, NR*PaddedK(k), p, row)
}

// packBRowGo writes row p (len(row) columns) of panels [q0, ...) into dst
// (panels pnl bytes apart).
func packBRowGo(dst []int8, pnl, p int, row []int8, q0 int) {
	n := len(row)
	off := p/KGroup*KGroup*NR + p%KGroup
	for q := q0; q*NR < n; q++ {
		d := dst[q*pnl+off:][:NR*KGroup-KGroup+1]
		src := row[q*NR:]
		if len(src) >= NR {
			src := src[:NR]
			d[0], d[4], d[8], d[12] = src[0], src[1], src[2], src[3]
			d[16], d[20], d[24], d[28] = src[4], src[5], src[6], src[7]
			d[32], d[36], d[40], d[44] = src[8], src[9], src[10], src[11]
			d[48], d[52], d[56], d[60] = src[12], src[13], src[14], src[15]
			continue
		}
		for jj := 0; jj < NR; jj++ {
			var v int8
			if jj < len(src) {
				v = src[jj]
			}
			d[jj*KGroup] = v
		}
	}
}
