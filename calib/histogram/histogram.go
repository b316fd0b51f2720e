package histogram

import (
	"errors"
	"fmt"
	"math"
)

// DefaultBins is the bin count of TensorRT's EntropyCalibration2 histogram of
// |x| (calibration-anchors.md, sections 1.2 and 4.1).
const DefaultBins = 2048

// MaxBins bounds the bins of one side. With at most 2^24 bins the product of
// a float32 magnitude (24 significant bits) and the bin count is exact in
// float64, which the exactness argument in the package doc relies on.
const MaxBins = 1 << 24

// ErrInf is wrapped by [Histogram.Err] when infinite values were added.
var ErrInf = errors.New("histogram: infinite values")

// ErrEmpty is returned by Magnitudes for a histogram without finite values.
var ErrEmpty = errors.New("histogram holds no finite values")

// ErrMismatch is wrapped by [Histogram.Merge] when the two histograms do not
// have the same layout (bins, signedness, fixed range).
var ErrMismatch = errors.New("histogram: layout mismatch")

// Config describes a histogram's layout; see [NewConfig].
type Config struct {
	// Bins is the number of bins over the whole histogram: over [0, R] for a
	// histogram of |x|, over [-R, R] for a signed one (then Bins must be even,
	// Bins/2 per side). 0 means DefaultBins.
	Bins int
	// Signed selects a histogram of x over [-R, R] instead of |x| over [0, R].
	Signed bool
	// Range, if non-zero, fixes R (the fixed-range mode of the two-pass
	// scheme, see the package doc); it must be finite and positive. Zero
	// selects the streaming mode, where R is the smallest power of two >=
	// max|x|.
	Range float32
}

// Histogram is a streaming histogram of |x| (or of x, when signed) over
// float32 data, with exact statistics beside it. The zero value is not
// usable; create one with [New], [NewSigned], [NewFixed] or [NewConfig].
// A Histogram is not safe for concurrent use; collect in parallel into
// separate histograms and [Histogram.Merge] them.
type Histogram struct {
	bins   int  // bins per side
	signed bool // two sides: counts[0:bins+1] for x >= +0, counts[bins+1:] for x <= -0
	fixed  bool // fixed-range mode

	// Range. In streaming mode rng = 2^exp once hasRange is set (after the
	// first non-zero finite value). In fixed mode rng is the given range and
	// hasRange is always set.
	hasRange bool
	exp      int
	rng      float64
	scale    float64 // bins / rng
	rngBits  uint32  // float32 bits of the largest magnitude that needs no slow path

	// counts holds, per side, bins+1 slots: slot j < bins counts values v with
	// floor(|v|*bins/R) == j, slot bins counts values with |v| == R exactly
	// (in fixed mode: whose index reaches bins, which includes every |v| > R).
	// Bins folds the last slot into bin bins-1.
	counts []uint64

	count   uint64 // finite values
	zeros   uint64 // values equal to +0 or -0
	nan     uint64
	posInf  uint64
	negInf  uint64
	clipped uint64 // fixed mode: finite values with |v| > R

	// Order-preserving int32 keys of the smallest and largest finite value
	// (see key), so that min and max do not depend on the order of ±0.
	minKey, maxKey int32
}

// New returns a streaming histogram of |x| with the given number of bins
// (DefaultBins when bins is 0). It panics if bins is negative or above
// MaxBins.
func New(bins int) *Histogram {
	h, err := NewConfig(Config{Bins: bins})
	if err != nil {
		panic(err)
	}
	return h
}

// NewSigned returns a streaming histogram of x over [-R, R] with bins bins in
// all (bins/2 per side; 2*DefaultBins when bins is 0). It panics if bins is
// odd, negative or above 2*MaxBins.
func NewSigned(bins int) *Histogram {
	if bins == 0 {
		bins = 2 * DefaultBins
	}
	h, err := NewConfig(Config{Bins: bins, Signed: true})
	if err != nil {
		panic(err)
	}
	return h
}

// NewFixed returns a fixed-range histogram of |x| over [0, r] (the second
// pass of the two-pass scheme). It returns an error if bins or r is invalid.
func NewFixed(bins int, r float32) (*Histogram, error) {
	return NewConfig(Config{Bins: bins, Range: r})
}

