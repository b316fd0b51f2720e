//go:build amd64 && !purego

package ops

//go:noescape
func geluAVX2(dst, src *float32, n int)

//go:noescape
func erfAVX2(dst, src *float32, n int)

// geluFast computes gelu over the leading multiple of 4 values of src
// into dst with AVX2, bit for bit, and returns how many it did.
func geluFast(dst, src []float32) int { return vector4(geluAVX2, dst, src) }

// erfFast is geluFast for erf.
func erfFast(dst, src []float32) int { return vector4(erfAVX2, dst, src) }
