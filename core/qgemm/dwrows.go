package qgemm

import "fmt"

// A depthwise convolution can also be summed straight from its input
// planes, with no padded or phase-split copy (DepthwiseSums' layout):
// where a vector holds 4 bytes of every one of 16 output positions, VPERMB
// makes each dword the 4 input bytes a kernel row's 4 taps read for one
// output position (any stride and dilation, as long as a vector's window
// fits one 64-byte load), and VPDPBUSD multiplies them by the row's 4
// weights at once. A load masked to the plane's columns supplies the left
// and right padding, a constant the rows above and below: a 3×3 window
// costs three loads, three permutations and three VPDPBUSD per 16 (stride
// 1: 32) outputs, about a third of the tap-interleaving kernel's work, and
// the sums come out in the output's rows, not in padded ones.

// DepthwiseWindow is a depthwise convolution's geometry on one channel:
// input and output sizes and the window's kernel, stride, dilation and
// leading padding (rows, then columns). Padding at the end needs no
// field: output positions reading past the input read zeros.
type DepthwiseWindow struct {
	In, Out, Kernel, Stride, Dilation, PadBegin [2]int
}

// dwRowWeights bounds a channel's weight words: kernel rows × words a row.
const dwRowWeights = 32

// DepthwiseWeights are int8 depthwise weights as DepthwiseRows reads
// them: per channel and kernel row, ceil(kw/4) words of 4 taps' bytes
// (zeros past the row's last tap), and per channel -128·Σw, where its
// sums start (VPDPBUSD multiplies unsigned bytes, so inputs go in as
// x+128).
type DepthwiseWeights struct {
	kh, kw, words int // words: a kernel row's
	w             []int32
	init          []int32
}

// NewDepthwiseWeights lays out q, channels×kh×kw weights (channel, row,
// column), for DepthwiseRows.
func NewDepthwiseWeights(q []int8, channels, kh, kw int) *DepthwiseWeights {
	if kh < 1 || kw < 1 || len(q) != channels*kh*kw {
		panic(fmt.Sprintf("qgemm: NewDepthwiseWeights of %d weights for %d channels of %d×%d", len(q), channels, kh, kw))
	}
	words := (kw + 3) / 4
	d := &DepthwiseWeights{kh: kh, kw: kw, words: words, w: make([]int32, channels*kh*words), init: make([]int32, channels)}
	for c := 0; c < channels; c++ {
		var sum int32
		for ky := 0; ky < kh; ky++ {
			for kx := 0; kx < kw; kx++ {
				v := q[(c*kh+ky)*kw+kx]
				sum += int32(v)
				d.w[(c*kh+ky)*words+kx/4] |= int32(uint32(uint8(v)) << (8 * (kx % 4)))
			}
		}
		d.init[c] = -128 * sum
	}
	return d
}

// tap returns channel c's weight at (ky, kx).
func (d *DepthwiseWeights) tap(c, ky, kx int) int32 {
	return int32(int8(d.w[(c*d.kh+ky)*d.words+kx/4] >> (8 * (kx % 4))))
}

// DepthwiseRows is a DepthwiseWindow laid out for the row kernel: per
// output row and kernel row where the input row starts (or that it is
// padding), and per run of output columns its load's start and masks.
type DepthwiseRows struct {
	win    DepthwiseWindow
	rows   []int // per output row and kernel row: the input row's offset, or -1
	chunks []dwChunk
	index  [4][64]byte // VPERMB's per half and word of a kernel row
	halves int         // 16 outputs a half
	zero   []int8      // a row of zeros the input's width: a padding row
	vector bool        // the kernel runs on this CPU and build
}

// dwChunk is a run of up to 16·halves output columns of a row.
type dwChunk struct {
	start int    // the load's first input column (negative: padding)
	load  uint64 // the load's bytes inside the row
	store uint32 // the outputs stored, 16 bits a half
	out   int    // the first output column
}

