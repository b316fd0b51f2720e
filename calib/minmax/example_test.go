package minmax_test

import (
	"fmt"
	"log"
	"math"

	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/calib/minmax"
)

func Example() {
	h := histogram.New(histogram.DefaultBins)
	h.Add([]float32{0.25, -0.5, 1})
	h.Add([]float32{-0.75, 0})
	amax, err := minmax.Amax(h)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("amax %v, cache entry %08x\n", amax, math.Float32bits(amax/127))
	// Output:
	// amax 1, cache entry 3c010204
}
