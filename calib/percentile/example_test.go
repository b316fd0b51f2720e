package percentile_test

import (
	"fmt"
	"log"

	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/calib/percentile"
)

func Example() {
	// 100,000 values evenly over (0, 2] and one outlier at 50.
	h := histogram.New(histogram.DefaultBins)
	x := make([]float32, 100000)
	for i := range x {
		x[i] = float32(i+1) / 50000
	}
	h.Add(x)
	h.Add([]float32{-50})

	for _, p := range []float64{99.99, 99.9, 100} {
		amax, err := percentile.Amax(h, percentile.Options{Percentile: p})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("percentile %v: amax %.4f\n", p, amax)
	}
	// Output:
	// percentile 99.99: amax 1.9998
	// percentile 99.9: amax 1.9980
	// percentile 100: amax 50.0000
}
