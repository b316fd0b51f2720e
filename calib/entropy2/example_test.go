package entropy2_test

import (
	"fmt"
	"log"
	"math"

	"github.com/int8cal/int8cal/calib/entropy2"
	"github.com/int8cal/int8cal/calib/histogram"
)

// Calibrate one tensor: collect its histogram batch by batch, then search
// the threshold and write the TensorRT cache entry (amax/127 as float32
// bits).
func Example() {
	h := histogram.New(histogram.DefaultBins)
	batch := make([]float32, 0, 1000)
	for b := 0; b < 4; b++ {
		batch = batch[:0]
		for i := 0; i < 1000; i++ {
			// A decaying activation with a few large outliers.
			v := float32(math.Exp(-float64((i*7919+b)%1000)/100)) * 3
			if i%500 == 0 {
				v = 12
			}
			batch = append(batch, v)
		}
		h.Add(batch)
	}
	amax, diag, err := entropy2.Amax(h, entropy2.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("max|x| %v, range %v, cut %d of %d bins\n", h.MaxAbs(), h.Range(), diag.Best, diag.Bins)
	fmt.Printf("amax %.4f, D %.4f\n", amax, diag.Divergence[diag.Best-diag.Start])
	fmt.Printf("activation: %08x\n", math.Float32bits(amax/127))
	// Output:
	// max|x| 12, range 16, cut 381 of 2048 bins
	// amax 2.9805, D 0.0200
	// activation: 3cc04081
}
