package panel

import (
	"testing"
	"unsafe"
)

func TestAligned(t *testing.T) {
	for n := 1; n < 40; n++ {
		for _, p := range []uintptr{
			uintptr(unsafe.Pointer(&Aligned[float32](n)[0])),
			uintptr(unsafe.Pointer(&Aligned[int8](n)[0])),
			uintptr(unsafe.Pointer(&Aligned[int16](n)[0])),
		} {
			if p%64 != 0 {
				t.Fatalf("n %d: address %x not 64-byte aligned", n, p)
			}
		}
		if len(Aligned[int8](n)) != n || cap(Aligned[int8](n)) != n {
			t.Fatalf("n %d: wrong length or capacity", n)
		}
	}
}

func TestRowsCoverEvenly(t *testing.T) {
	for m := 1; m < 60; m++ {
		for mr := 1; mr <= 12; mr++ {
			np := Count(m, mr)
			next := 0
			for i := 0; i < np; i++ {
				r0, rows := Rows(m, np, i)
				if r0 != next || rows < 1 || rows > mr {
					t.Fatalf("m %d mr %d panel %d: rows [%d,+%d)", m, mr, i, r0, rows)
				}
				next = r0 + rows
			}
			if next != m {
				t.Fatalf("m %d mr %d: panels cover %d rows", m, mr, next)
			}
		}
	}
}
