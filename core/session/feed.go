package session

import (
	"fmt"
	"math"
	"strings"

	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/internal/float16"
)

// TensorSource is labelled data whose samples are several named inputs of
// any dataset.ElementType: a data set plugin speaking
// int8cal.batchstream.v2 (core/pluginhost.BatchStream). A Source that is a
// TensorSource with Inputs is fed through ReadTensors.
type TensorSource interface {
	Len() int
	// Inputs describes the samples' inputs; none for a source of
	// SampleShape float32 samples.
	Inputs() []dataset.Input
	// ReadTensors writes samples [first, first+n) into inputs (one per
	// Inputs entry, of its type, room for n samples) and their class
	// indices into labels.
	ReadTensors(first, n int, inputs []dataset.Tensor, labels []int) error
}

// Feed reads batches of a data set as the model's inputs. NewFeed matches
// the data with the model's inputs before anything runs; Read converts
// values where the model's input type needs it and checks float values
// finite (integer ids and masks need no such check).
type Feed struct {
	src    Source
	ts     TensorSource // nil: src's float32 samples feed the model's only input
	batch  int
	images []float32        // a Source's batch
	bufs   []dataset.Tensor // a TensorSource's batch, per data input
	fed    []*tensor.Tensor // the model input each feeds
	inputs map[string]*tensor.Tensor
}

// NewFeed matches src with the model's inputs for batches of batch
// samples. A TensorSource's inputs are matched by name (a single unnamed
// input feeds the model's only input), every model input needing one and
// every data input feeding one; a plain Source's float32 samples feed the
// model's only input. Element types must convert without changing a value
// (float32 data for a float16 input is rounded), shapes must be the
// model's with the batch first. Errors name the input, what the model
// takes and what the data gives.
func NewFeed(src Source, model []graph.Value, batch int) (*Feed, error) {
	f := &Feed{src: src, batch: batch, inputs: map[string]*tensor.Tensor{}}
	var data []dataset.Input
	if ts, ok := src.(TensorSource); ok {
		if data = ts.Inputs(); len(data) > 0 {
			f.ts = ts
		}
	}
	if f.ts == nil {
		if len(model) != 1 {
			return nil, fmt.Errorf("the model has %d inputs (%s); the data gives one float32 sample each (a data set plugin of protocol 1, or MNIST read in process): give the inputs by name through a data set plugin of protocol 2 (e.g. the npy plugin with an .npz of arrays named after them)", len(model), describeModel(model))
		}
		shape := append([]int{batch}, src.SampleShape()...)
		if err := checkInput(model[0], dataset.Float32, shape); err != nil {
			return nil, err
		}
		f.images = make([]float32, tensor.NumElements(shape))
		f.inputs[model[0].Name] = tensor.FromFloat32(f.images, shape...)
		return f, nil
	}
	if len(data) == 1 && data[0].Name == "" {
		if len(model) != 1 {
			return nil, fmt.Errorf("the data set gives one unnamed input; the model has %d (%s): name the data's inputs after them", len(model), describeModel(model))
		}
		data = []dataset.Input{{Name: model[0].Name, Type: data[0].Type, Shape: data[0].Shape}}
	}
	byName := map[string]dataset.Input{}
	for _, in := range data {
		byName[in.Name] = in
	}
	for _, m := range model {
		if _, ok := byName[m.Name]; !ok {
			return nil, fmt.Errorf("the model's input %q (%v %s) is not in the data set, whose inputs are %s", m.Name, m.DType, tensor.InputShapeString(m.Shape), describeData(data))
		}
	}
	for _, in := range data {
		m, ok := modelInput(model, in.Name)
		if !ok {
			return nil, fmt.Errorf("the data set's input %q is not an input of the model (inputs: %s)", in.Name, describeModel(model))
		}
		shape := append([]int{batch}, in.Shape...)
		if err := checkInput(m, in.Type, shape); err != nil {
			return nil, err
		}
		t := tensor.New(m.DType, shape...)
		f.inputs[m.Name] = t
		f.fed = append(f.fed, t)
		f.bufs = append(f.bufs, dataset.NewTensor(in.Type, batch*in.Elements()))
	}
	return f, nil
}

func modelInput(model []graph.Value, name string) (graph.Value, bool) {
	for _, m := range model {
		if m.Name == name {
			return m, true
		}
	}
	return graph.Value{}, false
}

// checkInput says whether values of type t and shape fit the model's
// input m.
func checkInput(m graph.Value, t dataset.ElementType, shape []int) error {
	if !Converts(t, m.DType) {
		return fmt.Errorf("input %q: the model takes %v, the data set gives %v; give %s", m.Name, m.DType, t, convertible(m.DType))
	}
	if m.Shape == nil {
		return nil
	}
	ok := len(m.Shape) == len(shape)
	for i := 0; ok && i < len(shape); i++ {
		ok = m.Shape[i] < 0 || m.Shape[i] == shape[i]
	}
	if !ok {
		return fmt.Errorf("input %q of the model has shape %s, the data has %s", m.Name, tensor.InputShapeString(m.Shape), tensor.ShapeString(shape))
	}
	return nil
}

// exactRange is the range of integers every value of which a type holds
// exactly: its values for integer types, the integers a float's
// significand holds for float types.
var exactRange = map[tensor.DType][2]int64{
	tensor.Bool: {0, 1}, tensor.Uint8: {0, math.MaxUint8}, tensor.Int8: {math.MinInt8, math.MaxInt8},
	tensor.Int32: {math.MinInt32, math.MaxInt32}, tensor.Int64: {math.MinInt64, math.MaxInt64},
	tensor.Float16: {-1 << 11, 1 << 11}, tensor.Float32: {-1 << 24, 1 << 24}, tensor.Float64: {-1 << 53, 1 << 53},
}

