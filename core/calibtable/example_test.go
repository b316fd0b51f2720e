package calibtable_test

import (
	"fmt"
	"log"
	"os"

	"github.com/int8cal/int8cal/core/calibtable"
)

// Example builds a cache for TensorRT 8.6.1 from dynamic ranges.
func Example() {
	v, err := calibtable.ParseTRTVersion("8.6.1")
	if err != nil {
		log.Fatal(err)
	}
	t := calibtable.New(v, calibtable.EntropyCalibration2)
	t.Set("data", 2040.5/2048) // scale = amax/127 in float32
	t.Set("prob", 2048.5/2048)
	t.Set("amax_one", 1)
	if err := calibtable.Write(os.Stdout, t); err != nil {
		log.Fatal(err)
	}
	// Output:
	// TRT-8601-EntropyCalibration2
	// data: 3c008912
	// prob: 3c010a14
	// amax_one: 3c010204
}

// ExampleReadFile reads the TensorRT 7.0 sampleINT8 table for MNIST LeNet.
func ExampleReadFile() {
	t, err := calibtable.ReadFile("testdata/CalibrationTablemnist")
	if err != nil {
		log.Fatal(err)
	}
	v, _ := t.TRTVersion()
	fmt.Println(t.Algorithm, "from TensorRT", v)
	for _, e := range t.Entries {
		fmt.Printf("%-5s %s scale %.6g amax %.6g\n", e.Name, e.Hex(), e.Scale, e.Amax())
	}
	// Output:
	// EntropyCalibration2 from TensorRT 7.0.0
	// data  3c008912 scale 0.00784518 amax 0.996338
	// conv1 3c88edfc scale 0.016715 amax 2.12281
	// pool1 3c88edfc scale 0.016715 amax 2.12281
	// conv2 3ddc858b scale 0.107677 amax 13.6749
	// pool2 3ddc858b scale 0.107677 amax 13.6749
	// ip1   3db6bd6e scale 0.0892285 amax 11.332
	// ip2   3e691968 scale 0.227636 amax 28.9098
	// prob  3c010a14 scale 0.00787594 amax 1.00024
}

// ExampleHeaderVersion shows both header encodings.
func ExampleHeaderVersion() {
	fmt.Println(calibtable.HeaderVersion(8, 6, 1, 6))
	fmt.Println(calibtable.HeaderVersion(10, 3, 0, 0))
	for _, s := range []string{"10.3", "8.6.1.6", "8601", "TRT-100900"} {
		v, err := calibtable.ParseTRTVersion(s)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s -> %v -> TRT-%s\n", s, v, v.HeaderVersion())
	}
	// Output:
	// 8601
	// 100300
	// 10.3 -> 10.3.0 -> TRT-100300
	// 8.6.1.6 -> 8.6.1.6 -> TRT-8601
	// 8601 -> 8.6.1 -> TRT-8601
	// TRT-100900 -> 10.9.0 -> TRT-100900
}
