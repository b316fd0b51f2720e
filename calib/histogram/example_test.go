package histogram_test

import (
	"fmt"
	"log"
	"math"

	"github.com/int8cal/int8cal/calib/histogram"
)

// Collect one tensor's statistics over batches; the range grows by exact
// doublings, so the result does not depend on how the values were batched.
func Example() {
	h := histogram.New(8) // 2048 (histogram.DefaultBins) in practice
	h.Add([]float32{0, 0.1, -0.5, 1})
	fmt.Println(h.Range(), h.Bins())
	h.Add([]float32{3, -0.0})
	fmt.Println(h.Range(), h.Bins())
	fmt.Println(h.Count(), h.Zeros(), h.Min(), h.Max(), h.MaxAbs())

	// The same values in one batch: the identical histogram.
	one := histogram.New(8)
	one.Add([]float32{3, 0.1, 0, -0.0, 1, -0.5})
	fmt.Println(one.Equal(h))
	// Output:
	// 1 [2 0 0 0 1 0 0 1]
	// 4 [3 1 1 0 0 0 1 0]
	// 6 2 -0.5 3 3
	// true
}

// Parallel collection: one histogram per worker, merged in any order.
func ExampleHistogram_Merge() {
	a, b := histogram.New(8), histogram.New(8)
	a.Add([]float32{0.25, 0.5})
	b.Add([]float32{6, -1})
	if err := a.Merge(b); err != nil {
		log.Fatal(err)
	}
	seq := histogram.New(8)
	seq.Add([]float32{6, 0.25, -1, 0.5})
	fmt.Println(a.Range(), a.Bins(), a.Equal(seq))
	// Output:
	// 8 [2 1 0 0 0 0 1 0] true
}

// Infinities are reported, NaNs counted and ignored.
func ExampleHistogram_Err() {
	h := histogram.New(0)
	h.Add([]float32{1, float32(math.Inf(1)), float32(math.NaN())})
	if err := h.Err(); err != nil {
		fmt.Printf("tensor %q: %v\n", "conv1", err)
	}
	fmt.Println(h.Count(), h.NaNs())
	// Output:
	// tensor "conv1": histogram: infinite values: 1 +Inf and 0 -Inf among 3 values
	// 1 1
}
