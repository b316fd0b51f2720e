//go:build !amd64 || purego

package histogram

func available() []Impl { return []Impl{ImplGo} }

// fillVector adds nothing where there is no vector kernel: fillGo does
// all the work.
func fillVector(_ []uint64, _ []float32, _ float64, _ uint32, _ int, mn, mx int32) (int, int32, int32, uint64) {
	return 0, mn, mx, 0
}

func boundsVector(_ []float32, mn, mx int32) (int, int32, int32) { return 0, mn, mx }
