package aciq_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/int8cal/int8cal/calib/aciq"
	"github.com/int8cal/int8cal/calib/histogram"
)

func Example() {
	// A million values of a Laplace distribution of scale 0.5: ACIQ's
	// Laplace clipping is 9.89·0.5 ≈ 4.9, below the sample's max; the
	// Gaussian prior, fitted to the same data (σ = 0.5·√2), clips at
	// 3.92σ ≈ 2.8.
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 1000000)
	for i := range x {
		x[i] = float32(0.5 * r.ExpFloat64())
		if r.IntN(2) == 0 {
			x[i] = -x[i]
		}
	}
	h := histogram.New(histogram.DefaultBins)
	h.Add(x)
	for _, p := range []aciq.Prior{aciq.Laplace, aciq.Gauss} {
		amax, d, err := aciq.Amax(h, aciq.Options{Prior: p})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: scale %.3f, amax %.2f (max|x| %.2f)\n", p, d.Scale, amax, h.MaxAbs())
	}
	// Output:
	// laplace: scale 0.501, amax 4.95 (max|x| 8.71)
	// gauss: scale 0.708, amax 2.78 (max|x| 8.71)
}
