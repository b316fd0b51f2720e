package entropy_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/int8cal/int8cal/calib/entropy"
	"github.com/int8cal/int8cal/calib/entropy2"
	"github.com/int8cal/int8cal/calib/histogram"
)

func Example() {
	// A ReLU output: half exact zeros, half a Gaussian's positive side.
	// With the zeros in P and Q (the talk's pseudocode read literally) the
	// spike at 0 dominates both distributions and the cut falls at 2σ;
	// with bin 0 replaced by bin 1 (entropy2's rule) the range covers the
	// tail. (The histogram spans [0, 8], so a cut may lie past max|x|.)
	r := rand.New(rand.NewPCG(2, 2))
	x := make([]float32, 500000)
	for i := range x {
		x[i] = float32(max(0, r.NormFloat64()))
	}
	h := histogram.New(histogram.DefaultBins)
	h.Add(x)

	v1, d, err := entropy.Amax(h, entropy.Options{KeepZeroBin: true})
	if err != nil {
		log.Fatal(err)
	}
	v1z, _, _ := entropy.Amax(h, entropy.Options{})
	v2, _, _ := entropy2.Amax(h, entropy2.Options{})
	fmt.Printf("max|x| %.2f\n", h.MaxAbs())
	fmt.Printf("EntropyCalibration, bin 0 kept: amax %.2f (cut %d of %d candidates)\n", v1, d.Best, len(d.Divergence)-1)
	fmt.Printf("EntropyCalibration, bin 0 replaced (default): amax %.2f\n", v1z)
	fmt.Printf("EntropyCalibration2: amax %.2f\n", v2)
	// Output:
	// max|x| 4.85
	// EntropyCalibration, bin 0 kept: amax 2.00 (cut 512 of 1920 candidates)
	// EntropyCalibration, bin 0 replaced (default): amax 4.95
	// EntropyCalibration2: amax 4.95
}
