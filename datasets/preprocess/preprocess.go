package preprocess

import (
	"fmt"
	"math"
)

// Layout is the memory order of one preprocessed sample.
type Layout int

const (
	NCHW Layout = iota // channel planes: C, H, W (TensorRT's and PyTorch's order); the default
	NHWC               // interleaved: H, W, C (TensorFlow's order)
)

func (l Layout) String() string {
	switch l {
	case NCHW:
		return "nchw"
	case NHWC:
		return "nhwc"
	}
	return fmt.Sprintf("Layout(%d)", int(l))
}

// ChannelOrder is the order of the colour channels the network expects.
// Images are decoded as RGB.
type ChannelOrder int

const (
	RGB ChannelOrder = iota // as decoded; the default
	BGR                     // reversed, as Caffe and OpenCV models expect
)

func (o ChannelOrder) String() string {
	switch o {
	case RGB:
		return "rgb"
	case BGR:
		return "bgr"
	}
	return fmt.Sprintf("ChannelOrder(%d)", int(o))
}

// MaxSide bounds Resize and CenterCrop: no real network input is 65536
// pixels wide, and a larger value is taken to be a mistake.
const MaxSide = 1 << 16

// Image is a decoded image: H rows of W pixels of C channels, float32, in
// HWC order (Pix[(y*W+x)*C+c]), RGB for colour, raw values (0..255 for
// 8-bit images).
type Image struct {
	H, W, C int
	Pix     []float32 // len(Pix) == H*W*C
}

// FromBytes converts 8-bit HWC pixels to an Image with the same values.
// It panics if len(pix) != h*w*c, as a slice expression would.
func FromBytes(h, w, c int, pix []uint8) Image {
	if h < 0 || w < 0 || c < 0 || len(pix) != h*w*c {
		panic(fmt.Sprintf("preprocess: FromBytes: %d bytes for %dx%dx%d", len(pix), h, w, c))
	}
	img := Image{H: h, W: w, C: c, Pix: make([]float32, len(pix))}
	for i, p := range pix {
		img.Pix[i] = float32(p)
	}
	return img
}

// Spec is a preprocessing pipeline; see the package documentation for the
// exact order and arithmetic. The zero Spec is the identity in NCHW layout.
type Spec struct {
	// Scale multiplies raw values, e.g. 1/255; 0 means 1.
	Scale float32
	// Mean and Std normalize each channel after scaling:
	// (x*Scale - Mean[c]) / Std[c]. Empty means none (0 and 1); one value
	// applies to every channel; otherwise one per channel, in the image's
	// RGB order.
	Mean, Std []float32
	Layout    Layout
	Order     ChannelOrder
	// Resize makes the shorter side this many pixels, bilinear, keeping
	// the aspect ratio; 0 = no resize.
	Resize int
	// CenterCrop is the {H, W} of a centred crop (zero-padded where the
	// image is smaller); 0 keeps that dimension.
	CenterCrop [2]int
}

