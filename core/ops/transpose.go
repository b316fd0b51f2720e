package ops

import (
	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/tensor"
)

// A Transpose moves every element once; what makes it fast is moving
// them in long runs. permuteLayout first simplifies the permutation:
// dimensions of size 1 are dropped, and output dimensions that are also
// neighbours, in the same order, in the input are merged into one. Then
// either the innermost dimension stays innermost, and the output is a
// sequence of contiguous runs of the input (copy), or it moves, and the
// output is a batch of 2-D transposes of tiles (attention's Kᵀ, a
// sequence-first ↔ batch-first swap of a matrix's two dimensions);
// float32 matrices that are the whole of a batch entry take gemm's
// register-blocked Transpose.

// transposeMinChunk is the fewest elements a worker takes: below it the
// goroutines cost more than the copying.
const transposeMinChunk = 1 << 15

// permuted is a transpose simplified: the input's shape and the
// permutation after dropping unit dimensions and merging neighbours.
type permuted struct {
	shape []int // the input's dimensions
	perm  []int // output dimension i is input dimension perm[i]
}

// permuteLayout simplifies perm over an input of shape.
func permuteLayout(shape, perm []int) permuted {
	// Keep the dimensions larger than 1, renumbered in input order.
	renum := make([]int, len(shape))
	var kept []int
	for d, n := range shape {
		renum[d] = -1
		if n != 1 {
			renum[d] = len(kept)
			kept = append(kept, n)
		}
	}
	var order []int // output order of the kept input dimensions
	for _, p := range perm {
		if renum[p] >= 0 {
			order = append(order, renum[p])
		}
	}
	// Merge output neighbours i, i+1 that are input neighbours d, d+1.
	// groups[g] lists the input dimensions of merged dimension g, in
	// output order.
	var groups [][]int
	for i, d := range order {
		if i > 0 {
			last := groups[len(groups)-1]
			if last[len(last)-1]+1 == d {
				groups[len(groups)-1] = append(last, d)
				continue
			}
		}
		groups = append(groups, []int{d})
	}
	// Number the groups by their first input dimension: that is the
	// merged input's order.
	first := make([]int, len(groups))
	for g, ds := range groups {
		first[g] = ds[0]
	}
	rank := make([]int, len(groups)) // group → its input position
	for g := range groups {
		for h := range groups {
			if first[h] < first[g] {
				rank[g]++
			}
		}
	}
	p := permuted{shape: make([]int, len(groups)), perm: make([]int, len(groups))}
	for g, ds := range groups {
		n := 1
		for _, d := range ds {
			n *= kept[d]
		}
		p.shape[rank[g]] = n
		p.perm[g] = rank[g]
	}
	return p
}

// transposeInto writes src (of the simplified layout p) permuted into
// dst, splitting the work between workers. whole, when not nil,
// transposes a contiguous rows×cols matrix into a contiguous cols×rows
// one.
func transposeInto[T any](dst, src []T, p permuted, workers int, whole func(dst, src []T, rows, cols int)) {
	r := len(p.perm)
	if r <= 1 { // nothing moves
		copy(dst, src)
		return
	}
	inStride := tensor.Strides(p.shape)
	outShape := make([]int, r)
	for i, d := range p.perm {
		outShape[i] = p.shape[d]
	}
	outStride := tensor.Strides(outShape)
	// srcStride[i]: the input's step along output dimension i.
	srcStride := make([]int, r)
	for i, d := range p.perm {
		srcStride[i] = inStride[d]
	}
	total := len(src)
	if p.perm[r-1] == r-1 {
		// Runs: the innermost dimension stays; each run is one index of
		// the outer output dimensions.
		run := p.shape[r-1]
		runs := total / run
		parallel.For(runs, workers, max(1, transposeMinChunk/run), func(lo, hi int) {
			at := make([]int, r-1)
			for k := lo; k < hi; k++ {
				s := 0
				rem := k
				for i := r - 2; i >= 0; i-- {
					at[i] = rem % outShape[i]
					rem /= outShape[i]
					s += at[i] * srcStride[i]
				}
				copy(dst[k*run:(k+1)*run], src[s:s+run])
			}
		})
		return
	}
	// Tiles: output dimension r-1 (input dimension q, the tile's rows
	// in the input) against output dimension a, the input's innermost
	// (the tile's columns); every other dimension indexes a matrix.
	a := 0
	for i, d := range p.perm {
		if d == r-1 {
			a = i
		}
	}
	rows, cols := outShape[r-1], outShape[a]
	lds, ldd := srcStride[r-1], outStride[a]
	matrices := total / (rows * cols)
	var outer []int // the output dimensions that index matrices
	for i := 0; i < r-1; i++ {
		if i != a {
			outer = append(outer, i)
		}
	}
	parallel.For(matrices, workers, max(1, transposeMinChunk/(rows*cols)), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			s, d, rem := 0, 0, k
			for j := len(outer) - 1; j >= 0; j-- {
				i := outer[j]
				x := rem % outShape[i]
				rem /= outShape[i]
				s += x * srcStride[i]
				d += x * outStride[i]
			}
			if whole != nil && lds == cols && ldd == rows {
				whole(dst[d:d+rows*cols], src[s:s+rows*cols], rows, cols)
				continue
			}
			transposeStrided(dst[d:], src[s:], rows, cols, lds, ldd)
		}
	})
}

// transposeStrided writes the rows×cols matrix at src (rows lds apart)
// transposed at dst (its rows ldd apart), in tiles that keep both sides'
// lines in cache.
func transposeStrided[T any](dst, src []T, rows, cols, lds, ldd int) {
	const tile = 16
	for r0 := 0; r0 < rows; r0 += tile {
		r1 := min(r0+tile, rows)
		for c0 := 0; c0 < cols; c0 += tile {
			c1 := min(c0+tile, cols)
			for r := r0; r < r1; r++ {
				line := src[r*lds : r*lds+c1]
				for c := c0; c < c1; c++ {
					dst[c*ldd+r] = line[c]
				}
			}
		}
	}
}

// transposeTensor writes x permuted by perm into y, whatever x's
// element type.
func transposeTensor(x, y *tensor.Tensor, perm []int, workers int) {
	p := permuteLayout(x.Shape, perm)
	switch {
	case x.F32 != nil:
		transposeInto(y.F32, x.F32, p, workers, gemm.Transpose)
	case x.I64 != nil:
		transposeInto(y.I64, x.I64, p, workers, nil)
	case x.I8 != nil:
		transposeInto(y.I8, x.I8, p, workers, nil)
	}
}