// Converts reports whether data of type from can feed a model input of
// type to: every value of from is a value of to (integers and bools widen,
// into floats while the significand holds them), or both are floats
// (float32 data for a float16 input is rounded to nearest even, as the
// input's type requires). Bool inputs take bools only.
func Converts(from dataset.ElementType, to tensor.DType) bool {
	f := tensor.DType(from) // dataset.ElementType is numbered as ONNX's
	if f.IsFloat() {
		return to.IsFloat()
	}
	rf, okf := exactRange[f]
	rt, okt := exactRange[to]
	return okf && okt && (to != tensor.Bool || f == tensor.Bool) && rt[0] <= rf[0] && rf[1] <= rt[1]
}

// convertible lists the data types that feed a model input of type to.
func convertible(to tensor.DType) string {
	var names []string
	for _, t := range []dataset.ElementType{dataset.Bool, dataset.Uint8, dataset.Int8, dataset.Int32, dataset.Int64, dataset.Float16, dataset.Float32} {
		if Converts(t, to) {
			names = append(names, t.String())
		}
	}
	if len(names) == 0 {
		return "no data type this host reads (" + to.String() + " inputs are not supported)"
	}
	if len(names) == 1 {
		return names[0] + " values"
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1] + " values"
}

// Read reads the batch of samples [first, first+batch) into the model's
// inputs and their class indices into labels, and returns the inputs
// (the same tensors each time). Float values must be finite: the error
// names the sample, the input and the element otherwise.
// Inputs returns the tensors Read fills, one per model input (the values
// of the last batch read; zeros before the first).
func (f *Feed) Inputs() map[string]*tensor.Tensor { return f.inputs }

// ReadInto has Read write the model's only input, float32 samples of a
// plain Source, straight into buf: a runner's staging buffer (session.Stager),
// which then needs no copy. It reports false, changing nothing, for any
// other input or a buf not of the batch's size.
func (f *Feed) ReadInto(name string, buf []float32) bool {
	t, ok := f.inputs[name]
	if f.ts != nil || !ok || len(buf) != len(f.images) {
		return false
	}
	f.images, t.F32 = buf, buf
	return true
}

func (f *Feed) Read(first int, labels []int) (map[string]*tensor.Tensor, error) {
	if f.ts == nil {
		return f.inputs, ReadFinite(f.src, first, f.batch, f.images, labels)
	}
	if err := ReadTensorsFinite(f.ts, first, f.batch, f.bufs, labels); err != nil {
		return nil, err
	}
	for i, t := range f.fed {
		convert(t, f.bufs[i])
	}
	return f.inputs, nil
}

// ReadTensorsFinite is ReadFinite for a TensorSource: it reads samples
// [first, first+n) and checks the values of its float inputs (float32,
// float16) finite; integer ids and masks need no check. The error names
// the sample, the input and the element. A source that checks its own
// samples (a FiniteChecker) is read without scanning them again.
func ReadTensorsFinite(src TensorSource, first, n int, inputs []dataset.Tensor, labels []int) error {
	if err := src.ReadTensors(first, n, inputs, labels); err != nil {
		return err
	}
	if c, ok := src.(FiniteChecker); ok && c.ChecksFinite() {
		return nil
	}
	for i, in := range src.Inputs() {
		size := n * in.Elements()
		var values []float32
		switch in.Type {
		case dataset.Float32:
			values = inputs[i].Float32s()[:size]
		case dataset.Float16:
			values = make([]float32, size)
			for k, h := range inputs[i].Float16s()[:size] {
				values[k] = float16.ToFloat32(h)
			}
		}
		if err := checkFinite(values, first, in.Shape, in.Name); err != nil {
			return err
		}
	}
	return nil
}

// convert writes src's values into dst, of a type they convert to
// (Converts).
func convert(dst *tensor.Tensor, src dataset.Tensor) {
	switch src.Type {
	case dataset.Float32:
		copy(dst.F32, src.Float32s())
		if dst.DType == tensor.Float16 {
			tensor.RoundToFloat16(dst.F32)
		}
	case dataset.Float16:
		for i, v := range src.Float16s() {
			dst.F32[i] = float16.ToFloat32(v)
		}
	case dataset.Int64:
		put(dst, src.Int64s())
	case dataset.Int32:
		put(dst, src.Int32s())
	case dataset.Int8:
		put(dst, src.Int8s())
	default:
		put(dst, src.Data) // uint8, and bool (one byte, 0 or 1)
	}
}

// put widens integers into dst's values.
func put[T int64 | int32 | int8 | uint8](dst *tensor.Tensor, v []T) {
	if dst.DType.IsFloat() {
		for i, x := range v {
			dst.F32[i] = float32(x)
		}
		return
	}
	for i, x := range v {
		dst.I64[i] = int64(x)
	}
}

func describeModel(model []graph.Value) string {
	parts := make([]string, len(model))
	for i, m := range model {
		parts[i] = fmt.Sprintf("%q %v %s", m.Name, m.DType, tensor.InputShapeString(m.Shape))
	}
	return strings.Join(parts, ", ")
}

func describeData(data []dataset.Input) string {
	parts := make([]string, len(data))
	for i, in := range data {
		parts[i] = fmt.Sprintf("%q %v %s", in.Name, in.Type, tensor.ShapeString(in.Shape))
	}
	return strings.Join(parts, ", ")
}
