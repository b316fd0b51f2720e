package calib

import (
	"context"
	"fmt"
)

// StatisticsKind names the statistics a calibrator needs per tensor.
type StatisticsKind int

const (
	// AbsHistogram is a histogram of |x| over [0, Range] (TensorRT's
	// entropy calibrators).
	AbsHistogram StatisticsKind = iota + 1
	// SignedHistogram is a histogram of x over [-Range, Range].
	SignedHistogram
	// MinMax is only count, min and max.
	MinMax
	// Raw is every value seen.
	Raw
)

var kindNames = map[StatisticsKind]string{
	AbsHistogram: "abs-histogram", SignedHistogram: "signed-histogram", MinMax: "min-max", Raw: "raw",
}

func (k StatisticsKind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("statistics(%d)", int(k))
}

// Option is one setting a calibrator accepts, with its default.
type Option struct {
	Name        string
	Default     string
	Description string
}

// Info describes a calibrator.
type Info struct {
	Name        string // e.g. entropy2
	Version     string // the plugin's own version
	Algorithm   string // written in the calibration cache header, e.g. EntropyCalibration2
	Description string
	Statistics  StatisticsKind
	Bins        int // histogram bins, for the histogram kinds
	Options     []Option
}

// Histogram holds equal-width bin counts over [0, Range] (or
// [-Range, Range] when Signed).
type Histogram struct {
	Range  float64
	Signed bool
	Counts []uint64
}

// BinWidth returns the width of one bin.
func (h *Histogram) BinWidth() float64 {
	span := h.Range
	if h.Signed {
		span *= 2
	}
	return span / float64(len(h.Counts))
}

// TensorStats is what the host observed of one tensor over all calibration
// batches.
type TensorStats struct {
	Name     string
	Count    uint64
	Min, Max float32
	// Histogram is set for the histogram kinds.
	Histogram *Histogram
	// Values is set for Raw.
	Values []float32
}

// MaxAbs returns max |x| from Min and Max.
func (s *TensorStats) MaxAbs() float32 { return max(s.Max, -s.Min) }

// Range is a calibrator's answer for one tensor: the dynamic range
// [-Amax, Amax] mapped onto int8 with scale Amax/127.
type Range struct {
	Name string
	Amax float32
	// Curve and Chosen are optional diagnostics: the quantity the
	// calibrator minimized per candidate and the candidate it chose, an
	// index in Curve (int8cal's report marks Curve[Chosen]).
	Curve  []float64
	Chosen int
}

// Calibrator turns activation statistics into dynamic ranges. Configure is
// called before Calibrate, with only the options the user set; an unknown
// option or a bad value is an error that names it.
type Calibrator interface {
	Info() Info
	Configure(options map[string]string) error
	Calibrate(ctx context.Context, tensors []TensorStats) ([]Range, error)
}

// ForEachHistogram runs amax on every tensor's histogram of |x|, the loop of
// every histogram calibrator: it stops on a cancelled context, refuses a
// tensor without such a histogram, answers amax 0 for an all-zero tensor
// without calling amax, and names the calibrator and the tensor in errors.
func ForEachHistogram(ctx context.Context, calibrator string, tensors []TensorStats, amax func(t *TensorStats) (Range, error)) ([]Range, error) {
	out := make([]Range, len(tensors))
	for i := range tensors {
		t := &tensors[i]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if t.Histogram == nil || t.Histogram.Signed {
			return nil, fmt.Errorf("%s: tensor %q: needs a histogram of |x|", calibrator, t.Name)
		}
		if t.MaxAbs() == 0 {
			out[i] = Range{Name: t.Name}
			continue
		}
		r, err := amax(t)
		if err != nil {
			return nil, fmt.Errorf("%s: tensor %q: %w", calibrator, t.Name, err)
		}
		r.Name = t.Name
		out[i] = r
	}
	return out, nil
}
