//go:build linux

package qgemm

import (
	"fmt"
	"math/rand"
	"os"
	"syscall"
	"testing"
	"unsafe"
)

// TestMulTapsGuardPages puts src between two inaccessible pages, starting
// right after the first and ending right before the second, with offsets
// reaching both ends of the documented bound (0 and len(src) −
// TapsSpan(n)): a read outside [offs[g], offs[g]+TapsSpan(n)) by any
// kernel, assembly included, faults and kills the test binary.
func TestMulTapsGuardPages(t *testing.T) {
	page := os.Getpagesize()
	r := rand.New(rand.NewSource(13))
	for _, s := range [][3]int{{12, 100, 37}, {7, 33, 8}, {40, 1, 1030}, {5, 16, 5}, {24, 64, 20}, {13, 17, 144}} {
		m, n, k := s[0], s[1], s[2]
		kg := PaddedK(k) / KGroup
		size := kg*8 + TapsSpan(n)
		body := (size + page - 1) / page * page
		mem, err := syscall.Mmap(-1, 0, body+2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			t.Skip(err)
		}
		if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mprotect(mem[page+body:], syscall.PROT_NONE); err != nil {
			t.Fatal(err)
		}
		// High end: src ends right before the second guard page.
		raw := mem[page : page+body]
		src := unsafe.Slice((*int8)(unsafe.Pointer(&raw[body-size])), size)
		fill(r, src, valRandom, false)
		offs := make([]int32, kg)
		for g := range offs {
			offs[g] = int32(r.Intn(size - TapsSpan(n) + 1))
		}
		offs[0], offs[kg-1] = 0, int32(size-TapsSpan(n))
		a := make([]int8, m*k)
		fill(r, a, valRandom, true)
		b := make([]int8, k*n)
		for p := 0; p < k; p++ {
			for j := 0; j < n; j++ {
				b[p*n+j] = src[int(offs[p/KGroup])+KGroup*j+p%KGroup]
			}
		}
		want := reference(m, n, k, a, k, b, n)
		for _, im := range Available() {
			withImpl(t, im, func() {
				c := make([]int32, m*n)
				PackTapsA(m, k, a, k).MulTaps(n, src, offs, c, n)
				for e, v := range c {
					if int64(v) != want[e] {
						t.Fatalf("%v %v: C[%d] = %d, want %d", im, s, e, v, want[e])
					}
				}
			})
		}
		// Low end: the same with src starting right after the first guard.
		lo := unsafe.Slice((*int8)(unsafe.Pointer(&raw[0])), size)
		copy(lo, src)
		for _, im := range Available() {
			withImpl(t, im, func() {
				c := make([]int32, m*n)
				PackTapsA(m, k, a, k).MulTaps(n, lo, offs, c, n)
				for e, v := range c {
					if int64(v) != want[e] {
						t.Fatalf("%v %v (low end): C[%d] = %d, want %d", im, s, e, v, want[e])
					}
				}
			})
		}
		if err := syscall.Munmap(mem); err != nil {
			t.Fatal(fmt.Errorf("munmap: %w", err))
		}
	}
}
