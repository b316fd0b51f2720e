package cudadriver_test

import (
	"fmt"

	"github.com/int8cal/int8cal/loader"
	"github.com/int8cal/int8cal/loader/cudadriver"
)

// A driver path given explicitly (int8cal's --cuda-lib) that does not
// exist is reported as not found, never passed over for another copy and
// never a panic; this needs no GPU.
func ExampleOpen() {
	_, err := cudadriver.Open("/nonexistent/libcuda.so.1")
	fmt.Println(loader.IsNotFound(err))
	// Output: true
}
