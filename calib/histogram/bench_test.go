package histogram

import (
	"math"
	"math/rand/v2"
	"testing"
)

// benchData returns n values of the named kind, from a fixed seed.
func benchData(kind string, n int) []float32 {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n)
	for i := range x {
		switch kind {
		case "normal":
			x[i] = float32(r.NormFloat64())
		case "relu":
			x[i] = float32(max(0, r.NormFloat64()))
		case "mnist": // about 80% zeros, pixels k/255
			if r.Float64() < 0.8 {
				x[i] = 0
			} else {
				x[i] = float32(r.IntN(256)) / 255
			}
		case "softmax":
			x[i] = float32(math.Exp(-20 * r.Float64()))
		}
	}
	return x
}

// BenchmarkAdd reports Add's throughput in MB/s of float32 input, for one
// 256 KiB batch of one tensor, over data of several shapes: normal (dense),
// relu (half zeros), mnist (80% zeros, pixels/255), softmax (mostly tiny),
// with each implementation (Available).
func BenchmarkAdd(b *testing.B) {
	const n = 1 << 16
	for _, kind := range []string{"normal", "relu", "mnist", "softmax"} {
		for _, signed := range []bool{false, true} {
			name := kind
			if signed {
				name += "/signed"
			}
			for _, i := range Available() {
				b.Run(name+"/"+i.String(), func(b *testing.B) {
					prev, _ := SetImpl(i)
					defer SetImpl(prev)
					x := benchData(kind, n)
					h := New(0)
					if signed {
						h = NewSigned(0)
					}
					h.Add(x)
					b.SetBytes(4 * n)
					b.ResetTimer()
					for b.Loop() {
						h.Add(x)
					}
				})
			}
		}
	}
}

func BenchmarkMerge(b *testing.B) {
	x := benchData("normal", 1<<16)
	small, big := New(0), New(0)
	small.Add(x[:100])
	big.Add(x)
	for b.Loop() {
		h := big.Clone()
		if err := h.Merge(small); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBounds reports Bounds's throughput (the min/max statistics'
// scan) with each implementation.
func BenchmarkBounds(b *testing.B) {
	x := benchData("normal", 1<<16)
	for _, i := range Available() {
		b.Run(i.String(), func(b *testing.B) {
			prev, _ := SetImpl(i)
			defer SetImpl(prev)
			b.SetBytes(4 << 16)
			for b.Loop() {
				Bounds(x)
			}
		})
	}
}
