package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/tensor"
)

// Affine describes an operator whose output element at index i (per
// dimension) is the input element at Start + Step·i, or Fill where that
// lies outside the input: Slice, and Pad in constant mode. Backends with
// kernels of their own (core/cuda) run both with one gather kernel.
type Affine struct {
	Start, Step []int
	Fill        float32
}

// AffineMap resolves the Slice for an input shape (consts as for Infer).
func (s *slice) AffineMap(in []Meta, consts []*tensor.Tensor) (Affine, error) {
	present := make([]bool, len(in))
	for i, m := range in {
		present[i] = m.DType != tensor.Undefined
	}
	dims, err := s.resolve(in[0].Shape, consts, present)
	if err != nil {
		return Affine{}, err
	}
	a := Affine{Start: make([]int, len(dims)), Step: make([]int, len(dims))}
	for i, d := range dims {
		a.Start[i], a.Step[i] = d.start, d.step
	}
	return a, nil
}

// AffineMap resolves a constant-mode Pad for an input shape; reflect and
// edge padding are not affine.
func (p *pad) AffineMap(in []Meta, consts []*tensor.Tensor) (Affine, error) {
	if p.mode != "constant" {
		return Affine{}, fmt.Errorf("Pad mode %q is not a constant fill", p.mode)
	}
	begin, _, value, err := p.resolve(len(in[0].Shape), consts)
	if err != nil {
		return Affine{}, err
	}
	a := Affine{Start: make([]int, len(begin)), Step: make([]int, len(begin)), Fill: value.f}
	for i, b := range begin {
		a.Start[i], a.Step[i] = -b, 1
	}
	return a, nil
}