// Validate checks the Spec for images of c channels: that Scale, Mean and
// Std are finite, Std non-zero, Mean and Std have 0, 1 or c values, BGR is
// asked of 1- or 3-channel images, and the sizes are in range. Apply calls
// it; a plugin can call it to reject options before reading any image.
func (s Spec) Validate(c int) error {
	if c <= 0 {
		return fmt.Errorf("preprocess: images have %d channels", c)
	}
	if f := float64(s.Scale); math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("preprocess: scale %v is not a finite number", s.Scale)
	}
	for _, v := range []struct {
		name string
		vals []float32
	}{{"mean", s.Mean}, {"std", s.Std}} {
		if n := len(v.vals); n > 1 && n != c {
			return fmt.Errorf("preprocess: %s has %d values but the images have %d channel%s; give one value for all channels or one per channel",
				v.name, n, c, plural(c))
		}
		for i, x := range v.vals {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("preprocess: %s value %d is %v, not a finite number", v.name, i, x)
			}
			if v.name == "std" && x == 0 {
				return fmt.Errorf("preprocess: std value %d is 0; it divides", i)
			}
		}
	}
	switch s.Layout {
	case NCHW, NHWC:
	default:
		return fmt.Errorf("preprocess: unknown layout %d (want NCHW or NHWC)", int(s.Layout))
	}
	switch s.Order {
	case RGB:
	case BGR:
		if c != 1 && c != 3 {
			return fmt.Errorf("preprocess: channels=bgr needs 1- or 3-channel images, these have %d", c)
		}
	default:
		return fmt.Errorf("preprocess: unknown channel order %d (want RGB or BGR)", int(s.Order))
	}
	if s.Resize < 0 || s.Resize > MaxSide {
		return fmt.Errorf("preprocess: resize %d out of range [0, %d]", s.Resize, MaxSide)
	}
	for _, v := range s.CenterCrop {
		if v < 0 || v > MaxSide {
			return fmt.Errorf("preprocess: crop %dx%d out of range [0, %d]", s.CenterCrop[0], s.CenterCrop[1], MaxSide)
		}
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// resized returns the image size after Resize.
func (s Spec) resized(h, w int) (int, int) {
	r := s.Resize
	if r <= 0 || h <= 0 || w <= 0 {
		return h, w
	}
	if w <= h { // as torchvision: the width is the short side on a tie
		if w == r {
			return h, w
		}
		return int(int64(r) * int64(h) / int64(w)), r
	}
	if h == r {
		return h, w
	}
	return r, int(int64(r) * int64(w) / int64(h))
}

// cropped returns the output size of one dimension of n pixels after the
// crop to size (0 = none) and the offset of the window in it; a negative
// offset is zero padding before the image.
func cropped(n, size int) (out, off int) {
	if size <= 0 {
		return n, 0
	}
	if size > n { // pad floor((size-n)/2) before, the rest after
		return size, -((size - n) / 2)
	}
	d := n - size
	off = d / 2
	if d%2 == 1 && off%2 == 1 { // round(d/2) half to even: d/2 is off+0.5
		off++
	}
	return size, off
}

// OutputShape returns the shape of one preprocessed sample of an h×w image
// with c channels: {c, H, W} for NCHW, {H, W, c} for NHWC, where H and W are
// the size after resize and crop.
func (s Spec) OutputShape(h, w, c int) []int {
	rh, rw := s.resized(h, w)
	oh, _ := cropped(rh, s.CenterCrop[0])
	ow, _ := cropped(rw, s.CenterCrop[1])
	if s.Layout == NHWC {
		return []int{oh, ow, c}
	}
	return []int{c, oh, ow}
}

// tap is the interpolation of one output row or column: the two input
// indices and the weight of the second; pad marks zero padding.
type tap struct {
	i0, i1 int
	w1     float64
	pad    bool
}

// taps computes the taps of the out output positions of one dimension:
// the input has n pixels, is resized to r and cropped from offset off.
func taps(n, r, out, off int) []tap {
	t := make([]tap, out)
	scale := float64(n) / float64(r)
	for i := range t {
		p := i + off // position in the resized image
		if p < 0 || p >= r {
			t[i].pad = true
			continue
		}
		if r == n {
			t[i] = tap{i0: p, i1: p}
			continue
		}
		u := (float64(p)+0.5)*scale - 0.5
		if u < 0 {
			u = 0
		}
		i0 := int(u)
		if i0 > n-1 {
			i0 = n - 1
		}
		i1 := i0
		if i0 < n-1 {
			i1 = i0 + 1
		}
		t[i] = tap{i0: i0, i1: i1, w1: u - float64(i0)}
	}
	return t
}

// Apply preprocesses img into dst, which must hold exactly the volume of
// OutputShape(img.H, img.W, img.C). It does not allocate more than a few
// bytes per output row and column: resize and crop are computed together,
// only for the pixels the crop keeps.
func (s Spec) Apply(img Image, dst []float32) error {
	if img.H <= 0 || img.W <= 0 || img.C <= 0 {
		return fmt.Errorf("preprocess: image of %dx%d pixels with %d channels is empty", img.H, img.W, img.C)
	}
	if len(img.Pix) != img.H*img.W*img.C {
		return fmt.Errorf("preprocess: image of %dx%dx%d holds %d values, want %d", img.H, img.W, img.C, len(img.Pix), img.H*img.W*img.C)
	}
	if err := s.Validate(img.C); err != nil {
		return err
	}
	c := img.C
	rh, rw := s.resized(img.H, img.W)
	oh, offY := cropped(rh, s.CenterCrop[0])
	ow, offX := cropped(rw, s.CenterCrop[1])
	if want := oh * ow * c; len(dst) != want {
		return fmt.Errorf("preprocess: dst holds %d values, a %dx%dx%d image gives %s = %d",
			len(dst), img.H, img.W, c, shapeString(s.OutputShape(img.H, img.W, c)), want)
	}
	ys := taps(img.H, rh, oh, offY)
	xs := taps(img.W, rw, ow, offX)

	scale := s.Scale
	if scale == 0 {
		scale = 1
	}
	mean := make([]float32, c)
	std := make([]float32, c)
	for ch := range c {
		mean[ch], std[ch] = 0, 1
		switch len(s.Mean) {
		case 0:
		case 1:
			mean[ch] = s.Mean[0]
		default:
			mean[ch] = s.Mean[ch]
		}
		switch len(s.Std) {
		case 0:
		case 1:
			std[ch] = s.Std[0]
		default:
			std[ch] = s.Std[ch]
		}
	}
	norm := len(s.Mean) > 0 || len(s.Std) > 0
	// Destination of channel ch at output pixel (y, x).
	plane := oh * ow
	outCh := func(ch int) int {
		if s.Order == BGR {
			return c - 1 - ch
		}
		return ch
	}
	pix := img.Pix
	stride := img.W * c
	for y, ty := range ys {
		for x, tx := range xs {
			for ch := range c {
				var v float32
				if !ty.pad && !tx.pad {
					r0 := ty.i0 * stride
					r1 := ty.i1 * stride
					c0 := tx.i0*c + ch
					c1 := tx.i1*c + ch
					if ty.w1 == 0 && tx.w1 == 0 {
						v = pix[r0+c0]
					} else {
						// Explicit conversions keep each product rounded
						// (no fused multiply-add), the same on every CPU.
						top := float64((1-tx.w1)*float64(pix[r0+c0])) + float64(tx.w1*float64(pix[r0+c1]))
						bot := float64((1-tx.w1)*float64(pix[r1+c0])) + float64(tx.w1*float64(pix[r1+c1]))
						v = float32(float64((1-ty.w1)*top) + float64(ty.w1*bot))
					}
				}
				if scale != 1 {
					v = float32(v * scale)
				}
				if norm {
					v = float32(v-mean[ch]) / std[ch]
				}
				oc := outCh(ch)
				if s.Layout == NHWC {
					dst[(y*ow+x)*c+oc] = v
				} else {
					dst[oc*plane+y*ow+x] = v
				}
			}
		}
	}
	return nil
}

func shapeString(shape []int) string {
	s := ""
	for i, d := range shape {
		if i > 0 {
			s += "x"
		}
		s += fmt.Sprint(d)
	}
	return s
}
