package preprocess

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// gray builds a 1-channel image from rows of values.
func gray(rows ...[]float32) Image {
	img := Image{H: len(rows), W: len(rows[0]), C: 1}
	for _, r := range rows {
		img.Pix = append(img.Pix, r...)
	}
	return img
}

func apply(t *testing.T, s Spec, img Image) []float32 {
	t.Helper()
	shape := s.OutputShape(img.H, img.W, img.C)
	dst := make([]float32, shape[0]*shape[1]*shape[2])
	if err := s.Apply(img, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

func close32(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i])-float64(b[i])) > tol {
			return false
		}
	}
	return true
}

// TestBilinear checks hand-computed bilinear values.
func TestBilinear(t *testing.T) {
	// 4x4 counting image, for shrinking.
	var count []float32
	for i := range 16 {
		count = append(count, float32(i))
	}
	tests := []struct {
		name   string
		img    Image
		resize int
		shape  []int
		want   []float32
	}{{
		// Enlarging 2x2 to 4x4: output x samples u = (x+0.5)/2 - 0.5 =
		// -0.25 (clamped to 0), 0.25, 0.75, 1.25 (past the last pixel,
		// which repeats), so the weights of the second pixel are 0, 1/4,
		// 3/4, 1, and the value is 10*wx + 20*wy.
		name:   "2x2 to 4x4",
		img:    gray([]float32{0, 10}, []float32{20, 30}),
		resize: 4,
		shape:  []int{1, 4, 4},
		want: []float32{
			0, 2.5, 7.5, 10,
			5, 7.5, 12.5, 15,
			15, 17.5, 22.5, 25,
			20, 22.5, 27.5, 30,
		},
	}, {
		// Halving: u = (x+0.5)*2 - 0.5 = 0.5, 2.5: each output is the mean
		// of a 2x2 block (no antialiasing beyond that).
		name:   "4x4 to 2x2",
		img:    Image{H: 4, W: 4, C: 1, Pix: count},
		resize: 2,
		shape:  []int{1, 2, 2},
		want:   []float32{2.5, 4.5, 10.5, 12.5},
	}, {
		// 3x3 to 2x2: u = (x+0.5)*1.5 - 0.5 = 0.25, 1.75. The image is the
		// linear function 40x + 400y, which bilinear interpolation
		// reproduces: 40u + 400v.
		name: "3x3 to 2x2 linear",
		img: gray(
			[]float32{0, 40, 80},
			[]float32{400, 440, 480},
			[]float32{800, 840, 880}),
		resize: 2,
		shape:  []int{1, 2, 2},
		want:   []float32{110, 170, 710, 770},
	}, {
		// The short side already has the size: unchanged.
		name:   "no-op",
		img:    gray([]float32{1, 2, 3}, []float32{4, 5, 6}),
		resize: 2,
		shape:  []int{1, 2, 3},
		want:   []float32{1, 2, 3, 4, 5, 6},
	}, {
		// 1x2 to 2x4: rows repeat (the only source row), columns as in
		// the 2x2 case.
		name:   "1x2 to 2x4",
		img:    gray([]float32{0, 8}),
		resize: 2,
		shape:  []int{1, 2, 4},
		want:   []float32{0, 2, 6, 8, 0, 2, 6, 8},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Spec{Resize: tc.resize}
			if got := s.OutputShape(tc.img.H, tc.img.W, 1); !reflect.DeepEqual(got, tc.shape) {
				t.Fatalf("OutputShape = %v, want %v", got, tc.shape)
			}
			if got := apply(t, s, tc.img); !close32(got, tc.want, 0) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// TestOracle compares with ONNX Runtime's Resize (oracle_test.go).
func TestOracle(t *testing.T) {
	img := Image{H: 5, W: 7, C: 3, Pix: oracleImage}
	for _, tc := range []struct {
		resize int
		want   []float32
	}{{3, oracleResize3}, {11, oracleResize11}} {
		got := apply(t, Spec{Resize: tc.resize}, img)
		if !close32(got, tc.want, 2e-3) {
			for i := range got {
				if math.Abs(float64(got[i]-tc.want[i])) > 2e-3 {
					t.Errorf("resize=%d: value %d = %v, ONNX Runtime %v", tc.resize, i, got[i], tc.want[i])
					break
				}
			}
		}
	}
}

// reference resizes in two separate passes (rows, then columns) the way
// the formula in doc.go reads, in float64, as a check of the fused code.
func reference(img Image, oh, ow int) []float64 {
	lin := func(n, out, i int) (int, int, float64) {
		u := (float64(i)+0.5)*float64(n)/float64(out) - 0.5
		u = max(u, 0)
		i0 := int(math.Floor(u))
		i1 := min(i0+1, n-1)
		return i0, i1, u - float64(i0)
	}
	tmp := make([]float64, oh*img.W*img.C)
	for y := range oh {
		y0, y1, w := lin(img.H, oh, y)
		for j := range img.W * img.C {
			tmp[y*img.W*img.C+j] = (1-w)*float64(img.Pix[y0*img.W*img.C+j]) + w*float64(img.Pix[y1*img.W*img.C+j])
		}
	}
	out := make([]float64, oh*ow*img.C)
	for y := range oh {
		for x := range ow {
			x0, x1, w := lin(img.W, ow, x)
			for c := range img.C {
				out[(y*ow+x)*img.C+c] = (1-w)*tmp[(y*img.W+x0)*img.C+c] + w*tmp[(y*img.W+x1)*img.C+c]
			}
		}
	}
	return out
}

func TestResizeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		img := Image{H: 1 + rng.IntN(9), W: 1 + rng.IntN(9), C: 1 + rng.IntN(3)}
		img.Pix = make([]float32, img.H*img.W*img.C)
		for i := range img.Pix {
			img.Pix[i] = float32(rng.IntN(256))
		}
		s := Spec{Resize: 1 + rng.IntN(12), Layout: NHWC}
		shape := s.OutputShape(img.H, img.W, img.C)
		got := apply(t, s, img)
		want := reference(img, shape[0], shape[1])
		for i := range got {
			if math.Abs(float64(got[i])-want[i]) > 1e-4 {
				t.Fatalf("%dx%dx%d resize=%d: value %d = %v, reference %v", img.H, img.W, img.C, s.Resize, i, got[i], want[i])
			}
		}
	}
}

func TestResizeShape(t *testing.T) {
	tests := []struct {
		h, w, resize int
		want         [2]int
	}{
		{2, 4, 4, [2]int{4, 8}},
		{3, 5, 2, [2]int{2, 3}},           // floor(2*5/3) = 3
		{5, 3, 2, [2]int{3, 2}},           // floor(2*5/3) = 3
		{375, 500, 256, [2]int{256, 341}}, // floor(256*500/375) = 341.33
		{500, 375, 224, [2]int{298, 224}}, // floor(224*500/375) = 298.67
		{7, 7, 3, [2]int{3, 3}},
		{4, 6, 4, [2]int{4, 6}}, // short side already 4
		{1, 1000, 2, [2]int{2, 2000}},
		{5, 5, 0, [2]int{5, 5}},
	}
	for _, tc := range tests {
		got := Spec{Resize: tc.resize, Layout: NHWC}.OutputShape(tc.h, tc.w, 3)
		if got[0] != tc.want[0] || got[1] != tc.want[1] || got[2] != 3 {
			t.Errorf("%dx%d resize=%d: %v, want %v", tc.h, tc.w, tc.resize, got, tc.want)
		}
	}
}

func TestCropOffsets(t *testing.T) {
	tests := []struct {
		n, size, out, off int
	}{
		{5, 2, 2, 2}, // round(1.5) = 2
		{3, 2, 2, 0}, // round(0.5) = 0 (half to even)
		{7, 2, 2, 2}, // round(2.5) = 2
		{9, 2, 2, 4}, // round(3.5) = 4
		{4, 2, 2, 1}, // 1
		{256, 224, 224, 16},
		{341, 224, 224, 58}, // round(58.5) = 58
		{343, 224, 224, 60}, // round(59.5) = 60
		{5, 5, 5, 0},
		{5, 0, 5, 0},  // no crop
		{2, 3, 3, 0},  // pad 0 before, 1 after
		{2, 5, 5, -1}, // pad 1 before, 2 after
		{1, 224, 224, -111},
	}
	for _, tc := range tests {
		out, off := cropped(tc.n, tc.size)
		if out != tc.out || off != tc.off {
			t.Errorf("cropped(%d, %d) = %d, %d; want %d, %d", tc.n, tc.size, out, off, tc.out, tc.off)
		}
	}
}

func TestCrop(t *testing.T) {
	var rows [][]float32
	for y := range 5 {
		var r []float32
		for x := range 5 {
			r = append(r, float32(10*y+x))
		}
		rows = append(rows, r)
	}
	img := gray(rows...)
	tests := []struct {
		name string
		crop [2]int
		want []float32
	}{
		{"2x2 from 5x5", [2]int{2, 2}, []float32{22, 23, 32, 33}},
		{"3x3 from 5x5", [2]int{3, 3}, []float32{11, 12, 13, 21, 22, 23, 31, 32, 33}},
		{"1x4", [2]int{1, 4}, []float32{20, 21, 22, 23}}, // left round(0.5) = 0
		{"5x0 keeps width", [2]int{5, 0}, img.Pix},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := apply(t, Spec{CenterCrop: tc.crop}, img); !close32(got, tc.want, 0) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	// Padding: a 2x2 image cropped to 3x5 gets 0 rows before and 1 after,
	// 1 column before and 2 after; padded pixels are normalized too.
	small := gray([]float32{1, 2}, []float32{3, 4})
	got := apply(t, Spec{CenterCrop: [2]int{3, 5}, Mean: []float32{1}, Std: []float32{2}}, small)
	want := []float32{
		-0.5, 0, 0.5, -0.5, -0.5,
		-0.5, 1, 1.5, -0.5, -0.5,
		-0.5, -0.5, -0.5, -0.5, -0.5,
	}
	if !close32(got, want, 0) {
		t.Errorf("padded crop: got %v, want %v", got, want)
	}
}

func TestResizeThenCrop(t *testing.T) {
	// 2x2 to 4x4 (see TestBilinear), then the central 2x2 (offset 1).
	s := Spec{Resize: 4, CenterCrop: [2]int{2, 2}}
	got := apply(t, s, gray([]float32{0, 10}, []float32{20, 30}))
	if want := []float32{7.5, 12.5, 17.5, 22.5}; !close32(got, want, 0) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestChannelsAndLayout(t *testing.T) {
	// One row of two RGB pixels (1,2,3) and (4,5,6).
	img := Image{H: 1, W: 2, C: 3, Pix: []float32{1, 2, 3, 4, 5, 6}}
	tests := []struct {
		layout Layout
		order  ChannelOrder
		shape  []int
		want   []float32
	}{
		{NCHW, RGB, []int{3, 1, 2}, []float32{1, 4, 2, 5, 3, 6}},
		{NCHW, BGR, []int{3, 1, 2}, []float32{3, 6, 2, 5, 1, 4}},
		{NHWC, RGB, []int{1, 2, 3}, []float32{1, 2, 3, 4, 5, 6}},
		{NHWC, BGR, []int{1, 2, 3}, []float32{3, 2, 1, 6, 5, 4}},
	}
	for _, tc := range tests {
		s := Spec{Layout: tc.layout, Order: tc.order}
		if got := s.OutputShape(1, 2, 3); !reflect.DeepEqual(got, tc.shape) {
			t.Errorf("%v %v: OutputShape %v, want %v", tc.layout, tc.order, got, tc.shape)
		}
		if got := apply(t, s, img); !close32(got, tc.want, 0) {
			t.Errorf("%v %v: got %v, want %v", tc.layout, tc.order, got, tc.want)
		}
	}
	// BGR leaves one channel alone.
	if got := apply(t, Spec{Order: BGR}, gray([]float32{7, 8})); !close32(got, []float32{7, 8}, 0) {
		t.Errorf("BGR of gray: %v", got)
	}
}

func TestNormalize(t *testing.T) {
	img := Image{H: 1, W: 1, C: 3, Pix: []float32{10, 20, 30}}
	base := Spec{Scale: 0.5, Mean: []float32{1, 2, 3}, Std: []float32{2, 4, 0.5}}
	tests := []struct {
		name string
		s    func(Spec) Spec
		want []float32
	}{
		// 5, 10, 15 after scaling; (5-1)/2, (10-2)/4, (15-3)/0.5.
		{"per channel", func(s Spec) Spec { return s }, []float32{2, 2, 24}},
		// The mean and std are in RGB order: the swap comes after them.
		{"bgr", func(s Spec) Spec { s.Order = BGR; return s }, []float32{24, 2, 2}},
		{"one mean", func(s Spec) Spec { s.Mean = []float32{1}; return s }, []float32{2, 2.25, 28}},
		{"mean only", func(s Spec) Spec { s.Std = nil; return s }, []float32{4, 8, 12}},
		{"std only", func(s Spec) Spec { s.Mean = nil; return s }, []float32{2.5, 2.5, 30}},
		{"scale 0 is 1", func(s Spec) Spec { s.Scale, s.Mean, s.Std = 0, nil, nil; return s }, []float32{10, 20, 30}},
	}
	for _, tc := range tests {
		if got := apply(t, tc.s(base), img); !close32(got, tc.want, 0) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	// ImageNet normalization, computed the way torchvision does in float32
	// apart from the scale: x*float32(1/255), then (x-mean)/std.
	s := Spec{Scale: 1.0 / 255, Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}
	px := Image{H: 1, W: 1, C: 3, Pix: []float32{0, 128, 255}}
	got := apply(t, s, px)
	for c, v := range px.Pix {
		x := v * float32(1.0/255)
		want := (x - s.Mean[c]) / s.Std[c]
		if got[c] != want {
			t.Errorf("imagenet channel %d: %v, want %v", c, got[c], want)
		}
	}
	if math.Abs(float64(got[0])-(-0.485/0.229)) > 1e-6 || math.Abs(float64(got[2])-(1-0.406)/0.225) > 1e-6 {
		t.Errorf("imagenet: %v", got)
	}
}

func TestFromBytes(t *testing.T) {
	img := FromBytes(1, 2, 1, []uint8{0, 255})
	if img.H != 1 || img.W != 2 || img.C != 1 || !close32(img.Pix, []float32{0, 255}, 0) {
		t.Errorf("FromBytes: %+v", img)
	}
	defer func() {
		if recover() == nil {
			t.Error("FromBytes with too few bytes did not panic")
		}
	}()
	FromBytes(2, 2, 1, []uint8{1})
}

func TestApplyErrors(t *testing.T) {
	rgb := Image{H: 2, W: 2, C: 3, Pix: make([]float32, 12)}
	rgba := Image{H: 1, W: 1, C: 4, Pix: make([]float32, 4)}
	tests := []struct {
		name string
		s    Spec
		img  Image
		dst  int
		want string
	}{
		{"mean count", Spec{Mean: []float32{1, 2}}, rgb, 12, "mean has 2 values but the images have 3 channels"},
		{"std count", Spec{Std: []float32{1, 2, 3, 4}}, rgb, 12, "std has 4 values"},
		{"std zero", Spec{Std: []float32{1, 0, 1}}, rgb, 12, "std value 1 is 0"},
		{"std nan", Spec{Std: []float32{float32(math.NaN())}}, rgb, 12, "not a finite number"},
		{"scale inf", Spec{Scale: float32(math.Inf(1))}, rgb, 12, "scale +Inf is not a finite number"},
		{"bgr rgba", Spec{Order: BGR}, rgba, 4, "channels=bgr needs 1- or 3-channel images, these have 4"},
		{"layout", Spec{Layout: 7}, rgb, 12, "unknown layout 7"},
		{"order", Spec{Order: 9}, rgb, 12, "unknown channel order 9"},
		{"resize", Spec{Resize: -1}, rgb, 12, "resize -1 out of range"},
		{"crop", Spec{CenterCrop: [2]int{1, MaxSide + 1}}, rgb, 12, "crop 1x65537 out of range"},
		{"dst", Spec{CenterCrop: [2]int{1, 1}}, rgb, 4, "dst holds 4 values, a 2x2x3 image gives 3x1x1 = 3"},
		{"empty", Spec{}, Image{C: 3}, 0, "image of 0x0 pixels with 3 channels is empty"},
		{"pix", Spec{}, Image{H: 2, W: 2, C: 3, Pix: make([]float32, 11)}, 12, "2x2x3 holds 11 values, want 12"},
	}
	for _, tc := range tests {
		err := tc.s.Apply(tc.img, make([]float32, tc.dst))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "preprocess: ") {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	if err := (Spec{Mean: []float32{1}}).Validate(4); err != nil {
		t.Errorf("one mean for 4 channels: %v", err)
	}
}
