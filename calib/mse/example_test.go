package mse_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/calib/mse"
)

func Example() {
	// A Laplace-distributed tensor (scale 1) of a million values: the
	// MSE-optimal range clips its tail near 10 (ACIQ's analytical optimum
	// for 8 bits is 9.89, calib/aciq).
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 1000000)
	for i := range x {
		x[i] = float32(r.ExpFloat64())
		if r.IntN(2) == 0 {
			x[i] = -x[i]
		}
	}
	h := histogram.New(histogram.DefaultBins)
	h.Add(x)
	amax, d, err := mse.Amax(h, mse.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("max|x| %.1f, amax %.2f, MSE %.2e (no clipping: %.2e)\n", h.MaxAbs(), amax, d.MSE[d.Best-d.Start], d.MSE[len(d.MSE)-1])
	// Output:
	// max|x| 17.4, amax 10.41, MSE 7.12e-04 (no clipping: 1.57e-03)
}
