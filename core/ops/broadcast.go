package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/tensor"
)

// broadcastShape applies numpy-style multidirectional broadcasting.
func broadcastShape(shapes ...[]int) ([]int, error) {
	rank := 0
	for _, s := range shapes {
		if len(s) > rank {
			rank = len(s)
		}
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			switch {
			case out[off+i] == 1:
				out[off+i] = d
			case d != 1 && d != out[off+i]:
				return nil, fmt.Errorf("shapes %s cannot be broadcast together", shapesString(shapes))
			}
		}
	}
	return out, nil
}

func shapesString(shapes [][]int) string {
	s := ""
	for i, sh := range shapes {
		if i > 0 {
			s += " and "
		}
		s += tensor.ShapeString(sh)
	}
	return s
}

// broadcastPlan describes how two inputs map onto an output as a loop nest
// over collapsed dimensions: adjacent output dimensions along which both
// inputs step the same way (both contiguous or both repeating) are merged,
// so that the common cases (same shape, scalar, per-channel bias) become one
// or two loops.
type broadcastPlan struct {
	dims     []int // collapsed output dims, outermost first
	strideA  []int // element strides of a per collapsed dim (0 = repeat)
	strideB  []int
	total    int
	innerLen int
}

func planBroadcast(out, a, b []int) broadcastPlan {
	rank := len(out)
	sa := expandStrides(a, rank)
	sb := expandStrides(b, rank)
	var p broadcastPlan
	p.total = tensor.NumElements(out)
	for i := 0; i < rank; i++ {
		if out[i] == 1 {
			continue
		}
		n := len(p.dims)
		if n > 0 {
			// Merge with the previous dim when both inputs continue their
			// layout across the boundary.
			prevA, prevB := p.strideA[n-1], p.strideB[n-1]
			if prevA == sa[i]*out[i] && prevB == sb[i]*out[i] {
				p.dims[n-1] *= out[i]
				p.strideA[n-1] = sa[i]
				p.strideB[n-1] = sb[i]
				continue
			}
		}
		p.dims = append(p.dims, out[i])
		p.strideA = append(p.strideA, sa[i])
		p.strideB = append(p.strideB, sb[i])
	}
	if len(p.dims) == 0 {
		p.dims, p.strideA, p.strideB = []int{1}, []int{0}, []int{0}
	}
	p.innerLen = p.dims[len(p.dims)-1]
	return p
}

// expandStrides returns strides of shape s right-aligned to rank, with 0
// for broadcast dimensions.
func expandStrides(s []int, rank int) []int {
	st := make([]int, rank)
	acc := 1
	for i := len(s) - 1; i >= 0; i-- {
		r := rank - len(s) + i
		if s[i] != 1 {
			st[r] = acc
		}
		acc *= s[i]
	}
	return st
}

// rows calls fn for every innermost row of the loop nest with the offsets
// of a and b at its start and the output offset, for rows [lo,hi).
func (p *broadcastPlan) rows(lo, hi int, fn func(outOff, aOff, bOff int)) {
	outer := p.dims[:len(p.dims)-1]
	idx := make([]int, len(outer))
	// position idx at row lo
	r := lo
	for d := len(outer) - 1; d >= 0; d-- {
		idx[d] = r % outer[d]
		r /= outer[d]
	}
	for row := lo; row < hi; row++ {
		aOff, bOff := 0, 0
		for d, i := range idx {
			aOff += i * p.strideA[d]
			bOff += i * p.strideB[d]
		}
		fn(row*p.innerLen, aOff, bOff)
		for d := len(outer) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < outer[d] {
				break
			}
			idx[d] = 0
		}
	}
}

func (p *broadcastPlan) numRows() int { return p.total / p.innerLen }

// broadcastRows splits the loop nest of planBroadcast(out, a, b) over the
// workers and calls fn for runs of n output elements starting at o, whose
// operands start at ao and bo and step by sa and sb (0 or 1). One long row
// (same shapes, or a scalar operand) is split itself; otherwise whole rows
// are handed out. Nothing is called for an empty output.
func broadcastRows(workers int, out, a, b []int, fn func(o, ao, bo, sa, sb, n int)) {
	p := planBroadcast(out, a, b)
	if p.total == 0 {
		return
	}
	inner := p.innerLen
	sa, sb := p.strideA[len(p.strideA)-1], p.strideB[len(p.strideB)-1]
	if p.numRows() == 1 {
		parallel.For(inner, workers, minParallel, func(lo, hi int) {
			fn(lo, lo*sa, lo*sb, sa, sb, hi-lo)
		})
		return
	}
	parallel.For(p.numRows(), workers, max(1, minParallel/inner), func(lo, hi int) {
		p.rows(lo, hi, func(o, ao, bo int) { fn(o, ao, bo, sa, sb, inner) })
	})
}
