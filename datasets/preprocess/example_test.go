package preprocess_test

import (
	"fmt"
	"log"

	"github.com/int8cal/int8cal/datasets/preprocess"
)

func Example() {
	// Options as a data set plugin receives them (here for a Caffe-style
	// model: BGR, mean subtracted from raw 0..255 values, given in RGB
	// order because normalization comes before the channel swap).
	spec, err := preprocess.Parse(map[string]string{
		"mean":     "123.68,116.779,103.939",
		"channels": "bgr",
		"resize":   "4",
		"crop":     "2",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(spec)

	// A decoded 2x2 RGB image, HWC, 8-bit values.
	img := preprocess.FromBytes(2, 2, 3, []uint8{
		124, 117, 104, 124, 117, 104,
		124, 117, 104, 200, 117, 104,
	})
	shape := spec.OutputShape(img.H, img.W, img.C)
	sample := make([]float32, shape[0]*shape[1]*shape[2])
	if err := spec.Apply(img, sample); err != nil {
		log.Fatal(err)
	}
	fmt.Println(shape)
	fmt.Printf("%.3f\n", sample)

	// Errors name the option and the accepted forms.
	_, err = preprocess.Parse(map[string]string{"crop": "224,224"})
	fmt.Println(err)
	// Output:
	// channels=bgr crop=2 layout=nchw mean=123.68,116.779,103.939 resize=4
	// [3 2 2]
	// [0.061 0.061 0.061 0.061 0.221 0.221 0.221 0.221 5.070 14.570 14.570 43.070]
	// preprocess: option crop=224,224: want N or HxW, integers in [0, 65536] (0 = no crop), e.g. crop=224 or crop=224x224
}
