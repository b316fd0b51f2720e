package cuda

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/internal/atomicfile"
	"github.com/int8cal/int8cal/loader/nvrtc"
)

//go:embed kernels.cu
var kernelSource string

// compileOptions are NVRTC's options besides the architecture: no fused
// multiply-add, so that epilogues round as the CPU engine's Go code does.
var compileOptions = []string{"--fmad=false", "-std=c++17"}

// kernelImage compiles the embedded kernels for compute capability
// major.minor to a CUBIN, reusing a copy cached under the user's cache
// directory when source, compiler version and architecture match.
func kernelImage(rtc *nvrtc.Compiler, major, minor int, log hclog.Logger) ([]byte, error) {
	arch := fmt.Sprintf("--gpu-architecture=sm_%d%d", major, minor)
	vmaj, vmin := rtc.Version()
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d.%d\x00%s\x00%v", kernelSource, vmaj, vmin, arch, compileOptions)))
	cache := ""
	if dir, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(dir, "int8cal", "cuda", hex.EncodeToString(sum[:12])+".cubin")
		if b, err := os.ReadFile(cache); err == nil && len(b) > 0 {
			log.Debug("kernels from cache", "path", cache)
			return b, nil
		}
	}
	out, err := rtc.Compile(kernelSource, "kernels.cu", append([]string{arch}, compileOptions...))
	if err != nil {
		return nil, err
	}
	if out.Log != "" {
		log.Debug("NVRTC log", "log", out.Log)
	}
	if cache != "" {
		if err := os.MkdirAll(filepath.Dir(cache), 0o755); err == nil {
			if err := atomicfile.WriteFile(cache, out.Image); err != nil {
				log.Debug("kernel cache not written", "error", err)
			}
		}
	}
	return out.Image, nil
}

// kernelNames are the kernels looked up once when the module loads.
var kernelNames = []string{
	"to_half", "im2col_f32", "im2col_f16", "epilogue_f32", "epilogue_s32", "quantize_nhwc_s8", "im2col_nhwc_s8",
	"relu", "round_half_inplace", "add", "maxpool", "global_avgpool", "softmax",
	"gather_affine", "stats", "histogram",
}

func init() {
	for _, c := range convKernels {
		kernelNames = append(kernelNames, c.name())
	}
}
