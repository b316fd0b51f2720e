package tensorrt_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/loader"
	"github.com/int8cal/int8cal/loader/tensorrt"
)

func TestSupported(t *testing.T) {
	for _, v := range [][2]int{{8, 6}, {10, 0}, {10, 16}, {11, 0}, {11, 4}} {
		if err := tensorrt.Supported(v[0], v[1]); err != nil {
			t.Errorf("Supported(%d, %d) = %v", v[0], v[1], err)
		}
	}
	for _, v := range [][2]int{{7, 1}, {8, 4}, {8, 5}, {9, 0}, {12, 0}} {
		err := tensorrt.Supported(v[0], v[1])
		var ve *loader.VersionError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), "8.6, 10.x or 11.x") {
			t.Errorf("Supported(%d, %d) = %v, want a VersionError listing 8.6, 10.x or 11.x", v[0], v[1], err)
		}
	}
	if got, want := tensorrt.Supported(9, 0).Error(), "TensorRT version 9.x is not supported; supported: 8.6, 10.x or 11.x"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if got, want := tensorrt.Supported(8, 5).Error(), "TensorRT version 8.5 is not supported; supported: 8.6, 10.x or 11.x"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

func TestVersionString(t *testing.T) {
	for v, want := range map[int]string{8601: "8.6.1", 101601: "10.16.1", 110400: "11.4.0"} {
		if got := tensorrt.VersionString(v); got != want {
			t.Errorf("VersionString(%d) = %s, want %s", v, got, want)
		}
	}
}

// fakeWheel builds testdata/fakenvinfer.c into a tree laid out like
// NVIDIA's wheels, without RPATHs: tensorrt_libs/libnvinfer.so.<major>
// (needing nvidia/cu13/lib/libfakecudart_<tag>.so.1 when needs is set)
// and tensorrt_libs/libnvonnxparser.so.<major>, which needs it. It
// returns the two paths, or skips where there is no gcc.
func fakeWheel(t *testing.T, tag, major string, needs bool, defines ...string) (infer, parser string) {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skipf("no gcc to build the test libraries: %v", err)
	}
	root := t.TempDir()
	libs, deps := filepath.Join(root, "tensorrt_libs"), filepath.Join(root, "nvidia", "cu13", "lib")
	for _, d := range []string{libs, deps} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	build := func(out, src string, args ...string) {
		args = append([]string{"-shared", "-fPIC", "-Wl,-soname," + filepath.Base(out), "-o", out, src}, args...)
		if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", out, err, b)
		}
	}
	infer = filepath.Join(libs, "libnvinfer.so."+major)
	args := defines
	if needs {
		cudart := filepath.Join(deps, "libfakecudart_"+tag+".so.1")
		build(cudart, "testdata/fakecudart.c")
		args = append(args, "-DNEEDS", cudart)
	}
	build(infer, "testdata/fakenvinfer.c", args...)
	parser = filepath.Join(libs, "libnvonnxparser.so."+major)
	build(parser, "testdata/fakenvinfer.c", "-DPARSER", infer)
	return infer, parser
}

func TestOpenFromAWheelTree(t *testing.T) {
	infer, parser := fakeWheel(t, "tree", "10", true, "-DVERSION=101601", "-DBUILD=11", "-DBUILDER")
	lib, err := tensorrt.Open(infer)
	if err != nil {
		t.Fatalf("opening %s (its dependency only in the wheel tree): %v", infer, err)
	}
	defer lib.Lib.Close()
	if lib.Version != 101601 || lib.Major != 10 || lib.Minor != 16 || lib.Patch != 1 || lib.Build != 11 || !lib.Builder {
		t.Errorf("got %+v, want version 101601 = 10.16.1 build 11 with a builder", lib)
	}
	if err := lib.Supported(); err != nil {
		t.Error(err)
	}
	p, err := tensorrt.OpenParser(parser)
	if err != nil {
		t.Fatalf("opening the parser beside it: %v", err)
	}
	defer p.Lib.Close()
	if p.Version != 100 {
		t.Errorf("parser version %d, want 100", p.Version)
	}
}

func TestOpenFromTheEnvironment(t *testing.T) {
	infer, parser := fakeWheel(t, "env", "11", true, "-DVERSION=110400", "-DBUILD=106")
	t.Setenv("INT8CAL_TENSORRT_LIB", infer)
	t.Setenv("INT8CAL_NVONNXPARSER_LIB", parser)
	lib, err := tensorrt.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Lib.Close()
	if lib.Lib.Path != infer || lib.Major != 11 || lib.Build != 106 || lib.Builder {
		t.Errorf("got %+v from %s, want 11.4.0 build 106 without a builder from %s", lib, lib.Lib.Path, infer)
	}
	p, err := tensorrt.OpenParser("")
	if err != nil {
		t.Fatal(err)
	}
	p.Lib.Close()
}

func TestOldAndUnsupportedVersions(t *testing.T) {
	// 8.6 has no getInferLib*Version functions: the major comes from
	// getInferLibVersion's older format.
	infer, _ := fakeWheel(t, "eight", "8", false, "-DVERSION=8601")
	lib, err := tensorrt.Open(infer)
	if err != nil {
		t.Fatal(err)
	}
	if lib.Major != 8 || lib.Minor != 6 || lib.Patch != 1 || lib.Build != 0 || lib.Supported() != nil {
		t.Errorf("8.6.1: got %+v, supported: %v", lib, lib.Supported())
	}
	lib.Lib.Close()
	// 8.5: the 8.x table is 8.6's.
	infer, _ = fakeWheel(t, "eightfive", "8", false, "-DVERSION=8503")
	if lib, err = tensorrt.Open(infer); err != nil {
		t.Fatal(err)
	}
	if err := lib.Supported(); err == nil || !strings.Contains(err.Error(), "8.5.3") {
		t.Errorf("8.5.3: want a refusal naming it, got %v", err)
	}
	lib.Lib.Close()
	// A newer major than there is support for.
	infer, _ = fakeWheel(t, "twelve", "12", false, "-DVERSION=120100", "-DBUILD=1")
	lib, err = tensorrt.Open(infer)
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Lib.Close()
	err = lib.Supported()
	var ve *loader.VersionError
	if !errors.As(err, &ve) || ve.Path != infer || ve.Got != "12.1.0" {
		t.Errorf("12.1: want a VersionError naming %s and 12.1.0, got %v", infer, err)
	}
}

func TestNotFound(t *testing.T) {
	for _, open := range []func(string) error{
		func(p string) error { _, err := tensorrt.Open(p); return err },
		func(p string) error { _, err := tensorrt.OpenParser(p); return err },
	} {
		err := open("/nonexistent/libnvinfer.so.10")
		if !loader.IsNotFound(err) || !strings.Contains(err.Error(), "/nonexistent/libnvinfer.so.10") {
			t.Errorf("want a NotFoundError naming the path, got %v", err)
		}
	}
}
