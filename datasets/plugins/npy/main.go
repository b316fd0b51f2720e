// Command int8cal-batchstream-npy serves NumPy arrays as an int8cal data
// set plugin (int8cal.batchstream.v2): images from one array, or the named
// inputs of a model (token ids, masks, any of the protocol's element
// types) from several, and labels from another.
//
// Images: x is file.npy or file.npz:array, delivered as the model's only
// input in float32 with the shared image preprocessing; stored says the
// layout of each sample in the file (nchw, nhwc, or auto, which takes a
// trailing dimension of 1, 3 or 4 after a larger one as channels-last).
// The CIFAR-10 arrays, uint8 [N,32,32,3], as resnet20.onnx expects them:
//
//	x=cifar10_test_x.npy y=cifar10_test_y.npy scale=1/255
//	mean=0.485,0.456,0.406 std=0.229,0.224,0.225
//
// Named inputs: x is a whole file.npz, whose arrays are the inputs named
// after them (an array named y gives the labels instead), or inputs maps
// model input names to arrays explicitly. Values keep their type (uint8,
// int8, bool, float16, float32, int32, int64; float64 becomes float32);
// the host converts them to the model's input types where no value
// changes, and refuses other pairs naming the input. A BERT-style encoder:
//
//	x=tokens.npz                  (arrays input_ids, attention_mask, y)
//	inputs=input_ids=ids.npy,attention_mask=mask.npy y=labels.npy
package main

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/datasets/npy"
	"github.com/int8cal/int8cal/datasets/preprocess"
	"github.com/int8cal/int8cal/datasets/sdk"
)

var info = dataset.Info{
	Name: "npy", Version: "1.0.0",
	Description: "NumPy .npy/.npz arrays (C order): images from one array, or a model's named inputs from several, labels from another",
	Options: sdk.WithPreprocess(
		dataset.Option{Name: "x", Description: "the samples: file.npy or file.npz:array (images, float32, preprocessed), or file.npz (its arrays are the inputs named after them; one named y gives the labels)"},
		dataset.Option{Name: "inputs", Description: "the named inputs instead of x: name=file.npy or name=file.npz:array, comma-separated; values keep their type"},
		dataset.Option{Name: "y", Description: "the labels, one integer per sample: file.npy or file.npz:array (optional)"},
		dataset.Option{Name: "stored", Default: "auto", Description: "layout of each sample in the file: nchw, nhwc, or auto (channels last when the last dimension is 1, 3 or 4 and the one before is larger)"},
	),
}

// source serves images of an array, converted to float32 once.
type source struct {
	values  []float32
	per     int  // values per stored sample
	h, w, c int  // a sample as an image, channels last
	nchw    bool // stored channels first: transposed before preprocessing
	spec    preprocess.Spec
	image   bool      // samples are images (rank 3 per sample): preprocessing applies
	flat    []int     // output shape of a non-image sample
	scratch []float32 // one sample in HWC
}

// stream is the data set: images (one unnamed float32 input) or named
// arrays, and labels.
type stream struct {
	images *source
	arrays []array
	labels []int64
	meta   dataset.Meta
}

// array is one named input: little-endian values, per bytes a sample.
type array struct {
	data []byte
	per  int
}

func (s *stream) Info() dataset.Info { return info }

