package qgemm

import (
	"fmt"
	"math/rand"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/int8cal/int8cal/core/gemm"
)

// TestTune (QGEMM_TUNE=1) prints best-of and median GOPS per shape for the
// int8 implementations (packed path) and core/gemm's float32 ones (packed,
// no epilogue), and the ratio of the best of each. The machine is shared, so
// the best of many short runs is the stable number. QGEMM_TUNE_MUL=1 adds
// the Mul (B row-major) path.
func TestTune(t *testing.T) {
	if os.Getenv("QGEMM_TUNE") == "" {
		t.Skip("set QGEMM_TUNE=1")
	}
	r := rand.New(rand.NewSource(1))
	measure := func(f func(), ops float64) (best, med float64) {
		reps := max(1, int(2e6/ops))
		var ts []float64
		deadline := time.Now().Add(300 * time.Millisecond)
		for len(ts) < 5 || (time.Now().Before(deadline) && len(ts) < 3000) {
			t0 := time.Now()
			for i := 0; i < reps; i++ {
				f()
			}
			ts = append(ts, time.Since(t0).Seconds()/float64(reps))
		}
		sort.Float64s(ts)
		return ops / ts[0] / 1e9, ops / ts[len(ts)/2] / 1e9
	}
	for _, s := range benchShapes {
		m, n, k := s.m, s.n, s.k
		a, bm := make([]int8, m*k), make([]int8, k*n)
		fill(r, a, valRandom, true)
		fill(r, bm, valRandom, false)
		c := make([]int32, m*n)
		ops := 2 * float64(m) * float64(n) * float64(k)
		line := fmt.Sprintf("%-16s", s.name)
		var bestI, bestF float64
		for _, im := range Available() {
			withImpl(t, im, func() {
				pa := PackA(m, k, a, k)
				buf := PackB(k, n, bm, n)
				b, md := measure(func() { pa.MulPackedBuf(n, buf, c, n) }, ops)
				line += fmt.Sprintf(" i8-%v %6.1f (%5.1f)", im, b, md)
				bestI = max(bestI, b)
				if os.Getenv("QGEMM_TUNE_MUL") != "" {
					b, md := measure(func() { pa.Mul(n, bm, n, c, n) }, ops)
					line += fmt.Sprintf(" i8-%v/mul %6.1f (%5.1f)", im, b, md)
				}
			})
		}
		af, bf := toF32(a), toF32(bm)
		cf := make([]float32, m*n)
		for _, im := range gemm.Available() {
			prev, err := gemm.SetImpl(im)
			if err != nil {
				continue
			}
			pa := gemm.PackA(m, k, af, k)
			buf := gemm.MakePackedBBuffer(k, n)
			gemm.PackBInto(buf, k, n, bf, n, false)
			b, md := measure(func() { pa.MulPackedBuf(n, buf, cf, n, false) }, ops)
			gemm.SetImpl(prev)
			line += fmt.Sprintf(" f32-%v %6.1f (%5.1f)", im, b, md)
			bestF = max(bestF, b)
		}
		fmt.Printf("%s  best i8/f32 %.2f×\n", line, bestI/bestF)
	}
}
