package ops

import (
	"math"
	"math/rand"
	"testing"
)

// maxPool2x2 with its vector kernel gives the bits of the Go loop (the
// kernel off), for widths around the kernel's groups of 8 and 4, odd input
// widths and heights (the last column or row unused), and data full of
// ties between ±0, NaN and ±Inf, where the order of the comparisons
// decides the result.
func TestMaxPool2x2VectorMatchesGo(t *testing.T) {
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0, 1, -1}
	pool2x2MatchesGo(t, rand.New(rand.NewSource(7)), 4, func(r *rand.Rand) float32 {
		if r.Intn(2) == 0 {
			return specials[r.Intn(len(specials))]
		}
		return float32(r.NormFloat64())
	}, func(v float32) uint32 { return math.Float32bits(v) })
}

// The int8 kernel, which pools a whole plane's rows in one call, gives
// the Go loop's bytes for the same widths and heights, with -128, 127 and
// ties everywhere.
func TestMaxPool2x2Int8VectorMatchesGo(t *testing.T) {
	pool2x2MatchesGo(t, rand.New(rand.NewSource(8)), 5, func(r *rand.Rand) int8 {
		if r.Intn(3) == 0 {
			return []int8{-128, 127, 0, -1}[r.Intn(4)]
		}
		return int8(r.Intn(256) - 128)
	}, func(v int8) uint32 { return uint32(uint8(v)) })
}

// pool2x2MatchesGo pools planes of 1 to 21 outputs a row, and 1 to
// heights rows, of values drawn by value, with the vector kernel and with
// the Go loop, and compares the results' bits.
func pool2x2MatchesGo[T float32 | int8](t *testing.T, r *rand.Rand, heights int, value func(*rand.Rand) T, bits func(T) uint32) {
	t.Helper()
	for ow := 1; ow <= 21; ow++ {
		for _, extra := range []int{0, 1} {
			oh := 1 + ow%heights
			iw, ih := 2*ow+extra, 2*oh+extra
			src := make([]T, ih*iw)
			for i := range src {
				src[i] = value(r)
			}
			got, want := make([]T, oh*ow), make([]T, oh*ow)
			maxPool2x2(src, got, iw, oh, ow)
			vectorPool = false
			maxPool2x2(src, want, iw, oh, ow)
			vectorPool = true
			for i := range got {
				if bits(got[i]) != bits(want[i]) {
					t.Fatalf("ow %d oh %d iw %d: output %d = %v (%#x), the Go loop gives %v (%#x)", ow, oh, iw, i, got[i], bits(got[i]), want[i], bits(want[i]))
				}
			}
		}
	}
}

// Int8 max pooling in row passes (maxRows) gives the bytes of pooling a
// window at a time, with the vector kernel and without it, for kernels,
// strides and paddings around the vector's 32 bytes (widths that leave a
// short last step or none), windows overhanging the input (ceil mode's)
// windows wholly in the padding, and 200 geometries drawn at random.
func TestMaxPoolInt8RowsMatchWindows(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	for _, vector := range []bool{true, false} {
		vectorPool = vector
		geometries := []struct {
			ih, iw, kh, kw, sh, sw, top, left, bottom, right int
			ceil                                             bool
		}{
			{112, 112, 3, 3, 2, 2, 1, 1, 1, 1, false}, // ResNet-50's stem
			{7, 33, 3, 3, 1, 1, 1, 1, 1, 1, false},
			{9, 64, 3, 2, 1, 2, 0, 0, 0, 0, false},
			{5, 40, 5, 5, 3, 3, 2, 2, 2, 2, false},
			{6, 70, 2, 3, 2, 1, 0, 1, 1, 1, false},
			{4, 31, 1, 7, 1, 1, 0, 3, 0, 3, false},
			{3, 50, 3, 3, 2, 2, 2, 2, 2, 2, false}, // windows two rows into the padding
			{4, 40, 3, 3, 1, 1, 3, 0, 0, 0, false}, // the first window wholly in it
			{10, 36, 3, 3, 2, 2, 0, 0, 0, 0, true}, // overhanging last windows (ceil mode)
		}
		for range 200 { // and geometries drawn at random
			k := [2]int{1 + r.Intn(5), 1 + r.Intn(5)}
			g := struct {
				ih, iw, kh, kw, sh, sw, top, left, bottom, right int
				ceil                                             bool
			}{ih: k[0] + r.Intn(12), iw: k[1] + r.Intn(80), kh: k[0], kw: k[1], sh: 1 + r.Intn(3), sw: 1 + r.Intn(3),
				top: r.Intn(k[0]), left: r.Intn(k[1]), bottom: r.Intn(k[0]), right: r.Intn(k[1]), ceil: r.Intn(2) == 0}
			geometries = append(geometries, g)
		}
		for _, g := range geometries {
			win := window{kernel: [2]int{g.kh, g.kw}, stride: [2]int{g.sh, g.sw}, dilation: [2]int{1, 1}, padBegin: [2]int{g.top, g.left}, padEnd: [2]int{g.bottom, g.right}}
			size := func(in, k, s, pads int) int {
				if g.ceil {
					return (in+pads-k+s-1)/s + 1
				}
				return (in+pads-k)/s + 1
			}
			oh, ow := size(g.ih, g.kh, g.sh, g.top+g.bottom), size(g.iw, g.kw, g.sw, g.left+g.right)
			src := make([]int8, g.ih*g.iw)
			for i := range src {
				src[i] = int8(r.Intn(256) - 128)
				if r.Intn(4) == 0 {
					src[i] = []int8{-128, 127}[r.Intn(2)]
				}
			}
			got, want := make([]int8, oh*ow), make([]int8, oh*ow)
			var rows maxRows
			if !rows.pool(src, got, [2]int{g.ih, g.iw}, [2]int{oh, ow}, &win) {
				t.Fatalf("%+v: not pooled in rows", g)
			}
			maxPoolPlane(src, want, [2]int{g.ih, g.iw}, [2]int{oh, ow}, &win, -128)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("vector %v, %+v: output %d = %d, window by window %d", vector, g, i, got[i], want[i])
				}
			}
		}
	}
	vectorPool = true
}

