package histogram

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The binary form (MarshalBinary), little-endian:
//
//	offset size
//	0      4    magic "I8HG"
//	4      1    version (1)
//	5      1    flags: 1 signed, 2 fixed range, 4 has a range
//	6      2    zero
//	8      4    bins per side (uint32)
//	12     4    exponent e, R = 2^e when streaming with a range (int32)
//	16     8    R (float64 bits)
//	24     48   count, zeros, NaNs, +Inf, -Inf, clipped (6 x uint64)
//	72     8    min and max keys (2 x int32, order-preserving float32 keys)
//	80     8*k  slot counts, k = sides*(bins+1) (uint64 each)
//
// Equal histograms encode to identical bytes, so the encoding is a valid
// fingerprint for the determinism guarantees of the package doc.
const (
	magic      = "I8HG"
	version    = 1
	headerSize = 80
)

const (
	flagSigned   = 1
	flagFixed    = 2
	flagHasRange = 4
)

// ErrFormat is wrapped by UnmarshalBinary for malformed input.
var ErrFormat = errors.New("histogram: malformed encoding")

// MarshalBinary encodes h (encoding.BinaryMarshaler).
func (h *Histogram) MarshalBinary() ([]byte, error) {
	return h.AppendBinary(make([]byte, 0, headerSize+8*len(h.counts)))
}

// AppendBinary appends the encoding of h to b (encoding.BinaryAppender).
func (h *Histogram) AppendBinary(b []byte) ([]byte, error) {
	var flags byte
	if h.signed {
		flags |= flagSigned
	}
	if h.fixed {
		flags |= flagFixed
	}
	if h.hasRange {
		flags |= flagHasRange
	}
	le := binary.LittleEndian
	b = append(b, magic...)
	b = append(b, version, flags, 0, 0)
	b = le.AppendUint32(b, uint32(h.bins))
	b = le.AppendUint32(b, uint32(int32(h.exp)))
	b = le.AppendUint64(b, math.Float64bits(h.rng))
	for _, v := range [...]uint64{h.count, h.zeros, h.nan, h.posInf, h.negInf, h.clipped} {
		b = le.AppendUint64(b, v)
	}
	b = le.AppendUint32(b, uint32(h.minKey))
	b = le.AppendUint32(b, uint32(h.maxKey))
	for _, c := range h.counts {
		b = le.AppendUint64(b, c)
	}
	return b, nil
}

// UnmarshalBinary decodes data written by MarshalBinary into h, replacing
// its layout and contents (encoding.BinaryUnmarshaler). It checks the
// encoding's consistency and wraps ErrFormat when it does not hold.
func (h *Histogram) UnmarshalBinary(data []byte) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, a...))
	}
	if len(data) < headerSize {
		return bad("%d bytes, the header alone takes %d", len(data), headerSize)
	}
	if string(data[:4]) != magic {
		return bad("magic %q, want %q", data[:4], magic)
	}
	if data[4] != version {
		return bad("version %d, want %d", data[4], version)
	}
	flags := data[5]
	if flags&^(flagSigned|flagFixed|flagHasRange) != 0 || data[6] != 0 || data[7] != 0 {
		return bad("unknown flags %#x %#x %#x", flags, data[6], data[7])
	}
	le := binary.LittleEndian
	bins := le.Uint32(data[8:])
	if bins < 1 || bins > MaxBins {
		return bad("%d bins per side", bins)
	}
	signed, fixed, hasRange := flags&flagSigned != 0, flags&flagFixed != 0, flags&flagHasRange != 0
	exp := int(int32(le.Uint32(data[12:])))
	rng := math.Float64frombits(le.Uint64(data[16:]))
	sides := 1
	if signed {
		sides = 2
	}
	nslots := sides * (int(bins) + 1)
	if len(data) != headerSize+8*nslots {
		return bad("%d bytes, want %d for %d bins per side", len(data), headerSize+8*nslots, bins)
	}
	var c Config
	c.Bins, c.Signed = int(bins)*sides, signed
	switch {
	case fixed:
		r := float32(rng)
		if !hasRange || exp != 0 || float64(r) != rng || !(r > 0 && r <= math.MaxFloat32) {
			return bad("fixed range %v (exponent %d)", rng, exp)
		}
		c.Range = r
	case hasRange:
		if exp < -149 || exp > 128 || rng != math.Ldexp(1, exp) {
			return bad("range %v with exponent %d", rng, exp)
		}
	default:
		if exp != 0 || rng != 0 {
			return bad("range %v (exponent %d) without the has-range flag", rng, exp)
		}
	}
	n, err := NewConfig(c)
	if err != nil {
		return bad("%v", err)
	}
	if hasRange && !fixed {
		n.growTo(exp)
	}
	var stats [6]uint64
	for i := range stats {
		stats[i] = le.Uint64(data[24+8*i:])
	}
	n.count, n.zeros, n.nan, n.posInf, n.negInf, n.clipped = stats[0], stats[1], stats[2], stats[3], stats[4], stats[5]
	n.minKey = int32(le.Uint32(data[72:]))
	n.maxKey = int32(le.Uint32(data[76:]))
	var sum uint64
	for i := range n.counts {
		v := le.Uint64(data[headerSize+8*i:])
		n.counts[i] = v
		sum += v
	}
	switch {
	case sum != n.count:
		return bad("bins sum to %d, count is %d", sum, n.count)
	case n.zeros > n.count || n.clipped > n.count:
		return bad("%d zeros and %d clipped among %d values", n.zeros, n.clipped, n.count)
	case !fixed && n.clipped != 0:
		return bad("%d clipped values in streaming mode", n.clipped)
	case n.count == 0 && (n.minKey != math.MaxInt32 || n.maxKey != math.MinInt32):
		return bad("min/max keys %d/%d without values", n.minKey, n.maxKey)
	case n.count != 0 && (n.minKey > n.maxKey || isNaNKey(n.minKey) || isNaNKey(n.maxKey)):
		return bad("min/max keys %d/%d", n.minKey, n.maxKey)
	case !hasRange && n.zeros != n.count:
		return bad("%d non-zero values without a range", n.count-n.zeros)
	case hasRange && !fixed && (n.MaxAbs() == 0 || ceilExp(n.MaxAbs()) != exp):
		return bad("range 2^%d does not fit max |x| %v", exp, n.MaxAbs())
	}
	*h = *n
	return nil
}

func isNaNKey(k int32) bool {
	v := unkey(k)
	return v != v || math.IsInf(float64(v), 0)
}
