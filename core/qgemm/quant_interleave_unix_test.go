//go:build unix

package qgemm

import (
	"syscall"
	"testing"
	"unsafe"
)

// QuantizeInterleaved, QuantizeRows and their int8 twins Interleave and
// GatherRows never read past the last value they need: the
// source ends right before a page that cannot be read, and every row
// length and column step runs on every path without a fault.
func TestQuantizeInterleavedStopsAtLastValue(t *testing.T) {
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skip("no anonymous mmap:", err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[page:], syscall.PROT_NONE); err != nil {
		t.Skip("no mprotect:", err)
	}
	all := unsafe.Slice((*float32)(unsafe.Pointer(&mem[0])), page/4)
	for i := range all {
		all[i] = float32(i%200) - 100
	}
	for _, im := range Available() {
		withImpl(t, im, func() {
			for _, step := range []int{1, 2, 3} {
				for cols := 1; cols <= 70; cols++ {
					const rows, lds = 2, 100
					plane := rows * lds
					for _, ch := range []int{4, 3, 1} {
						need := (ch-1)*plane + (rows-1)*lds + (cols-1)*step + 1
						src := all[len(all)-need:]
						dst := make([]int8, rows*4*cols)
						QuantizeInterleaved(dst, 4*cols, src, plane, lds, step, ch, rows, cols, 1)
						if got, want := dst[len(dst)-4+ch-1], quantize1(src[need-1], -128); got != want {
							t.Fatalf("%v, step %d, %d columns, %d planes: last byte %d, want %d", im, step, cols, ch, got, want)
						}
					}
					// The int8 copies, from bytes ending at the same page.
					bytesAll := unsafe.Slice((*int8)(unsafe.Pointer(&mem[0])), page)
					for _, ch := range []int{4, 1} {
						need := (ch-1)*plane + (rows-1)*lds + (cols-1)*step + 1
						src := bytesAll[len(bytesAll)-need:]
						dst := make([]int8, rows*4*cols)
						Interleave(dst, 4*cols, src, plane, lds, step, ch, rows, cols)
						if got, want := dst[len(dst)-4+ch-1], src[need-1]; got != want {
							t.Fatalf("%v, step %d, %d columns, %d planes: Interleave's last byte %d, want %d", im, step, cols, ch, got, want)
						}
					}
					oneBytes := bytesAll[len(bytesAll)-(rows-1)*lds-(cols-1)*step-1:]
					gathered := make([]int8, rows*cols)
					GatherRows(gathered, cols, oneBytes, lds, step, rows, cols)
					if got, want := gathered[len(gathered)-1], oneBytes[len(oneBytes)-1]; got != want {
						t.Fatalf("%v, step %d, %d columns: GatherRows' last byte %d, want %d", im, step, cols, got, want)
					}
					// One plane: its last value is the slice's last.
					one := all[len(all)-(rows-1)*lds-(cols-1)*step-1:]
					bytes := make([]int8, rows*cols)
					QuantizeRows(bytes, cols, one, lds, step, rows, cols, 1)
					if got, want := bytes[len(bytes)-1], quantize1(one[len(one)-1], -128); got != want {
						t.Fatalf("%v, step %d, %d columns: QuantizeRows' last byte %d, want %d", im, step, cols, got, want)
					}
				}
			}
		})
	}
}
