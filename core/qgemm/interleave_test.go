package qgemm

import (
	"math/rand"
	"testing"
)

// Interleave and GatherRows move exactly the bytes their definitions
// name, on every path, and nothing else: the bytes between rows keep
// their content. Rows of every length around the vector width (16),
// one to four planes, column steps 1 to 3.
func TestInterleaveAndGatherRows(t *testing.T) {
	rng := rand.New(rand.NewSource(19))
	src := make([]int8, 6000)
	for i := range src {
		src[i] = int8(rng.Intn(256) - 128)
	}
	for _, im := range Available() {
		withImpl(t, im, func() {
			for _, step := range []int{1, 2, 3} {
				for _, w := range widths() {
					cols, gap, dgap := w.cols, w.gap, w.dgap
					rows, lds := 3, cols*step+gap
					plane := rows * lds
					for _, ch := range []int{4, 3, 2, 1} {
						ldd := 4*cols + dgap
						got := make([]int8, rows*ldd)
						for i := range got {
							got[i] = 99
						}
						Interleave(got, ldd, src, plane, lds, step, ch, rows, cols)
						for i := 0; i < rows; i++ {
							for b := 0; b < ldd; b++ {
								want := int8(99)
								if j, c := b/4, b%4; j < cols && c < ch {
									want = src[c*plane+i*lds+j*step]
								} else if j < cols {
									want = 0
								}
								if g := got[i*ldd+b]; g != want {
									t.Fatalf("%v, %d planes, step %d, %d columns: row %d byte %d = %d, want %d", im, ch, step, cols, i, b, g, want)
								}
							}
						}
					}
					ldd := cols + dgap
					got := make([]int8, rows*ldd)
					for i := range got {
						got[i] = 99
					}
					GatherRows(got, ldd, src, lds, step, rows, cols)
					for i := 0; i < rows; i++ {
						for j := 0; j < ldd; j++ {
							want := int8(99)
							if j < cols {
								want = src[i*lds+j*step]
							}
							if g := got[i*ldd+j]; g != want {
								t.Fatalf("%v, step %d, %d columns: GatherRows row %d byte %d = %d, want %d", im, step, cols, i, j, g, want)
							}
						}
					}
				}
			}
		})
	}
}

// Too short a source or destination is a programming error reported by a
// panic naming the call.
func TestInterleaveChecksBounds(t *testing.T) {
	for name, f := range map[string]func(){
		"Interleave source":      func() { Interleave(make([]int8, 64), 64, make([]int8, 15), 16, 16, 1, 1, 1, 16) },
		"Interleave destination": func() { Interleave(make([]int8, 63), 64, make([]int8, 16), 16, 16, 1, 1, 1, 16) },
		"Interleave planes":      func() { Interleave(make([]int8, 64), 64, make([]int8, 100), 16, 16, 1, 5, 1, 16) },
		"GatherRows source":      func() { GatherRows(make([]int8, 16), 16, make([]int8, 30), 32, 2, 1, 16) },
		"GatherRows destination": func() { GatherRows(make([]int8, 15), 16, make([]int8, 32), 32, 2, 1, 16) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s too short: no panic", name)
				}
			}()
			f()
		}()
	}
}

// width is a row length for the copy and quantizer tests, with the values
// between rows in the source (gap) and the bytes between rows in the
// destination (dgap).
type width struct{ cols, gap, dgap int }

// widths are the row lengths 0 to 40 and a few longer ones, each once
// with rows that follow each other (the copies and quantizers take such a
// block as one row, see flat) and once with gaps between rows, whose
// bytes must keep their content (the zero padding of the phase planes).
func widths() []width {
	var ws []width
	for cols := 0; cols <= 72; cols++ {
		if cols <= 40 || cols%8 <= 1 || cols%8 == 7 {
			ws = append(ws, width{cols, 0, 0}, width{cols, 5, 12})
		}
	}
	return ws
}
