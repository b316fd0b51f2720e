package legacy_test

import (
	"fmt"
	"log"

	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/calib/legacy"
)

func Example() {
	// A bulk uniform over (0, 2] and two outliers. The uniform tail is not
	// exponential, so the regression overshoots the bulk's end a little.
	h := histogram.New(histogram.DefaultBins)
	x := make([]float32, 100000)
	for i := range x {
		x[i] = float32(i+1) / 50000
	}
	h.Add(x)
	h.Add([]float32{60, -50})

	for _, o := range []legacy.Options{legacy.BERTDemo, {Quantile: 1, RegressionCutoff: 1}, {Quantile: 0.9, RegressionCutoff: 0.5}} {
		amax, d, err := legacy.Amax(h, o)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("quantile %v, cutoff %v: amax %.3f by %s\n", o.Quantile, o.RegressionCutoff, amax, d.Method)
	}
	_, _, err := legacy.Amax(h, legacy.Options{Quantile: 2})
	fmt.Println(err)
	// Output:
	// quantile 0.9999, cutoff 1: amax 2.000 by quantile
	// quantile 1, cutoff 1: amax 60.000 by quantile
	// quantile 0.9, cutoff 0.5: amax 2.786 by regression
	// legacy: quantile must be in [0,1], got 2
}
