package cuda

import (
	"strings"
	"testing"

	"github.com/int8cal/int8cal/internal/gpulibs"
	"github.com/int8cal/int8cal/loader"
	"github.com/int8cal/int8cal/loader/nvrtc"
)

// TestKernelsCompile compiles the embedded kernels with NVRTC, which needs
// no GPU: it runs wherever NVRTC is (CI installs NVIDIA's wheel with `make
// gpulibs`), and checks that every kernel the backend looks up exists.
func TestKernelsCompile(t *testing.T) {
	rtc, err := nvrtc.Open(gpulibs.NVRTC("../.."))
	if loader.IsNotFound(err) {
		t.Skipf("no NVRTC, kernels not compiled (run `make gpulibs`): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"compute_80", "compute_90"} {
		out, err := rtc.Compile(kernelSource, "kernels.cu", append([]string{"--gpu-architecture=" + arch}, compileOptions...))
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		ptx := string(out.Image)
		for _, name := range kernelNames {
			if !strings.Contains(ptx, ".entry "+name+"(") {
				t.Errorf("%s: kernel %s missing from the PTX", arch, name)
			}
		}
	}
}
