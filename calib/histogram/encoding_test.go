package histogram

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestEncodingRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	fixed, _ := NewFixed(100, 0.5)
	fixedSigned, _ := NewConfig(Config{Bins: 10, Signed: true, Range: 3})
	for _, h := range []*Histogram{New(0), New(1), NewSigned(6), fixed, fixedSigned} {
		for step := 0; step < 3; step++ {
			b := encode(t, h)
			var g Histogram
			if err := g.UnmarshalBinary(b); err != nil {
				t.Fatalf("%v: %v", h, err)
			}
			if !g.Equal(h) || !bytes.Equal(encode(t, &g), b) {
				t.Fatalf("round trip of %v gave %v", h, &g)
			}
			// The decoded histogram keeps working like the original.
			x := testData(r, 500)
			h.Add(x)
			g.Add(x)
			if !g.Equal(h) {
				t.Fatalf("after Add: decoded %v, original %v", &g, h)
			}
			if step == 1 {
				h.Add([]float32{nan, posInf})
				g.Add([]float32{nan, posInf})
			}
		}
	}
}

func TestEncodingErrors(t *testing.T) {
	h := New(4)
	h.Add([]float32{0.5, -1, 0})
	good := encode(t, h)
	le := binary.LittleEndian
	mutate := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	for name, b := range map[string][]byte{
		"empty":             nil,
		"truncated":         good[:len(good)-1],
		"trailing byte":     append(bytes.Clone(good), 0),
		"magic":             mutate(func(b []byte) { b[0] = 'X' }),
		"version":           mutate(func(b []byte) { b[4] = 2 }),
		"flags":             mutate(func(b []byte) { b[5] |= 0x80 }),
		"zero bins":         mutate(func(b []byte) { le.PutUint32(b[8:], 0) }),
		"exponent":          mutate(func(b []byte) { le.PutUint32(b[12:], 5) }),
		"range":             mutate(func(b []byte) { le.PutUint64(b[16:], math.Float64bits(3)) }),
		"count":             mutate(func(b []byte) { le.PutUint64(b[24:], 4) }),
		"zeros":             mutate(func(b []byte) { le.PutUint64(b[32:], 9) }),
		"clipped":           mutate(func(b []byte) { le.PutUint64(b[64:], 1) }),
		"min above max":     mutate(func(b []byte) { le.PutUint32(b[72:], math.Float32bits(2)) }),
		"NaN max":           mutate(func(b []byte) { le.PutUint32(b[76:], 0x7fc00000) }),
		"bin sum":           mutate(func(b []byte) { b[headerSize]++ }),
		"range without max": mutate(func(b []byte) { le.PutUint32(b[76:], 0); le.PutUint32(b[72:], 0) }),
	} {
		var g Histogram
		if err := g.UnmarshalBinary(b); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}

// FuzzUnmarshal: decoding never panics, and whatever decodes re-encodes to
// the same bytes and stays usable.
func FuzzUnmarshal(f *testing.F) {
	for _, h := range []*Histogram{New(4), NewSigned(4)} {
		h.Add([]float32{0.5, -1, 0, 3})
		b, _ := h.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Histogram
		if h.UnmarshalBinary(b) != nil {
			return
		}
		if got := encode(t, &h); !bytes.Equal(got, b) {
			t.Fatalf("re-encoding differs")
		}
		h.Add([]float32{1, -2, 0.25})
		_ = h.Bins()
	})
}
