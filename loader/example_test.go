package loader_test

import (
	"fmt"

	"github.com/int8cal/int8cal/loader"
)

// Opening a library that is not installed gives a typed error that lists
// every place searched, never a panic.
func Example() {
	_, err := loader.Open(&loader.Spec{
		Name:    "TensorRT",
		Sonames: []string{"libint8cal-example-missing.so.10"},
		Symbols: []string{"getInferLibVersion"},
	}, "")
	fmt.Println(loader.IsNotFound(err))
	// Output: true
}
