// Package gpulibs locates, for tests, the NVIDIA libraries installed from
// PyPI at the repository root: NVRTC, which `make gpulibs` puts in
// .gpulibs/ so that kernels compile in CI, and TensorRT, which `make
// trtlibs` puts in .trtlibs/<major>/ (too large for CI). Neither needs a
// GPU.
package gpulibs

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

// TensorRTWheel is one TensorRT wheel `make trtlibs` installed.
type TensorRTWheel struct {
	Major int
	// Dist is the wheel's distribution name, e.g. tensorrt_lean_cu13_libs,
	// and Version its version, e.g. 11.4.0.106.
	Dist, Version string
	// Infer is the absolute path of libnvinfer.so.<major>, or of
	// libnvinfer_lean.so.<major> when the wheel is the lean runtime (Lean),
	// which has no builder.
	Infer string
	Lean  bool
	// Parser is the path of libnvonnxparser.so.<major>, "" when the wheel
	// has none (the lean runtime has none).
	Parser string
}

// TensorRT returns the TensorRT wheels installed below
// repoRoot/.trtlibs, newest major first; none when there are none or
// $INT8CAL_TENSORRT_LIB chooses a library.
func TensorRT(repoRoot string) []TensorRTWheel {
	if os.Getenv("INT8CAL_TENSORRT_LIB") != "" {
		return nil
	}
	root, err := filepath.Abs(filepath.Join(repoRoot, ".trtlibs"))
	if err != nil {
		return nil
	}
	dirs, _ := os.ReadDir(root)
	var wheels []TensorRTWheel
	for _, d := range dirs {
		major, err := strconv.Atoi(d.Name())
		if err != nil || !d.IsDir() {
			continue
		}
		dir := filepath.Join(root, d.Name())
		w := TensorRTWheel{Major: major}
		so := "." + d.Name()
		// The full library (tensorrt_libs/ of tensorrt-cuXX-libs) when it
		// is there, else the lean runtime (tensorrt_lean_libs/).
		if m, _ := filepath.Glob(filepath.Join(dir, "*", "libnvinfer.so"+so)); len(m) > 0 {
			w.Infer = m[0]
		} else if m, _ := filepath.Glob(filepath.Join(dir, "*", "libnvinfer_lean.so"+so)); len(m) > 0 {
			w.Infer, w.Lean = m[0], true
		} else {
			continue
		}
		if m, _ := filepath.Glob(filepath.Join(dir, "*", "libnvonnxparser.so"+so)); len(m) > 0 {
			w.Parser = m[0]
		}
		w.Dist, w.Version = distOf(dir, filepath.Base(filepath.Dir(w.Infer)))
		wheels = append(wheels, w)
	}
	slices.SortFunc(wheels, func(a, b TensorRTWheel) int { return b.Major - a.Major })
	return wheels
}

// distOf finds, among the wheels installed in dir, the one whose
// top-level package is pkg, and returns its name and version.
func distOf(dir, pkg string) (dist, version string) {
	infos, _ := filepath.Glob(filepath.Join(dir, "*.dist-info"))
	for _, info := range infos {
		top, err := os.ReadFile(filepath.Join(info, "top_level.txt"))
		if err != nil || !slices.Contains(strings.Fields(string(top)), pkg) {
			continue
		}
		name, ver, _ := strings.Cut(strings.TrimSuffix(filepath.Base(info), ".dist-info"), "-")
		return name, ver
	}
	return "", ""
}
