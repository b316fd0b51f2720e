package cuda

import "github.com/int8cal/int8cal/core/tensor"

// ForceProduct makes every INT8 product of the plans made afterwards run
// by cuBLASLt ("cublaslt") or by the named conv_s8 kernel, untimed ("":
// the tactic timing chooses); it returns the function that restores the
// previous choice.
func ForceProduct(name string) (restore func()) {
	old := forceProduct
	forceProduct = name
	return func() { forceProduct = old }
}

// ProductKernels are the names of the conv_s8 configurations (each
// kernel with and without its input tile) that ForceProduct takes.
func ProductKernels() []string {
	var names []string
	for _, c := range convConfigs {
		names = append(names, c.label())
	}
	return names
}

// TensorCoresS8 reports whether the backend can run the conv_s8 kernels.
func (b *Backend) TensorCoresS8() bool { return b.tensorCoresS8 }

// RunUnstaged is Run through synchronous copies from Go memory (execute),
// the path Run falls back to.
func (e *Engine) RunUnstaged(inputs map[string]*tensor.Tensor) (out map[string]*tensor.Tensor, err error) {
	err = e.executed(inputs, false, func(p *plan) error {
		out, err = p.outputsToHost()
		return err
	})
	return out, err
}
