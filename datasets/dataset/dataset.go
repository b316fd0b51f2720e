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
// float32 values each (row-major, e.g. [C, H, W]), with a class label each
// when Labels is set.
type Meta struct {
	Samples     int
	SampleShape []int
	Labels      bool
	// Classes is the number of classes when known: labels then lie in
	// [0, Classes). 0 when unknown.
	Classes int
}

// SampleElements returns the number of values in one sample.
func (m Meta) SampleElements() int {
	n := 1
	for _, d := range m.SampleShape {
		n *= d
	}
	return n
}

// Check reports a Meta the host cannot use: no shape, a dimension below 1,
// or a negative count.
func (m Meta) Check() error {
	switch {
	case m.Samples < 0:
		return fmt.Errorf("%d samples", m.Samples)
	case len(m.SampleShape) == 0:
		return fmt.Errorf("no sample shape")
	case m.Classes < 0:
		return fmt.Errorf("%d classes", m.Classes)
	}
	n := 1
	for _, d := range m.SampleShape {
		if d < 1 || d > MaxSampleElements {
			return fmt.Errorf("sample shape %v has a dimension outside [1, %d]", m.SampleShape, MaxSampleElements)
		}
		n *= d
		if n > MaxSampleElements {
			return fmt.Errorf("sample shape %v holds more than %d values", m.SampleShape, MaxSampleElements)
		}
	}
	return nil
}

// MaxSampleElements bounds the values in one sample (1 GiB of float32).
const MaxSampleElements = 1 << 28

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
