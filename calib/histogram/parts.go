package histogram

import (
	"fmt"
	"math"
)

// Parts is a streaming histogram's content computed elsewhere with the
// same binning rule (on a GPU, by core/cuda): the range 2^Exp, Exp from
// [RangeExp] of the largest finite magnitude; per side bins+1 slots, slot
// floor(|v|·bins/2^Exp) (the last for |v| == 2^Exp), negative values
// (including -0) on the second side of a signed histogram; and the exact
// statistics beside them.
type Parts struct {
	Config Config // layout; Range must be 0 (streaming)
	Exp    int    // meaningful when a finite non-zero value was seen
	Counts []uint64
	// Count is the number of finite values, Zeros those equal to ±0.
	Count, Zeros, NaN, PosInf, NegInf uint64
	// Min and Max are the smallest and largest finite values (when Count
	// is not 0).
	Min, Max float32
}

// RangeExp returns the exponent e of the streaming range 2^e that a
// histogram holding values of largest magnitude maxAbs (finite, > 0) has.
func RangeExp(maxAbs float32) int { return ceilExp(maxAbs) }

// FromParts builds the histogram p describes, identical to one filled
// with Add from the same values; merge it into others with Merge.
func FromParts(p Parts) (*Histogram, error) {
	if p.Config.Range != 0 {
		return nil, fmt.Errorf("histogram: parts of a fixed-range histogram are not supported")
	}
	h, err := NewConfig(p.Config)
	if err != nil {
		return nil, err
	}
	if len(p.Counts) != len(h.counts) {
		return nil, fmt.Errorf("histogram: %d counts for a layout of %d slots", len(p.Counts), len(h.counts))
	}
	var total uint64
	for _, c := range p.Counts {
		total += c
	}
	if total != p.Count {
		return nil, fmt.Errorf("histogram: counts sum to %d, not the %d finite values", total, p.Count)
	}
	copy(h.counts, p.Counts)
	h.count, h.zeros, h.nan, h.posInf, h.negInf = p.Count, p.Zeros, p.NaN, p.PosInf, p.NegInf
	if p.Count > 0 {
		h.minKey, h.maxKey = key(math.Float32bits(p.Min)), key(math.Float32bits(p.Max))
		if maxAbs := max(abs32(p.Min), abs32(p.Max)); maxAbs > 0 {
			if e := RangeExp(maxAbs); e != p.Exp {
				return nil, fmt.Errorf("histogram: range 2^%d for values up to %g, want 2^%d", p.Exp, maxAbs, e)
			}
			h.growTo(p.Exp)
		}
	}
	return h, nil
}
