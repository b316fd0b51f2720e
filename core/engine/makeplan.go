package engine

import "github.com/int8cal/int8cal/core/tensor"

// MakePlan makes (and caches) the plan Run uses for the inputs' shapes:
// weights packed and quantized, buffers allocated, ahead of the first Run
// (session.Planner).
func (e *Engine) MakePlan(inputs map[string]*tensor.Tensor) error {
	_, err := e.planFor(inputs, planFused)
	return err
}