// Float max pooling with the vector kernel over the windows inside the
// input gives window-by-window's bits (maxInside's comparison in its tap
// order), NaNs, infinities and signed zeros included, on the ResNet-50
// stem's geometry, dilated windows and 300 random ones (strides 1 and 2
// take the kernel, 3 the loop).
func TestMaxPoolFloatRowsMatchWindows(t *testing.T) {
	r := rand.New(rand.NewSource(10))
	type geometry struct{ ih, iw, kh, kw, sh, sw, dh, dw, top, left, bottom, right int }
	geometries := []geometry{
		{112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, // ResNet-50's stem
		{20, 41, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},
		{9, 70, 2, 5, 1, 2, 1, 3, 0, 1, 1, 0},
		// Rows narrower than the window, padded on the right only.
		{6, 2, 3, 4, 1, 2, 1, 1, 0, 0, 0, 2},
		{6, 3, 3, 5, 2, 3, 1, 1, 0, 0, 0, 2},
	}
	for range 300 {
		k := [2]int{1 + r.Intn(5), 1 + r.Intn(5)}
		geometries = append(geometries, geometry{ih: k[0] + r.Intn(10), iw: k[1] + r.Intn(90), kh: k[0], kw: k[1],
			sh: 1 + r.Intn(3), sw: 1 + r.Intn(3), dh: 1, dw: 1, top: r.Intn(k[0]), left: r.Intn(k[1]), bottom: r.Intn(k[0]), right: r.Intn(k[1])})
	}
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1))}
	for _, g := range geometries {
		win := window{kernel: [2]int{g.kh, g.kw}, stride: [2]int{g.sh, g.sw}, dilation: [2]int{g.dh, g.dw},
			padBegin: [2]int{g.top, g.left}, padEnd: [2]int{g.bottom, g.right}}
		oh := (g.ih+g.top+g.bottom-(g.kh-1)*g.dh-1)/g.sh + 1
		ow := (g.iw+g.left+g.right-(g.kw-1)*g.dw-1)/g.sw + 1
		src := make([]float32, g.ih*g.iw)
		for i := range src {
			src[i] = float32(r.Intn(7)) - 3 // ties between windows' taps
			if r.Intn(8) == 0 {
				src[i] = special[r.Intn(len(special))]
			}
		}
		got, want := make([]float32, oh*ow), make([]float32, oh*ow)
		vectorPool = true
		maxPoolPlane(src, got, [2]int{g.ih, g.iw}, [2]int{oh, ow}, &win, float32(math.Inf(-1)))
		vectorPool = false
		maxPoolPlane(src, want, [2]int{g.ih, g.iw}, [2]int{oh, ow}, &win, float32(math.Inf(-1)))
		vectorPool = true
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v: output %d = %v, window by window %v", g, i, got[i], want[i])
			}
		}
	}
}
