package engine

import "github.com/int8cal/int8cal/core/tensor"

// MakePlan makes (and caches) the plans Run uses for the inputs' shapes
// (the parts' plans where Run splits the batch, split.go): weights packed
// and quantized, buffers allocated, ahead of the first Run
// (session.Planner).
func (e *Engine) MakePlan(inputs map[string]*tensor.Tensor) error {
	_, _, err := e.fusedFor(inputs)
	return err
}
