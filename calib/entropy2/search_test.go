package entropy2

import (
	"math"
	"math/rand/v2"
	"testing"
)

// referenceDivergence computes the divergence curve straight from the
// definition in the package doc, one candidate at a time in O(i), without
// any of search's prefix-sum algebra. It is the oracle for search.
func referenceDivergence(bins []uint64, start, levels int) (int, []float64) {
	n := len(bins)
	lo := min(start, n)
	var div []float64
	for i := lo; i <= n; i++ {
		p := make([]float64, i)
		for j := range p {
			p[j] = float64(bins[j])
		}
		for _, c := range bins[i:] {
			p[i-1] += float64(c)
		}
		// Levels: bin j < i belongs to level floor(levels*j/i).
		sum := make([]float64, levels)
		cnt := make([]float64, levels)
		for j := 0; j < i; j++ {
			L := levels * j / i
			sum[L] += float64(bins[j])
			if bins[j] != 0 {
				cnt[L]++
			}
		}
		q := make([]float64, i)
		for j := range q {
			if bins[j] != 0 {
				L := levels * j / i
				q[j] = sum[L] / cnt[L]
			}
		}
		var sp, sq float64
		for j := range p {
			sp += p[j]
			sq += q[j]
		}
		d := 0.0
		for j := range p {
			if p[j] == 0 {
				continue
			}
			if q[j] == 0 {
				d = math.Inf(1)
				break
			}
			pj, qj := p[j]/sp, q[j]/sq
			d += pj * math.Log(pj/qj)
		}
		div = append(div, d)
	}
	return lo, div
}

func randomBins(r *rand.Rand, n int, kind int) []uint64 {
	b := make([]uint64, n)
	switch kind {
	case 0: // dense, decaying (a ReLU-like |x| histogram)
		for j := range b {
			b[j] = uint64(1e6 * math.Exp(-float64(j)/float64(n)*8) * (0.5 + r.Float64()))
		}
	case 1: // sparse: every 8th bin, like pixel values k/255
		for j := 0; j < n; j += 8 {
			b[j] = uint64(r.IntN(5000))
		}
	case 2: // random holes and a far outlier
		for j := range b {
			if r.IntN(3) == 0 {
				b[j] = uint64(r.IntN(100))
			}
		}
		b[n-1] = 1
	case 3: // tiny counts
		for j := 0; j < n/3; j++ {
			b[j] = uint64(r.IntN(3))
		}
		b[r.IntN(n)]++
	}
	return b
}

func TestSearchMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for _, tc := range []struct{ n, start, levels int }{
		{2048, 128, 128},
		{512, 128, 128},
		{300, 128, 64},
		{100, 128, 128}, // fewer bins than start: one candidate
		{257, 10, 7},
		{64, 1, 3},
	} {
		for kind := 0; kind < 4; kind++ {
			bins := randomBins(r, tc.n, kind)
			var total uint64
			for _, c := range bins {
				total += c
			}
			if total == 0 {
				bins[0] = 1
			}
			lo, got := search(bins, tc.start, tc.levels)
			rlo, want := referenceDivergence(bins, tc.start, tc.levels)
			if lo != rlo || len(got) != len(want) {
				t.Fatalf("%+v kind %d: candidates from %d (%d), want from %d (%d)", tc, kind, lo, len(got), rlo, len(want))
			}
			for k := range got {
				g, w := got[k], want[k]
				if math.IsInf(w, 1) != math.IsInf(g, 1) || math.Abs(g-w) > 1e-9*(1+math.Abs(w)) {
					t.Fatalf("%+v kind %d: D(i=%d) = %v, reference %v", tc, kind, lo+k, g, w)
				}
			}
			if g, w := pick(lo, got, false), pick(rlo, want, false); g != w {
				t.Errorf("%+v kind %d: best %d, reference %d", tc, kind, g, w)
			}
		}
	}
}

func TestPick(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		div         []float64
		first, last int
	}{
		{[]float64{3, 1, 2, 1, 5}, 1, 3},
		{[]float64{inf, inf, 0, 0}, 2, 3},
		{[]float64{0.5}, 0, 0},
		{[]float64{inf, 2, inf}, 1, 1},
	} {
		if g := pick(10, tc.div, false); g != 10+tc.first {
			t.Errorf("pick(%v, first) = %d, want %d", tc.div, g, 10+tc.first)
		}
		if g := pick(10, tc.div, true); g != 10+tc.last {
			t.Errorf("pick(%v, last) = %d, want %d", tc.div, g, 10+tc.last)
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		kind int
	}{{"dense", 0}, {"sparse", 1}, {"holes", 2}} {
		bins := randomBins(r, 2048, tc.kind)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				search(bins, DefaultStart, DefaultLevels)
			}
		})
	}
}
