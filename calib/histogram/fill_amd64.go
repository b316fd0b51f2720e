//go:build amd64 && !purego

package histogram

import (
	"math"

	"golang.org/x/sys/cpu"
)

// fillBlock is how many values the vector kernels index before they
// increment the counts. Their frames hold the packed indices, with room
// for one full vector stored past the last one packed: 4·(fillBlock+16)
// = 1088 bytes, a literal in the TEXT lines.
const fillBlock = 256

// x/sys/cpu reports AVX2 and AVX-512 only where the OS saves the
// registers.
var (
	hasAVX2   = cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasPOPCNT
	hasAVX512 = hasAVX2 && cpu.X86.HasAVX512F
)

func available() []Impl {
	out := []Impl{ImplGo}
	if hasAVX2 {
		out = append(out, ImplAVX2)
	}
	if hasAVX512 {
		out = append(out, ImplAVX512)
	}
	return out
}

// packLUT[m] lists the lanes set in the 8-bit mask m, in order, then
// zeros: the VPERMD indices that pack those lanes to the front.
var packLUT = func() *[256][8]uint32 {
	var t [256][8]uint32
	for m := range t {
		k := 0
		for lane := range 8 {
			if m>>lane&1 != 0 {
				t[m][k] = uint32(lane)
				k++
			}
		}
	}
	return &t
}()

//go:noescape
func fillAVX512(counts []uint64, x []float32, scale float64, scale32 float32, rb uint32, side int, mn, mx int32) (done int, mno, mxo int32, zeros uint64)

//go:noescape
func fillAVX2(counts []uint64, x []float32, scale float64, scale32 float32, rb uint32, side int, mn, mx int32, lut *[256][8]uint32) (done int, mno, mxo int32, zeros uint64)

// fillVector adds the leading whole vectors of x up to the first one
// holding a value fillGo would stop at, as fillGo would, and returns what
// fillGo returns for them. It hands the kernels at most fillMax values a
// call, so that their 32-bit per-lane counts cannot overflow.
func fillVector(counts []uint64, x []float32, scale float64, rb uint32, side int, mn, mx int32) (int, int32, int32, uint64) {
	var done int
	var zeros uint64
	for len(x) >= 16 {
		seg := x[:min(len(x), fillMax)]
		var n int
		var z uint64
		switch impl {
		case ImplAVX512:
			n, mn, mx, z = fillAVX512(counts, seg, scale, exactScale32(scale), rb, side, mn, mx)
		case ImplAVX2:
			n, mn, mx, z = fillAVX2(counts, seg, scale, exactScale32(scale), rb, side, mn, mx, packLUT)
		default:
			return done, mn, mx, zeros
		}
		done, zeros, x = done+n, zeros+z, x[n:]
		if n < len(seg)&^15 || len(seg) < fillMax {
			break
		}
	}
	return done, mn, mx, zeros
}

// fillMax bounds the values of one kernel call (a multiple of 16).
const fillMax = 1 << 30

// exactScale32 returns scale as a float32 when it is a power of two that
// float32 holds as a normal number (then |v|·scale is exact in float32
// wherever it is at least 2^-126, and truncates to 0 below, as in
// float64), 0 otherwise.
func exactScale32(scale float64) float32 {
	frac, e := math.Frexp(scale)
	if frac != 0.5 || e-1 < -126 || e-1 > 127 {
		return 0
	}
	return float32(scale)
}

//go:noescape
func boundsAVX512(x []float32, mn, mx int32) (done int, mno, mxo int32)

//go:noescape
func boundsAVX2(x []float32, mn, mx int32) (done int, mno, mxo int32)

// boundsVector folds the keys of the leading whole vectors of x (32 or
// 16 values) into mn, mx, as boundsGo would, and returns how many values
// it took.
func boundsVector(x []float32, mn, mx int32) (int, int32, int32) {
	switch impl {
	case ImplAVX512:
		return boundsAVX512(x, mn, mx)
	case ImplAVX2:
		return boundsAVX2(x, mn, mx)
	}
	return 0, mn, mx
}