// NewConfig returns an empty histogram with the layout c describes.
func NewConfig(c Config) (*Histogram, error) {
	bins := c.Bins
	if bins == 0 {
		bins = DefaultBins
	}
	if bins < 0 {
		return nil, fmt.Errorf("histogram: %d bins: must be positive", bins)
	}
	if c.Signed {
		if bins%2 != 0 || bins < 2 {
			return nil, fmt.Errorf("histogram: signed histogram of %d bins: needs an even number, at least 2", bins)
		}
		bins /= 2
	}
	if bins > MaxBins {
		return nil, fmt.Errorf("histogram: %d bins per side: at most %d", bins, MaxBins)
	}
	r := c.Range
	if r != 0 && !(r > 0 && r <= math.MaxFloat32) {
		return nil, fmt.Errorf("histogram: fixed range %v: must be finite and positive", r)
	}
	sides := 1
	if c.Signed {
		sides = 2
	}
	h := &Histogram{
		bins:   bins,
		signed: c.Signed,
		counts: make([]uint64, sides*(bins+1)),
	}
	if r != 0 {
		h.fixed = true
		h.hasRange = true
		h.rng = float64(r)
		h.scale = float64(bins) / float64(r)
		h.rngBits = math.Float32bits(r)
	}
	h.Reset()
	return h, nil
}

// Reset empties h, keeping its layout (and, in fixed mode, its range).
func (h *Histogram) Reset() {
	clear(h.counts)
	h.count, h.zeros, h.nan, h.posInf, h.negInf, h.clipped = 0, 0, 0, 0, 0, 0
	h.minKey, h.maxKey = math.MaxInt32, math.MinInt32
	if !h.fixed {
		h.hasRange, h.exp, h.rng, h.scale, h.rngBits = false, 0, 0, 0, 0
	}
}

// key maps float32 bits to an int32 whose order is the order of the floats
// (with -0 < +0); NaNs are never passed.
func key(b uint32) int32 {
	return int32(b) ^ (int32(b) >> 31 & 0x7fffffff)
}

// unkey inverts key.
func unkey(k int32) float32 {
	return math.Float32frombits(uint32(k ^ (k >> 31 & 0x7fffffff)))
}

// Add adds the values of x. It does not allocate. NaNs are counted (NaNs)
// and otherwise ignored; ±Inf are counted (Infs), ignored, and make Err
// return an error. In fixed mode, finite values with |v| above the range are
// counted in the outermost bin and in Clipped.
func (h *Histogram) Add(x []float32) {
	// side is the offset of the negative side's slots: bins+1 when signed,
	// else 0 (so that both signs share one side).
	side := 0
	if h.signed {
		side = h.bins + 1
	}
	for len(x) > 0 {
		n, mn, mx, zeros := fill(h.counts, x, h.scale, h.rngBits, side, h.minKey, h.maxKey)
		h.minKey, h.maxKey = mn, mx
		h.zeros += zeros
		h.count += uint64(n)
		if n == len(x) {
			return
		}
		// x[n] needs the slow path: NaN, Inf, a value beyond the current
		// streaming range, or one above a fixed range.
		v := x[n]
		x = x[n+1:]
		if !h.slow(v) {
			continue
		}
		b := math.Float32bits(v)
		k := key(b)
		h.minKey, h.maxKey = min(h.minKey, k), max(h.maxKey, k)
		h.count++
		if b&0x7fffffff > h.rngBits { // fixed mode, clipped: into the top slot
			h.counts[int(int32(b)>>31)&side+h.bins]++
			continue
		}
		idx := int(float64(abs32(v)) * h.scale)
		h.counts[int(int32(b)>>31)&side+idx]++
	}
}

// fill is Add's hot loop: it adds the leading values of x whose magnitude
// bits are at most rb and stops at the first other one, returning how many
// it added, the updated min/max keys and the number of zeros among them.
// The vector kernels (fillVector) take the whole vectors, fillGo the rest.
func fill(counts []uint64, x []float32, scale float64, rb uint32, side int, mn, mx int32) (int, int32, int32, uint64) {
	done, mn, mx, zeros := fillVector(counts, x, scale, rb, side, mn, mx)
	n, mn, mx, z := fillGo(counts, x[done:], scale, rb, side, mn, mx)
	return done + n, mn, mx, zeros + z
}