func (s *stream) Open(options map[string]string) (dataset.Meta, error) {
	*s = stream{}
	var x, y, inputs, stored string
	var spec preprocess.Spec
	err := dataset.ParseOptions("npy", info.Options, options, func(name, value string) error {
		switch name {
		case "x":
			x = value
		case "y":
			y = value
		case "inputs":
			inputs = value
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
		return dataset.Meta{}, err
	}
	var named map[string]string // input name → array reference
	switch {
	case x == "" && inputs == "":
		return dataset.Meta{}, fmt.Errorf("npy: option x is required: the .npy file (or file.npz:array) holding the samples, or a .npz of named inputs (or give inputs=name=file.npy,...)")
	case x != "" && inputs != "":
		return dataset.Meta{}, fmt.Errorf("npy: x=%s and inputs=%s both given; give one", x, inputs)
	case inputs != "":
		if named, err = parseInputs(inputs); err != nil {
			return dataset.Meta{}, err
		}
	case strings.HasSuffix(x, ".npz"):
		if named, err = npzInputs(x, &y); err != nil {
			return dataset.Meta{}, err
		}
	}
	if named != nil && !reflect.DeepEqual(spec, preprocess.Spec{}) {
		return dataset.Meta{}, fmt.Errorf("npy: the preprocessing options apply to images (x=file.npy or file.npz:array), not to named inputs")
	}
	n := 0
	if named == nil {
		if s.images, err = openImages(x, stored, spec); err != nil {
			return dataset.Meta{}, err
		}
		n = s.images.Len()
		s.meta.Inputs = []dataset.Input{{Type: dataset.Float32, Shape: s.images.SampleShape()}}
	} else if n, err = s.openArrays(named); err != nil {
		return dataset.Meta{}, err
	}
	s.meta.Samples = n
	if y != "" {
		if s.labels, s.meta.Classes, err = readLabels(y, n); err != nil {
			return dataset.Meta{}, err
		}
		s.meta.Labels = true
	}
	return s.meta, nil
}

// parseInputs reads inputs=name=ref,name=ref.
func parseInputs(v string) (map[string]string, error) {
	named := map[string]string{}
	for _, part := range strings.Split(v, ",") {
		name, ref, ok := strings.Cut(part, "=")
		switch {
		case !ok || name == "" || ref == "":
			return nil, fmt.Errorf("npy: inputs: %q is not name=file.npy (or name=file.npz:array)", part)
		case named[name] != "":
			return nil, fmt.Errorf("npy: inputs: input %q given twice", name)
		}
		named[name] = ref
	}
	return named, nil
}

// npzInputs maps every array of a .npz but y to the input named after it;
// its y array gives the labels unless the y option does.
func npzInputs(file string, y *string) (map[string]string, error) {
	arrays, err := npy.ReadNPZ(file)
	if err != nil {
		return nil, fmt.Errorf("npy: %v", err)
	}
	named := map[string]string{}
	for name := range arrays {
		if name == "y" {
			if *y == "" {
				*y = file + ":y"
			}
			continue
		}
		named[name] = file + ":" + name
	}
	if len(named) == 0 {
		return nil, fmt.Errorf("npy: %s holds no arrays besides y", file)
	}
	return named, nil
}

// elementTypes are the protocol's types of the npy descrs that keep their
// type; <f8 becomes float32.
var elementTypes = map[string]dataset.ElementType{
	"|u1": dataset.Uint8, "|i1": dataset.Int8, "|b1": dataset.Bool, "<f2": dataset.Float16,
	"<f4": dataset.Float32, "<i4": dataset.Int32, "<i8": dataset.Int64,
}

// openArrays reads the named inputs, in name order, and returns their
// number of samples, which must agree.
func (s *stream) openArrays(named map[string]string) (int, error) {
	n, first := 0, ""
	for _, name := range slices.Sorted(maps.Keys(named)) {
		ref := named[name]
		a, err := readArray(ref)
		if err != nil {
			return 0, err
		}
		if len(a.Shape) < 2 {
			return 0, fmt.Errorf("npy: input %q: %s has shape %v; want one sample per row of the first dimension", name, ref, a.Shape)
		}
		if first == "" {
			n, first = a.Shape[0], ref
		} else if a.Shape[0] != n {
			return 0, fmt.Errorf("npy: input %q: %s holds %d samples but %s holds %d", name, ref, a.Shape[0], first, n)
		}
		if a.Descr == "<f8" {
			v, err := a.Float32()
			if err != nil {
				return 0, fmt.Errorf("npy: input %q: %s: %v", name, ref, err)
			}
			a = npy.NewFloat32(a.Shape, v)
		}
		t, ok := elementTypes[a.Descr]
		if !ok {
			return 0, fmt.Errorf("npy: input %q: %s holds %s values, which no input takes", name, ref, a.Descr)
		}
		in := dataset.Input{Name: name, Type: t, Shape: a.Shape[1:]}
		s.meta.Inputs = append(s.meta.Inputs, in)
		s.arrays = append(s.arrays, array{data: a.Data, per: in.Elements() * t.Size()})
	}
	return n, nil
}

// readLabels reads n class indices and the number of classes they imply.
func readLabels(y string, n int) ([]int64, int, error) {
	ya, err := readArray(y)
	if err != nil {
		return nil, 0, err
	}
	labels, err := ya.Ints()
	if err != nil {
		return nil, 0, fmt.Errorf("npy: %s: %v", y, err)
	}
	if len(labels) != n {
		return nil, 0, fmt.Errorf("npy: %s holds %d labels but the samples are %d", y, len(labels), n)
	}
	classes := 0
	for i, l := range labels {
		if l < 0 || l > 1<<20 {
			return nil, 0, fmt.Errorf("npy: %s: label %d of sample %d is not a class index", y, l, i)
		}
		classes = max(classes, int(l)+1)
	}
	return labels, classes, nil
}

func (s *stream) ReadTensors(first, n int, inputs []dataset.Tensor, labels []int32) error {
	if first < 0 || n < 0 || first > s.meta.Samples-n {
		return fmt.Errorf("npy: samples [%d,%d) requested, the arrays have %d", first, first+n, s.meta.Samples)
	}
	if s.images != nil {
		if err := s.images.Read(first, n, inputs[0].Float32s()); err != nil {
			return err
		}
	}
	for i, a := range s.arrays {
		dataset.CopyLittleEndian(inputs[i].Data, a.data[first*a.per:(first+n)*a.per], inputs[i].Type.Size())
	}
	for i := range labels {
		labels[i] = int32(s.labels[first+i])
	}
	return nil
}

func (s *stream) Close() error {
	*s = stream{}
	return nil
}

// openImages reads x as images, converted to float32 once.
func openImages(x, stored string, spec preprocess.Spec) (*source, error) {
	xa, err := readArray(x)
	if err != nil {
		return nil, err
	}
	if len(xa.Shape) < 2 {
		return nil, fmt.Errorf("npy: %s has shape %v; want one sample per row of the first dimension", x, xa.Shape)
	}
	s := &source{spec: spec}
	if s.values, err = xa.Float32(); err != nil {
		return nil, fmt.Errorf("npy: %s: %v", x, err)
	}
	s.per = len(s.values) / max(xa.Shape[0], 1)
	if err := s.layout(xa.Shape[1:], stored, spec); err != nil {
		return nil, fmt.Errorf("npy: %s: %v", x, err)
	}
	return s, nil
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

func (s *source) Read(first, n int, images []float32) error {
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
	}
	return nil
}

func main() { sdk.ServeTensors(&stream{}) }
