package layererr

import (
	"fmt"
	"math"
)

// Metrics accumulates the error of a tested tensor x against its
// reference ref over one or more batches. The zero value is ready to use.
type Metrics struct {
	// N is the number of elements compared.
	N int64
	// NonFinite counts the NaN and ±Inf values of the tested tensor.
	NonFinite int64

	sumRef2, sumX2, sumDot, sumErr2, sumAbs, maxAbs float64
}

// Add compares one batch of a tensor. The two must have the same number
// of elements; the error names the tensor.
func (m *Metrics) Add(name string, ref, x []float32) error {
	if len(ref) != len(x) {
		return fmt.Errorf("tensor %s: %d elements in the reference run, %d in the tested one", name, len(ref), len(x))
	}
	for i, r := range ref {
		r, v := float64(r), float64(x[i])
		if math.IsNaN(v) || math.IsInf(v, 0) {
			m.NonFinite++
		}
		d := math.Abs(r - v)
		m.sumRef2 += r * r
		m.sumX2 += v * v
		m.sumDot += r * v
		m.sumErr2 += d * d
		m.sumAbs += d
		// max returns NaN when d is NaN, and NaN stays.
		m.maxAbs = max(m.maxAbs, d)
	}
	m.N += int64(len(ref))
	return nil
}

// SQNR is the signal-to-quantization-noise ratio in decibels,
// 10·log10(Σref²/Σ(ref−x)²): +Inf when the tensors are equal, −Inf when
// the reference is zero and the tested tensor is not, NaN when the tested
// tensor was not finite (or the reference was not).
func (m *Metrics) SQNR() float64 {
	switch {
	case m.NonFinite > 0:
		return math.NaN()
	case m.sumErr2 == 0:
		return math.Inf(1)
	}
	return 10 * math.Log10(m.sumRef2/m.sumErr2)
}

// Cosine is the cosine similarity of the two tensors (each batch's
// elements one long vector): 1 when both are zero, 0 when only one is,
// NaN when the tested tensor was not finite.
func (m *Metrics) Cosine() float64 {
	switch {
	case m.NonFinite > 0:
		return math.NaN()
	case m.sumRef2 == 0 && m.sumX2 == 0:
		return 1
	case m.sumRef2 == 0 || m.sumX2 == 0:
		return 0
	}
	return m.sumDot / (math.Sqrt(m.sumRef2) * math.Sqrt(m.sumX2))
}

// MaxAbs is the largest |ref−x|.
func (m *Metrics) MaxAbs() float64 { return m.maxAbs }

// MeanAbs is the mean |ref−x| over every element compared (0 when none
// was).
func (m *Metrics) MeanAbs() float64 {
	if m.N == 0 {
		return 0
	}
	return m.sumAbs / float64(m.N)
}