// NewDepthwiseRows lays out w for DepthwiseRows.Sums. It reports false
// when the vector kernel does not cover it on this CPU and build (no
// AVX-512 VNNI and VBMI under the current implementation, a window that
// does not fit a 64-byte load, or more than 32 words of weights a
// channel), and then Sums would run its Go loop: callers prefer another
// kernel.
func NewDepthwiseRows(w DepthwiseWindow) (*DepthwiseRows, bool) {
	for a := range 2 {
		if w.In[a] < 1 || w.Out[a] < 1 || w.Kernel[a] < 1 || w.Stride[a] < 1 || w.Dilation[a] < 1 {
			panic(fmt.Sprintf("qgemm: NewDepthwiseRows of %+v", w))
		}
	}
	d := &DepthwiseRows{win: w, halves: 1, zero: make([]int8, w.In[1])}
	oh, ow := w.Out[0], w.Out[1]
	kh, kw := w.Kernel[0], w.Kernel[1]
	d.rows = make([]int, oh*kh)
	for oy := 0; oy < oh; oy++ {
		for ky := 0; ky < kh; ky++ {
			iy := oy*w.Stride[0] - w.PadBegin[0] + ky*w.Dilation[0]
			d.rows[oy*kh+ky] = -1
			if iy >= 0 && iy < w.In[0] {
				d.rows[oy*kh+ky] = iy * w.In[1]
			}
		}
	}
	reach := (kw-1)*w.Dilation[1] + 1 // one output's columns
	span := func(outputs int) int { return (outputs-1)*w.Stride[1] + reach }
	if span(32) <= 64 {
		d.halves = 2
	}
	words := (kw + 3) / 4
	for h := 0; h < d.halves; h++ {
		for g := 0; g < words && g < 2; g++ {
			for j := 0; j < 16; j++ {
				for t := 0; t < 4; t++ {
					if kx := 4*g + t; kx < kw {
						d.index[2*h+g][4*j+t] = byte((16*h+j)*w.Stride[1] + kx*w.Dilation[1])
					}
				}
			}
		}
	}
	per := 16 * d.halves
	for out := 0; out < ow; out += per {
		// A shift by 32 gives 0, so a whole chunk of 32 stores all 32 bits.
		c := dwChunk{start: out*w.Stride[1] - w.PadBegin[1], out: out, store: uint32(1)<<min(per, ow-out) - 1}
		for b := 0; b < 64; b++ {
			if col := c.start + b; col >= 0 && col < w.In[1] {
				c.load |= 1 << b
			}
		}
		d.chunks = append(d.chunks, c)
	}
	d.vector = span(16) <= 64 && words <= 2 && kh*words <= dwRowWeights && dwRowsVector()
	return d, d.vector
}

// Sums computes channels [c0, c1) of weights w (laid out for this
// window's kernel) over x, their input planes one after the other
// (In[0]×In[1] bytes each), into acc, their output planes
// (Out[0]×Out[1] sums each):
//
//	acc[c][oy][ox] = Σ w[c][ky][kx]·x[c][oy·sh − top + ky·dh][ox·sw − left + kx·dw]
//
// with zeros outside the input, exact in int32.
func (d *DepthwiseRows) Sums(acc []int32, x []int8, w *DepthwiseWeights, c0, c1 int) {
	win := &d.win
	in, out := win.In[0]*win.In[1], win.Out[0]*win.Out[1]
	n := c1 - c0
	if w.kh != win.Kernel[0] || w.kw != win.Kernel[1] || c0 < 0 || c1 > len(w.init) || n < 0 || len(x) < n*in || len(acc) < n*out {
		panic(fmt.Sprintf("qgemm: DepthwiseRows.Sums of channels [%d, %d) of %d %d×%d kernels, window %+v, with %d inputs and %d sums",
			c0, c1, len(w.init), w.kh, w.kw, *win, len(x), len(acc)))
	}
	if n == 0 {
		return
	}
	if d.vector && dwRowsFast(d, acc, x, w, c0, n) {
		return
	}
	for c := 0; c < n; c++ {
		plane, sums := x[c*in:(c+1)*in], acc[c*out:(c+1)*out]
		for oy := 0; oy < win.Out[0]; oy++ {
			for ox := 0; ox < win.Out[1]; ox++ {
				var s int32
				for ky := 0; ky < win.Kernel[0]; ky++ {
					row := d.rows[oy*win.Kernel[0]+ky]
					if row < 0 {
						continue
					}
					for kx := 0; kx < win.Kernel[1]; kx++ {
						if col := ox*win.Stride[1] - win.PadBegin[1] + kx*win.Dilation[1]; col >= 0 && col < win.In[1] {
							s += w.tap(c0+c, ky, kx) * int32(plane[row+col])
						}
					}
				}
				sums[oy*win.Out[1]+ox] = s
			}
		}
	}
}
