package gemm

import (
	"fmt"
	"math/rand"
	"os"
	"sort"
	"testing"
	"time"
)

// TestTune (GEMM_TUNE=1) prints best-of and median GFLOP/s per shape; the
// machine is shared so the best of many short runs is the stable number.
func TestTune(t *testing.T) {
	if os.Getenv("GEMM_TUNE") == "" {
		t.Skip("set GEMM_TUNE=1")
	}
	r := rand.New(rand.NewSource(1))
	filter := os.Getenv("GEMM_TUNE_SHAPE")
	for _, s := range benchShapes {
		if filter != "" && filter != s.name {
			continue
		}
		m, n, k := s.m, s.n, s.k
		a, bm := randSlice(r, m*k), randSlice(r, k*n)
		c := make([]float32, m*n)
		flops := 2 * float64(m) * float64(n) * float64(k)
		line := fmt.Sprintf("%-18s", s.name)
		for _, im := range Available() {
			for _, path := range []string{"packed", "sgemm"} {
				withImpl(t, im, func() {
					var f func()
					switch {
					case path == "sgemm":
						f = func() { Sgemm(m, n, k, a, k, bm, n, c, n, false) }
					case s.conv:
						pa := PackA(m, k, a, k)
						buf := MakePackedBBuffer(k, n)
						PackBInto(buf, k, n, bm, n, false)
						ep := &Epilogue{RowBias: randSlice(r, m), ReLU: true}
						f = func() { pa.MulPackedBufEx(n, buf, c, n, false, ep, 1) }
					default:
						pb := PackB(k, n, bm, n, false)
						ep := &Epilogue{ColBias: randSlice(r, n)}
						f = func() { MulPackedBEx(m, a, k, pb, c, n, false, ep, 1) }
					}
					reps := max(1, int(2e6/flops))
					if im == ImplGo {
						reps = 1
					}
					var ts []float64
					deadline := time.Now().Add(150 * time.Millisecond)
					for len(ts) < 5 || (time.Now().Before(deadline) && len(ts) < 2000) {
						t0 := time.Now()
						for i := 0; i < reps; i++ {
							f()
						}
						ts = append(ts, time.Since(t0).Seconds()/float64(reps))
					}
					sort.Float64s(ts)
					line += fmt.Sprintf(" %s/%s %6.1f (%5.1f)", im, path, flops/ts[0]/1e9, flops/ts[len(ts)/2]/1e9)
				})
			}
		}
		fmt.Println(line)
	}
}
