package nvrtc_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/internal/gpulibs"
	"github.com/int8cal/int8cal/loader"
	"github.com/int8cal/int8cal/loader/nvrtc"
)

// open finds NVRTC for the tests: $INT8CAL_NVRTC_LIB, the copy `make
// gpulibs` installs into .gpulibs/, or the system's; it skips, saying
// why, where there is none.
func open(t *testing.T) *nvrtc.Compiler {
	t.Helper()
	c, err := nvrtc.Open(gpulibs.NVRTC("../.."))
	if loader.IsNotFound(err) {
		t.Skipf("no NVRTC (run `make gpulibs` to install NVIDIA's wheel): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCompile(t *testing.T) {
	c := open(t)
	major, minor := c.Version()
	t.Logf("NVRTC %d.%d from %s", major, minor, c.Lib.Path)
	src := `extern "C" __global__ void scale(float* x, float s, int n) {
		int i = blockIdx.x * blockDim.x + threadIdx.x;
		if (i < n) x[i] *= s;
	}`
	ptx, err := c.Compile(src, "scale.cu", []string{"--gpu-architecture=compute_90"})
	if err != nil {
		t.Fatal(err)
	}
	if ptx.CUBIN || !strings.Contains(string(ptx.Image), ".entry scale") {
		t.Fatalf("PTX without the kernel:\n%.400s", ptx.Image)
	}
	cubin, err := c.Compile(src, "scale.cu", []string{"--gpu-architecture=sm_90"})
	if err != nil {
		t.Fatal(err)
	}
	if !cubin.CUBIN || string(cubin.Image[1:4]) != "ELF" {
		t.Fatalf("CUBIN is not an ELF image: % x", cubin.Image[:8])
	}
}

func TestCompileErrorHasLog(t *testing.T) {
	c := open(t)
	_, err := c.Compile(`extern "C" __global__ void k() { undeclared = 1; }`, "broken.cu", []string{"--gpu-architecture=compute_90"})
	var ce *nvrtc.CompileError
	if !errors.As(err, &ce) || !strings.Contains(ce.Log, "undeclared") || !strings.Contains(err.Error(), "broken.cu") {
		t.Fatalf("want a CompileError naming the program with the log, got %v", err)
	}
}

func TestNotFound(t *testing.T) {
	_, err := nvrtc.Open("/nonexistent/libnvrtc.so.13")
	if !loader.IsNotFound(err) || !strings.Contains(err.Error(), "/nonexistent/libnvrtc.so.13") {
		t.Fatalf("want a NotFoundError naming the path, got %v", err)
	}
}
