// Package tensorrt finds NVIDIA TensorRT's libnvinfer through loader and
// reads its version, without cgo. It is what int8cal doctor reports; the
// TensorRT backend itself is not part of this build.
package tensorrt

import (
	"fmt"

	"github.com/int8cal/int8cal/loader"
)

// Spec finds libnvinfer: $INT8CAL_TENSORRT_LIB, then the sonames of the
// major versions there are slot tables for, newest first.
var Spec = &loader.Spec{
	Name:    "TensorRT",
	Env:     "INT8CAL_TENSORRT_LIB",
	Sonames: []string{"libnvinfer.so.11", "libnvinfer.so.10", "libnvinfer.so.8", "libnvinfer.so"},
	Symbols: []string{"getInferLibVersion"},
}

// Library is an opened libnvinfer.
type Library struct {
	Lib     *loader.Library
	Version int // getInferLibVersion: 10000·major+100·minor+patch from 10.0, 1000·major+100·minor+patch before
}

// Open finds libnvinfer and reads its version.
func Open(explicit string) (*Library, error) {
	lib, err := loader.Open(Spec, explicit)
	if err != nil {
		return nil, err
	}
	var getVersion func() int32
	if err := lib.Bind(&getVersion, "getInferLibVersion"); err != nil {
		lib.Close()
		return nil, err
	}
	return &Library{Lib: lib, Version: int(getVersion())}, nil
}

// VersionString formats getInferLibVersion's number.
func VersionString(v int) string {
	if v >= 100000 {
		return fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100)
	}
	return fmt.Sprintf("%d.%d.%d", v/1000, v/100%10, v%100)
}
