// Package tensorrt finds NVIDIA TensorRT's libraries through loader,
// without cgo: libnvinfer, whose version int8cal doctor reports, and the
// ONNX parser libnvonnxparser. It reads their versions and tells which
// TensorRT versions are supported (8.6, 10.x and 11.x). The TensorRT
// backend itself is core/tensorrt.
//
// A library opened from a path (a flag or the environment variable) that
// the system loader cannot open because it needs libraries that sit
// beside it, in the same pip wheel tree, is opened again after those are
// preloaded (loader.PreloadNeeded), so that a wheel's copy works without
// LD_LIBRARY_PATH.
//
// None of this needs a GPU. `make trtlibs` installs NVIDIA's TensorRT
// runtime wheels from PyPI into .trtlibs/ for the wheel test, which checks
// the real library's exported entry points, its version and the calls that
// work, or fail cleanly, without CUDA.
package tensorrt

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/int8cal/int8cal/loader"
)

// Spec finds libnvinfer: $INT8CAL_TENSORRT_LIB, then the sonames of the
// supported major versions, newest first.
var Spec = &loader.Spec{
	Name:    "TensorRT",
	Env:     "INT8CAL_TENSORRT_LIB",
	Sonames: []string{"libnvinfer.so.11", "libnvinfer.so.10", "libnvinfer.so.8", "libnvinfer.so"},
	Symbols: []string{"getInferLibVersion"},
}

// Majors are the TensorRT major versions supported, newest first.
var Majors = []int{11, 10, 8}

// Library is an opened libnvinfer.
type Library struct {
	Lib *loader.Library
	// Version is getInferLibVersion: 10000·major+100·minor+patch from
	// 10.0, 1000·major+100·minor+patch before.
	Version int
	// Major, Minor, Patch and Build come from getInferLib*Version where
	// the library exports them (10.0 on); before, from Version, with
	// Build 0.
	Major, Minor, Patch, Build int
	// Builder says whether the library exports createInferBuilder_INTERNAL:
	// the full libnvinfer does; the lean and dispatch runtimes
	// (libnvinfer_lean, libnvinfer_dispatch), which only deserialize
	// engines, do not.
	Builder bool
}

// Open finds libnvinfer and reads its version. It opens an unsupported
// major version too (int8cal doctor reports it); Supported says whether
// it can be used.
func Open(explicit string) (*Library, error) {
	lib, err := openBeside(Spec, explicit)
	if err != nil {
		return nil, err
	}
	l := &Library{Lib: lib}
	var getVersion func() int32
	if err := lib.Bind(&getVersion, "getInferLibVersion"); err != nil {
		lib.Close()
		return nil, err
	}
	l.Version = int(getVersion())
	l.Major, l.Minor, l.Patch = splitVersion(l.Version)
	for _, f := range []struct {
		sym string
		to  *int
	}{
		{"getInferLibMajorVersion", &l.Major},
		{"getInferLibMinorVersion", &l.Minor},
		{"getInferLibPatchVersion", &l.Patch},
		{"getInferLibBuildVersion", &l.Build},
	} {
		var get func() int32
		if lib.Bind(&get, f.sym) == nil {
			*f.to = int(get())
		}
	}
	_, err = lib.Symbol("createInferBuilder_INTERNAL")
	l.Builder = err == nil
	return l, nil
}

// Supported returns nil for the library's major version when it is
// supported, a *loader.VersionError naming the library otherwise.
func (l *Library) Supported() error {
	err := Supported(l.Major, l.Minor)
	if ve, ok := err.(*loader.VersionError); ok {
		ve.Path = l.Lib.File()
		ve.Got = l.VersionString()
	}
	return err
}

// VersionString is the library's version, major.minor.patch, from the
// getInferLib*Version functions where there are some: getInferLibVersion's
// number alone is ambiguous below 10.0 (TensorRT-RTX 1.7.1 reports 10701).
func (l *Library) VersionString() string { return fmt.Sprintf("%d.%d.%d", l.Major, l.Minor, l.Patch) }

// Supported returns nil for a supported TensorRT version (8.6, 10.x or
// 11.x), a *loader.VersionError otherwise: the object layouts int8cal
// calls into differ between major versions, so an unknown one is refused
// rather than guessed at. Within 8.x only 8.6 is: the name-based I/O
// calls (setTensorAddress, enqueueV3) came in 8.5, and the 8.x table was
// counted from 8.6.1's headers, while 10.x and 11.x minors only append.
func Supported(major, minor int) error {
	if slices.Contains(Majors, major) && (major != 8 || minor == 6) {
		return nil
	}
	got := fmt.Sprintf("%d.x", major)
	if major == 8 {
		got = fmt.Sprintf("8.%d", minor)
	}
	return &loader.VersionError{Library: Spec.Name, Got: got, Want: "8.6, 10.x or 11.x"}
}

// VersionString formats getInferLibVersion's number.
func VersionString(v int) string {
	major, minor, patch := splitVersion(v)
	return fmt.Sprintf("%d.%d.%d", major, minor, patch)
}

func splitVersion(v int) (major, minor, patch int) {
	if v >= 100000 {
		return v / 10000, v / 100 % 100, v % 100
	}
	return v / 1000, v / 100 % 10, v % 100
}

// openBeside opens spec's library; when a path given explicitly or in the
// environment variable fails to open, it preloads the libraries that path
// needs from its own directory tree (a pip wheel's) and tries once more.
func openBeside(spec *loader.Spec, explicit string) (*loader.Library, error) {
	lib, err := loader.Open(spec, explicit)
	if !loader.IsNotFound(err) {
		return lib, err
	}
	path := explicit
	if path == "" && spec.Env != "" {
		path = os.Getenv(spec.Env)
	}
	if !strings.Contains(path, "/") {
		return nil, err
	}
	if loaded, _ := loader.PreloadNeeded(path); len(loaded) == 0 {
		return nil, err
	}
	return loader.Open(spec, explicit)
}
