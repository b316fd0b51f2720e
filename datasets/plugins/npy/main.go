// Command int8cal-batchstream-npy serves NumPy arrays as an int8cal data
// set plugin: samples from a .npy file (or an array inside a .npz), labels
// from a second array, with the shared image preprocessing.
//
// Options: x (the samples: file.npy, or file.npz:name), y (labels, same
// forms; optional), stored (the layout of each sample in the file: nchw,
// nhwc, or auto, which takes a trailing dimension of 1, 3 or 4 after a
// larger one as channels-last), and the preprocessing options of package
// datasets/preprocess. The CIFAR-10 arrays, uint8 [N,32,32,3], as
// resnet20.onnx expects them:
//
//	x=cifar10_test_x.npy y=cifar10_test_y.npy scale=1/255
//	mean=0.485,0.456,0.406 std=0.229,0.224,0.225
package main

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/datasets/npy"
	"github.com/int8cal/int8cal/datasets/preprocess"
	"github.com/int8cal/int8cal/datasets/sdk"
)

var info = dataset.Info{
	Name: "npy", Version: "1.0.0",
	Description: "NumPy .npy/.npz arrays (uint8, int8, float16, float32; C order): samples from one array, labels from another",
	Options: sdk.WithPreprocess(
		dataset.Option{Name: "x", Description: "the samples: file.npy or file.npz:array (required)"},
		dataset.Option{Name: "y", Description: "the labels, one integer per sample: file.npy or file.npz:array (optional)"},
		dataset.Option{Name: "stored", Default: "auto", Description: "layout of each sample in the file: nchw, nhwc, or auto (channels last when the last dimension is 1, 3 or 4 and the one before is larger)"},
	),
}

// source serves samples of an array, converted to float32 once.
type source struct {
	values  []float32
	labels  []int64
	per     int  // values per stored sample
	h, w, c int  // a sample as an image, channels last
	nchw    bool // stored channels first: transposed before preprocessing
	spec    preprocess.Spec
	image   bool      // samples are images (rank 3 per sample): preprocessing applies
	flat    []int     // output shape of a non-image sample
	scratch []float32 // one sample in HWC
}

func open(options map[string]string) (sdk.Source, bool, int, error) {
	var x, y, stored string
	var spec preprocess.Spec
	err := dataset.ParseOptions("npy", info.Options, options, func(name, value string) error {
		switch name {
		case "x":
			x = value
		case "y":
			y = value
		case "stored":
			if value != "auto" && value != "nchw" && value != "nhwc" {
				return fmt.Errorf("want auto, nchw or nhwc")
			}
			stored = value
		default:
			return spec.Set(name, value)
		}
		return nil
	})
	if err != nil {
		return nil, false, 0, err
	}
	if x == "" {
		return nil, false, 0, fmt.Errorf("npy: option x is required: the .npy file (or file.npz:array) holding the samples")
	}
	xa, err := readArray(x)
	if err != nil {
		return nil, false, 0, err
	}
	if len(xa.Shape) < 2 {
		return nil, false, 0, fmt.Errorf("npy: %s has shape %v; want one sample per row of the first dimension", x, xa.Shape)
	}
	s := &source{spec: spec}
	if s.values, err = xa.Float32(); err != nil {
		return nil, false, 0, fmt.Errorf("npy: %s: %v", x, err)
	}
	n := xa.Shape[0]
	sample := xa.Shape[1:]
	s.per = len(s.values) / max(n, 1)
	if err := s.layout(sample, stored, spec); err != nil {
		return nil, false, 0, fmt.Errorf("npy: %s: %v", x, err)
	}
	if y == "" {
		return s, false, 0, nil
	}
	ya, err := readArray(y)
	if err != nil {
		return nil, false, 0, err
	}
	if s.labels, err = ya.Ints(); err != nil {
		return nil, false, 0, fmt.Errorf("npy: %s: %v", y, err)
	}
	if len(s.labels) != n {
		return nil, false, 0, fmt.Errorf("npy: %s holds %d labels but %s holds %d samples", y, len(s.labels), x, n)
	}
	classes := 0
	for i, l := range s.labels {
		if l < 0 || l > 1<<20 {
			return nil, false, 0, fmt.Errorf("npy: %s: label %d of sample %d is not a class index", y, l, i)
		}
		classes = max(classes, int(l)+1)
	}
	return s, true, classes, nil
}

// layout works out how a stored sample maps onto an image.
func (s *source) layout(sample []int, stored string, spec preprocess.Spec) error {
	if len(sample) != 3 {
		if !reflect.DeepEqual(spec, preprocess.Spec{}) {
			return fmt.Errorf("samples of shape %v are not images; preprocessing options need [C,H,W] or [H,W,C] samples", sample)
		}
		s.flat = append([]int(nil), sample...)
		return nil
	}
	s.image = true
	if stored == "auto" {
		stored = "nchw"
		if last := sample[2]; (last == 1 || last == 3 || last == 4) && sample[1] > last {
			stored = "nhwc"
		}
	}
	if stored == "nhwc" {
		s.h, s.w, s.c = sample[0], sample[1], sample[2]
	} else {
		s.c, s.h, s.w = sample[0], sample[1], sample[2]
		s.nchw = true
		s.scratch = make([]float32, s.per)
	}
	return spec.Validate(s.c)
}

func readArray(ref string) (*npy.Array, error) {
	file, name, isNPZ := strings.Cut(ref, ".npz:")
	if !isNPZ {
		a, err := npy.ReadFile(ref)
		if err != nil {
			return nil, fmt.Errorf("npy: %v", err)
		}
		return a, nil
	}
	file += ".npz"
	arrays, err := npy.ReadNPZ(file)
	if err != nil {
		return nil, fmt.Errorf("npy: %v", err)
	}
	a, ok := arrays[name]
	if !ok {
		var names []string
		for k := range arrays {
			names = append(names, k)
		}
		return nil, fmt.Errorf("npy: %s holds no array %q (it holds %s)", file, name, strings.Join(names, ", "))
	}
	return a, nil
}

func (s *source) Len() int { return len(s.values) / max(s.per, 1) }

func (s *source) SampleShape() []int {
	if !s.image {
		return s.flat
	}
	return s.spec.OutputShape(s.h, s.w, s.c)
}

func (s *source) Read(first, n int, images []float32, labels []int) error {
	if first < 0 || n < 0 || first+n > s.Len() {
		return fmt.Errorf("npy: samples [%d,%d) requested, the array has %d", first, first+n, s.Len())
	}
	out := 1
	for _, d := range s.SampleShape() {
		out *= d
	}
	for i := 0; i < n; i++ {
		v := s.values[(first+i)*s.per : (first+i+1)*s.per]
		dst := images[i*out : (i+1)*out]
		if !s.image {
			copy(dst, v)
		} else {
			if s.nchw {
				for c := 0; c < s.c; c++ {
					for p := 0; p < s.h*s.w; p++ {
						s.scratch[p*s.c+c] = v[c*s.h*s.w+p]
					}
				}
				v = s.scratch
			}
			if err := s.spec.Apply(preprocess.Image{H: s.h, W: s.w, C: s.c, Pix: v}, dst); err != nil {
				return fmt.Errorf("npy: sample %d: %v", first+i, err)
			}
		}
		if labels != nil {
			labels[i] = int(s.labels[first+i])
		}
	}
	return nil
}

func newStream() dataset.BatchStream { return sdk.FromSource(info, open) }

func main() { sdk.Serve(newStream()) }
