package parallel

import (
	"sync/atomic"
	"testing"
)

func TestForCoversEveryIndexOnce(t *testing.T) {
	for _, tc := range []struct{ n, workers, minChunk int }{
		{0, 4, 1}, {1, 4, 1}, {7, 3, 1}, {100, 8, 10}, {5, 1, 1}, {1000, 16, 1},
	} {
		hits := make([]int32, tc.n)
		For(tc.n, tc.workers, tc.minChunk, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&hits[i], 1)
			}
		})
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("For(%d,%d,%d): index %d visited %d times", tc.n, tc.workers, tc.minChunk, i, h)
			}
		}
	}
}

func TestEachGivesDistinctWorkers(t *testing.T) {
	seen := make([]int32, 4)
	hits := make([]int32, 10)
	Each(10, 4, func(w, lo, hi int) {
		atomic.AddInt32(&seen[w], 1)
		for i := lo; i < hi; i++ {
			atomic.AddInt32(&hits[i], 1)
		}
	})
	for w, s := range seen {
		if s != 1 {
			t.Errorf("worker %d ran %d times", w, s)
		}
	}
	for i, h := range hits {
		if h != 1 {
			t.Errorf("index %d visited %d times", i, h)
		}
	}
}