// fillGo is fill one value at a time: the definition the vector kernels
// follow.
func fillGo(counts []uint64, x []float32, scale float64, rb uint32, side int, mn, mx int32) (int, int32, int32, uint64) {
	var zeros uint64
	for i, v := range x {
		b := math.Float32bits(v)
		a := b & 0x7fffffff
		if a > rb {
			return i, mn, mx, zeros
		}
		k := int32(b) ^ (int32(b) >> 31 & 0x7fffffff)
		mn, mx = min(mn, k), max(mx, k)
		zeros += uint64((a - 1) >> 31)
		idx := int(float64(math.Float32frombits(a)) * scale)
		counts[int(int32(b)>>31)&side+idx]++
	}
	return len(x), mn, mx, zeros
}

// slow handles a value whose magnitude bits exceed h.rngBits. It returns
// false if the value is not finite (and counts it), true if Add should go on
// with it (after growing the streaming range when needed; in fixed mode the
// value is then counted as clipped by Add).
func (h *Histogram) slow(v float32) bool {
	switch {
	case v != v:
		h.nan++
		return false
	case math.IsInf(float64(v), 1):
		h.posInf++
		return false
	case math.IsInf(float64(v), -1):
		h.negInf++
		return false
	}
	if h.fixed {
		h.clipped++
		return true
	}
	h.growTo(ceilExp(abs32(v)))
	return true
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// ceilExp returns the smallest e with 2^e >= a, for finite a > 0.
func ceilExp(a float32) int {
	frac, e := math.Frexp(float64(a)) // a = frac * 2^e, frac in [0.5, 1)
	if frac == 0.5 {
		return e - 1
	}
	return e
}

// growTo widens the streaming range to 2^e (e greater than the current
// exponent, or any e when there is no range yet). Slot j moves to slot
// j>>d: floor(floor(y)/2^d) == floor(y/2^d) for the exact real y =
// |v|*bins/2^old, so every value lands where it would have had the range been
// 2^e from the start. The top slot (|v| == 2^old exactly) moves to bins>>d,
// which is exactly where |v|*bins/2^e puts it.
func (h *Histogram) growTo(e int) {
	if h.hasRange {
		d := uint(e - h.exp)
		if d == 0 {
			return
		}
		sides := len(h.counts) / (h.bins + 1)
		for s := 0; s < sides; s++ {
			shiftSlots(h.counts[s*(h.bins+1):(s+1)*(h.bins+1)], d)
		}
	}
	// With no range yet every value added so far is ±0, in slot 0, which
	// stays slot 0 under any range.
	h.hasRange = true
	h.exp = e
	h.rng = math.Ldexp(1, e)
	h.scale = float64(h.bins) * math.Ldexp(1, -e)
	r32 := float32(h.rng)
	if math.IsInf(float64(r32), 0) {
		h.rngBits = math.Float32bits(math.MaxFloat32)
	} else {
		h.rngBits = math.Float32bits(r32)
	}
}

// shiftSlots moves the count of slot j to slot j>>d, in place (d >= 1).
func shiftSlots(c []uint64, d uint) {
	for j := 1; j < len(c); j++ {
		if n := c[j]; n != 0 {
			c[j] = 0
			c[j>>d] += n
		}
	}
}

// Merge adds other's contents to h, which must have the same layout (bins,
// signedness, and in fixed mode the same range). The result is identical,
// byte for byte, to adding other's values to h with Add; Merge of any
// partition of the data, in any order or tree, gives the histogram of the
// whole data. other is not changed.
func (h *Histogram) Merge(other *Histogram) error {
	if h.bins != other.bins || h.signed != other.signed || h.fixed != other.fixed || (h.fixed && h.rng != other.rng) {
		return fmt.Errorf("%w: %s and %s", ErrMismatch, h.layout(), other.layout())
	}
	var d uint
	if !h.fixed && other.hasRange {
		switch {
		case !h.hasRange || other.exp > h.exp:
			h.growTo(other.exp)
		default:
			d = uint(h.exp - other.exp)
		}
	}
	n := h.bins + 1
	for s := 0; s < len(h.counts)/n; s++ {
		dst, src := h.counts[s*n:(s+1)*n], other.counts[s*n:(s+1)*n]
		if d == 0 {
			for j, c := range src {
				dst[j] += c
			}
			continue
		}
		for j, c := range src {
			dst[j>>d] += c
		}
	}
	h.count += other.count
	h.zeros += other.zeros
	h.nan += other.nan
	h.posInf += other.posInf
	h.negInf += other.negInf
	h.clipped += other.clipped
	h.minKey = min(h.minKey, other.minKey)
	h.maxKey = max(h.maxKey, other.maxKey)
	return nil
}

func (h *Histogram) layout() string {
	s := fmt.Sprintf("%d bins", h.NumBins())
	if h.signed {
		s += " signed"
	}
	if h.fixed {
		s += fmt.Sprintf(" fixed range %v", float32(h.rng))
	}
	return s
}

// Clone returns a deep copy of h.
func (h *Histogram) Clone() *Histogram {
	c := *h
	c.counts = append([]uint64(nil), h.counts...)
	return &c
}

// NumBins returns the number of bins Bins returns: over [0, R] for |x|, over
// [-R, R] for a signed histogram.
func (h *Histogram) NumBins() int {
	if h.signed {
		return 2 * h.bins
	}
	return h.bins
}

// Signed reports whether h is a signed histogram.
func (h *Histogram) Signed() bool { return h.signed }

// Fixed reports whether h has a fixed range (NewFixed).
func (h *Histogram) Fixed() bool { return h.fixed }

// Bins returns a copy of the bin counts. For a histogram of |x|, bin j counts
// values with j*w <= |x| < (j+1)*w, w = BinWidth(); the last bin also counts
// |x| == R (and, in fixed mode, |x| > R). For a signed histogram of 2n bins,
// bin n+j counts x >= +0 with j*w <= x < (j+1)*w and bin n-1-j counts x <= -0
// with j*w <= -x < (j+1)*w (the outermost bins are closed at ±R). Exact zeros
// are in bin 0 (|x|), bin n (+0) or bin n-1 (-0).
func (h *Histogram) Bins() []uint64 {
	return h.AppendBins(make([]uint64, 0, h.NumBins()))
}

// AppendBins appends the bin counts (as Bins returns them) to dst.
func (h *Histogram) AppendBins(dst []uint64) []uint64 {
	n := h.bins
	pos := h.counts[:n+1]
	if h.signed {
		neg := h.counts[n+1:]
		dst = append(dst, neg[n-1]+neg[n])
		for j := n - 2; j >= 0; j-- {
			dst = append(dst, neg[j])
		}
	}
	dst = append(dst, pos[:n-1]...)
	return append(dst, pos[n-1]+pos[n])
}

// Magnitudes returns what a calibrator works on: the bins of the histogram
// of |x| (a signed histogram folded), their width and the exact max|x|. It
// fails for a histogram with infinite values (wrapping ErrInf) or without
// finite values (ErrEmpty).
func (h *Histogram) Magnitudes() (bins []uint64, width float64, maxAbs float32, err error) {
	if err := h.Err(); err != nil {
		return nil, 0, 0, err
	}
	if h.Count() == 0 {
		return nil, 0, 0, ErrEmpty
	}
	a := h
	if h.Signed() {
		a = h.Abs()
	}
	return a.Bins(), a.BinWidth(), h.MaxAbs(), nil
}

// Abs returns the histogram of |x| that h implies: h itself (a copy) for an
// unsigned histogram; for a signed one of 2n bins, the n-bin histogram of |x|
// that adding the same values to New(n) (or NewFixed(n, R)) would give.
func (h *Histogram) Abs() *Histogram {
	c := h.Clone()
	if !h.signed {
		return c
	}
	n := h.bins + 1
	c.signed = false
	c.counts = c.counts[:n:n]
	for j, v := range h.counts[n:] {
		c.counts[j] += v
	}
	return c
}

// FoldSigned folds the counts of a signed histogram, in the order Bins
// returns them (2n bins from -R to R), into the n counts of the histogram
// of |x| over [0, R]: |x| bin j = bin n+j (x >= +0) + bin n-1-j (x <= -0).
// It is Abs for plain counts, e.g. those of the calibrator protocol. It
// panics if len(counts) is odd.
func FoldSigned(counts []uint64) []uint64 {
	if len(counts)%2 != 0 {
		panic(fmt.Sprintf("histogram: FoldSigned of %d counts: a signed histogram has an even number", len(counts)))
	}
	n := len(counts) / 2
	abs := make([]uint64, n)
	for j := range abs {
		abs[j] = counts[n+j] + counts[n-1-j]
	}
	return abs
}

// Range returns R: the histogram covers [0, R] (|x|) or [-R, R] (signed).
// In streaming mode R is the smallest power of two >= MaxAbs, and 0 while
// every value added is ±0 (or none was).
func (h *Histogram) Range() float64 { return h.rng }

// BinWidth returns the width of one bin, R/bins per side (0 with no range).
func (h *Histogram) BinWidth() float64 {
	if !h.hasRange {
		return 0
	}
	return h.rng / float64(h.bins)
}

// Exp returns e with Range() == 2^e, and whether there is such a range
// (streaming mode after a non-zero value); false in fixed mode.
func (h *Histogram) Exp() (int, bool) { return h.exp, h.hasRange && !h.fixed }

// Count returns the number of finite values added.
func (h *Histogram) Count() uint64 { return h.count }

// Zeros returns the number of values equal to zero (+0 or -0).
func (h *Histogram) Zeros() uint64 { return h.zeros }

// NaNs returns the number of NaN values added (not otherwise counted).
func (h *Histogram) NaNs() uint64 { return h.nan }

// Infs returns the number of +Inf and -Inf values added (not otherwise
// counted).
func (h *Histogram) Infs() (pos, neg uint64) { return h.posInf, h.negInf }

// Clipped returns, in fixed mode, the number of finite values with |x|
// above the range (counted in the outermost bin); always 0 when streaming.
func (h *Histogram) Clipped() uint64 { return h.clipped }

// Min returns the smallest finite value added (-0 counts as below +0), or 0
// if there was none.
func (h *Histogram) Min() float32 {
	if h.count == 0 {
		return 0
	}
	return unkey(h.minKey)
}

// Max returns the largest finite value added, or 0 if there was none.
func (h *Histogram) Max() float32 {
	if h.count == 0 {
		return 0
	}
	return unkey(h.maxKey)
}

// MaxAbs returns the largest |x| over the finite values added, or 0 if there
// was none.
func (h *Histogram) MaxAbs() float32 {
	return max(abs32(h.Min()), abs32(h.Max()))
}

// Err returns an error wrapping ErrInf if infinite values were added, nil
// otherwise. NaNs are not an error (see NaNs). The host prefixes the tensor
// name: fmt.Errorf("tensor %q: %w", name, err).
func (h *Histogram) Err() error {
	if h.posInf == 0 && h.negInf == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d +Inf and %d -Inf among %d values", ErrInf, h.posInf, h.negInf, h.count+h.nan+h.posInf+h.negInf)
}

// Equal reports whether h and o have the same layout and identical contents
// (what MarshalBinary would write).
func (h *Histogram) Equal(o *Histogram) bool {
	if h.bins != o.bins || h.signed != o.signed || h.fixed != o.fixed || h.hasRange != o.hasRange ||
		h.exp != o.exp || h.rng != o.rng || h.count != o.count || h.zeros != o.zeros || h.nan != o.nan ||
		h.posInf != o.posInf || h.negInf != o.negInf || h.clipped != o.clipped ||
		h.minKey != o.minKey || h.maxKey != o.maxKey {
		return false
	}
	for i, c := range h.counts {
		if o.counts[i] != c {
			return false
		}
	}
	return true
}

// String summarizes h on one line.
func (h *Histogram) String() string {
	return fmt.Sprintf("histogram{%s, range %g, count %d, zeros %d, min %v, max %v, NaN %d, +Inf %d, -Inf %d}",
		h.layout(), h.rng, h.count, h.zeros, h.Min(), h.Max(), h.nan, h.posInf, h.negInf)
}
