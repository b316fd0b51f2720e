package dataset

import (
	"fmt"

	"github.com/int8cal/int8cal/internal/options"
)

// Option is one setting a data set accepts, with its default ("" when it
// has none; such an option may be required).
type Option struct {
	Name        string
	Default     string
	Description string
}

// Info describes a data set plugin.
type Info struct {
	Name        string // e.g. mnist
	Version     string // the plugin's own version
	Description string
	Options     []Option
}

// Meta describes an opened data set: Samples samples of SampleShape
// float32 values each (row-major, e.g. [C, H, W]), or, for a TensorStream,
// of the named Inputs instead, with a class label each when Labels is set.
type Meta struct {
	Samples     int
	SampleShape []int
	// Inputs are a TensorStream's inputs (SampleShape is then unset).
	Inputs []Input
	Labels bool
	// Classes is the number of classes when known: labels then lie in
	// [0, Classes). 0 when unknown.
	Classes int
}

// SampleElements returns the number of values in one sample of
// SampleShape.
func (m Meta) SampleElements() int { return product(m.SampleShape) }

// SampleBytes returns the bytes of one sample: its SampleShape float32
// values, or the values of all its Inputs.
func (m Meta) SampleBytes() int {
	if len(m.Inputs) == 0 {
		return 4 * m.SampleElements()
	}
	n := 0
	for _, in := range m.Inputs {
		n += in.Elements() * in.Type.Size()
	}
	return n
}

// Check reports a Meta the host cannot use: no shape, a dimension below 1,
// a negative count; with Inputs, a SampleShape beside them, an unknown
// element type, a repeated name, or an unnamed input beside others.
func (m Meta) Check() error {
	switch {
	case m.Samples < 0:
		return fmt.Errorf("%d samples", m.Samples)
	case m.Classes < 0:
		return fmt.Errorf("%d classes", m.Classes)
	case len(m.Inputs) == 0:
		if len(m.SampleShape) == 0 {
			return fmt.Errorf("no sample shape")
		}
		return checkShape("sample shape", m.SampleShape)
	case len(m.SampleShape) != 0:
		return fmt.Errorf("a sample shape %v beside %d inputs", m.SampleShape, len(m.Inputs))
	case len(m.Inputs) > MaxInputs:
		return fmt.Errorf("%d inputs (at most %d)", len(m.Inputs), MaxInputs)
	}
	seen := map[string]bool{}
	total := 0
	for _, in := range m.Inputs {
		switch {
		case in.Name == "" && len(m.Inputs) > 1:
			return fmt.Errorf("an unnamed input among %d; only a data set's single input may go unnamed", len(m.Inputs))
		case seen[in.Name]:
			return fmt.Errorf("input %q listed twice", in.Name)
		case !in.Type.Valid():
			return fmt.Errorf("input %q: unknown %v", in.Name, in.Type)
		case len(in.Shape) == 0:
			return fmt.Errorf("input %q: no shape", in.Name)
		}
		seen[in.Name] = true
		if err := checkShape(fmt.Sprintf("input %q: shape", in.Name), in.Shape); err != nil {
			return err
		}
		if total += in.Elements(); total > MaxSampleElements {
			return fmt.Errorf("the inputs hold more than %d values per sample", MaxSampleElements)
		}
	}
	return nil
}

func checkShape(what string, shape []int) error {
	n := 1
	for _, d := range shape {
		if d < 1 || d > MaxSampleElements {
			return fmt.Errorf("%s %v has a dimension outside [1, %d]", what, shape, MaxSampleElements)
		}
		n *= d
		if n > MaxSampleElements {
			return fmt.Errorf("%s %v holds more than %d values", what, shape, MaxSampleElements)
		}
	}
	return nil
}

// MaxSampleElements bounds the values in one sample (1 GiB of float32),
// and MaxInputs the inputs of a sample.
const (
	MaxSampleElements = 1 << 28
	MaxInputs         = 256
)

// BatchStream is a data set. The host calls Info, then Open with the
// options the user set (an unknown option, a bad value, or a missing or
// unreadable file is an error that names it), then Read any number of
// times, then Close. Calls never overlap.
//
// Read writes samples [first, first+n) into images (n×SampleElements
// values) and, when Meta.Labels is set, their class indices into labels
// (n values; labels is nil otherwise). A range outside [0, Samples) is an
// error. The same sample always reads the same, whatever the batch it is
// read in.
type BatchStream interface {
	Info() Info
	Open(options map[string]string) (Meta, error)
	Read(first, n int, images []float32, labels []int32) error
	Close() error
}

// ParseOptions checks user options against the declared ones and hands
// each value to set, declared defaults first for the options the user did
// not set (and that have a default), so that data sets report unknown
// names and bad values the same way: "<data set>: unknown option "x"
// (options: a, b)" and "<data set>: option a=v: <why>".
func ParseOptions(dataset string, declared []Option, opts map[string]string, set func(name, value string) error) error {
	decls := make([]options.Decl, len(declared))
	for i, o := range declared {
		decls[i] = options.Decl{Name: o.Name, Default: o.Default}
	}
	return options.Parse(dataset, decls, true, opts, set)
}
