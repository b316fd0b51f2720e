//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

var (
	avx2Kernels   = kernels{impl: ImplAVX2, maxP: maxPanelsAVX2, mr: [4]int{0, maxRowsAVX2[1]}}
	avx512Kernels = kernels{impl: ImplAVX512, maxP: maxPanelsAVX512, mr: [4]int{0, maxRowsAVX512[1], maxRowsAVX512[2]}}
)

func hasAVX2() bool { return cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// hasAVX512 requires AVX-512F with OS support for the ZMM state (x/sys/cpu
// checks XGETBV).
func hasAVX512() bool { return hasAVX2() && cpu.X86.HasAVX512F }

func kernelsFor(i Impl) *kernels {
	switch i {
	case ImplGo:
		return &goKernels
	case ImplAVX2:
		if hasAVX2() {
			return &avx2Kernels
		}
	case ImplAVX512:
		if hasAVX512() {
			return &avx512Kernels
		}
	}
	return nil
}

func bestKernels() *kernels {
	if hasAVX512() {
		return &avx512Kernels
	}
	if hasAVX2() {
		return &avx2Kernels
	}
	return &goKernels
}
