package qgemm

import (
	"fmt"
	"math/rand"
	"testing"
)

// dwRowsWant is DepthwiseRows.Sums' definition, in int64, from the
// weights as given.
func dwRowsWant(win DepthwiseWindow, x []int8, q []int8, c, oy, ox int) int64 {
	var s int64
	in := win.In[0] * win.In[1]
	kh, kw := win.Kernel[0], win.Kernel[1]
	for ky := 0; ky < kh; ky++ {
		for kx := 0; kx < kw; kx++ {
			iy := oy*win.Stride[0] - win.PadBegin[0] + ky*win.Dilation[0]
			ix := ox*win.Stride[1] - win.PadBegin[1] + kx*win.Dilation[1]
			if iy < 0 || iy >= win.In[0] || ix < 0 || ix >= win.In[1] {
				continue
			}
			s += int64(q[(c*kh+ky)*kw+kx]) * int64(x[c*in+iy*win.In[1]+ix])
		}
	}
	return s
}

// DepthwiseRows.Sums against int64 sums on every implementation: the
// windows of MobileNets and EfficientNets (3×3 and 5×5, strides 1 and 2,
// padding at one end, both or none) and odd ones (1×7, 7×1, dilation,
// stride 3, kernels wider than 4 taps, padding beyond the kernel), on
// planes from 1×1 to wider than a load, extreme values frequent, and a
// range of channels from the middle of the weights. Sums never writes
// past a plane's last output.
func TestDepthwiseRows(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	windows := []struct{ k, s, d, p [2]int }{
		{[2]int{3, 3}, [2]int{1, 1}, [2]int{1, 1}, [2]int{1, 1}},
		{[2]int{3, 3}, [2]int{2, 2}, [2]int{1, 1}, [2]int{1, 1}},
		{[2]int{3, 3}, [2]int{2, 2}, [2]int{1, 1}, [2]int{0, 0}},
		{[2]int{5, 5}, [2]int{1, 1}, [2]int{1, 1}, [2]int{2, 2}},
		{[2]int{5, 5}, [2]int{2, 2}, [2]int{1, 1}, [2]int{2, 2}},
		{[2]int{1, 7}, [2]int{1, 1}, [2]int{1, 1}, [2]int{0, 3}},
		{[2]int{7, 1}, [2]int{1, 2}, [2]int{1, 1}, [2]int{3, 0}},
		{[2]int{3, 3}, [2]int{1, 1}, [2]int{2, 3}, [2]int{2, 3}},
		{[2]int{2, 2}, [2]int{3, 3}, [2]int{1, 1}, [2]int{1, 0}},
		{[2]int{4, 8}, [2]int{1, 1}, [2]int{1, 1}, [2]int{5, 9}},
		{[2]int{3, 3}, [2]int{1, 4}, [2]int{1, 1}, [2]int{1, 1}},
	}
	sizes := [][2]int{{1, 1}, {2, 3}, {7, 7}, {14, 14}, {5, 31}, {3, 33}, {4, 64}, {6, 70}, {3, 130}}
	for _, im := range Available() {
		withImpl(t, im, func() {
			vector := 0
			for _, wn := range windows {
				for _, hw := range sizes {
					win := DepthwiseWindow{In: hw, Kernel: wn.k, Stride: wn.s, Dilation: wn.d, PadBegin: wn.p}
					for a := range 2 {
						span := (wn.k[a]-1)*wn.d[a] + 1
						win.Out[a] = (hw[a]+2*wn.p[a]-span)/wn.s[a] + 1
					}
					if win.Out[0] < 1 || win.Out[1] < 1 {
						continue
					}
					t.Run(fmt.Sprintf("%v/%+v", im, win), func(t *testing.T) {
						if checkDepthwiseRows(t, r, win) {
							vector++
						}
					})
				}
			}
			if dwRowsVector() && vector == 0 {
				t.Errorf("%v: the vector kernel ran on no window", im)
			}
		})
	}
}

// checkDepthwiseRows checks one window and reports whether the vector
// kernel ran it.
func checkDepthwiseRows(t *testing.T, r *rand.Rand, win DepthwiseWindow) bool {
	const channels, c0, c1 = 5, 1, 4
	in, out := win.In[0]*win.In[1], win.Out[0]*win.Out[1]
	kh, kw := win.Kernel[0], win.Kernel[1]
	extreme := func() int8 {
		switch r.Intn(4) {
		case 0:
			return -128
		case 1:
			return 127
		}
		return int8(r.Intn(256) - 128)
	}
	x := make([]int8, (c1-c0)*in)
	for i := range x {
		x[i] = extreme()
	}
	q := make([]int8, channels*kh*kw)
	for i := range q {
		q[i] = extreme()
	}
	acc := make([]int32, (c1-c0)*out+40)
	for i := range acc {
		acc[i] = 12345
	}
	d, vector := NewDepthwiseRows(win)
	d.Sums(acc, x, NewDepthwiseWeights(q, channels, kh, kw), c0, c1)
	for c := 0; c < c1-c0; c++ {
		for oy := 0; oy < win.Out[0]; oy++ {
			for ox := 0; ox < win.Out[1]; ox++ {
				want := dwRowsWant(win, x, q[c0*kh*kw:], c, oy, ox)
				if got := acc[c*out+oy*win.Out[1]+ox]; int64(got) != want {
					t.Fatalf("channel %d output (%d, %d): %d, want %d", c, oy, ox, got, want)
				}
			}
		}
	}
	for i := (c1 - c0) * out; i < len(acc); i++ {
		if acc[i] != 12345 {
			t.Fatalf("sum %d past the last plane written: %d", i, acc[i])
		}
	}
	return vector
}

// FuzzDepthwiseRows: any window the row kernel lays out (kernel, stride,
// dilation and padding from the fuzzer, a model's attributes) sums
// exactly what the definition sums, whichever kernel runs it, and never
// writes past its last output.
func FuzzDepthwiseRows(f *testing.F) {
	f.Add(uint8(14), uint8(14), uint8(3), uint8(3), uint8(1), uint8(1), uint8(1), uint8(1), uint8(1), uint8(1), int64(1))
	f.Add(uint8(112), uint8(112), uint8(3), uint8(3), uint8(2), uint8(2), uint8(1), uint8(1), uint8(1), uint8(1), int64(2))
	f.Add(uint8(7), uint8(9), uint8(5), uint8(5), uint8(1), uint8(2), uint8(2), uint8(1), uint8(2), uint8(2), int64(3))
	f.Fuzz(func(t *testing.T, h, w, kh, kw, sh, sw, dh, dw, ph, pw uint8, seed int64) {
		win := DepthwiseWindow{
			In:       [2]int{int(h%80) + 1, int(w%140) + 1},
			Kernel:   [2]int{int(kh%9) + 1, int(kw%9) + 1},
			Stride:   [2]int{int(sh%4) + 1, int(sw%4) + 1},
			Dilation: [2]int{int(dh%3) + 1, int(dw%3) + 1},
		}
		win.PadBegin = [2]int{int(ph) % (win.Kernel[0] + 1), int(pw) % (win.Kernel[1] + 1)}
		for a := range 2 {
			span := (win.Kernel[a]-1)*win.Dilation[a] + 1
			win.Out[a] = (win.In[a]+2*win.PadBegin[a]-span)/win.Stride[a] + 1
			if win.In[a]+2*win.PadBegin[a] < span {
				return // no output
			}
		}
		checkDepthwiseRows(t, rand.New(rand.NewSource(seed)), win)
	})
}
