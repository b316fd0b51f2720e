// Package gpulibs locates, for tests, the NVIDIA libraries `make gpulibs`
// installs from PyPI into .gpulibs/ at the repository root: NVRTC, which
// needs no GPU, so that kernels compile in CI.
package gpulibs

import (
	"os"
	"path/filepath"
)

// NVRTC returns the path of the .gpulibs copy of NVRTC below repoRoot, or
// "" (search the usual places) when it is not installed or
// $INT8CAL_NVRTC_LIB chooses one.
func NVRTC(repoRoot string) string {
	if os.Getenv("INT8CAL_NVRTC_LIB") != "" {
		return ""
	}
	p, err := filepath.Abs(filepath.Join(repoRoot, ".gpulibs", "nvidia", "cu13", "lib", "libnvrtc.so.13"))
	if err != nil {
		return ""
	}
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}
