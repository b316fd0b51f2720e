package ops_test

import (
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// The patterns of a YOLOv8-style head and a U-Net up block as exporters
// write them, through graph and engine: a grid from Range over a
// dimension read with Shape (folded when the plan fixes the input shape),
// Expand to the feature map's size, a nearest 2× Resize, Split with
// num_outputs and a ConvTranspose, planned for two input sizes.
func TestShapeOpsThroughThePlan(t *testing.T) {
	node := func(op string, in, out []string, attrs ...*onnx.Attribute) *onnx.Node {
		return &onnx.Node{Name: op + "_" + out[0], OpType: op, Inputs: in, Outputs: out, Attrs: attrs}
	}
	ints := func(name string, v ...int64) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrInts, Ints: v}
	}
	str := func(name, v string) *onnx.Attribute { return &onnx.Attribute{Name: name, Type: onnx.AttrString, S: v} }
	initializer := func(name string, t *tensor.Tensor) *onnx.Initializer { return &onnx.Initializer{Name: name, Tensor: t} }
	weights := tensor.New(tensor.Float32, 2, 3, 2, 2) // ConvTranspose: C=2 in, 3 out, 2×2
	for i := range weights.F32 {
		weights.F32[i] = 1
	}
	m := &onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 18}, Graph: &onnx.Graph{
		Name: "head",
		Inputs: []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32, HasShape: true,
			Dims: []onnx.Dim{{Value: 1}, {Value: 4}, {Param: "H"}, {Param: "W"}}}},
		Outputs: []*onnx.ValueInfo{{Name: "grid"}, {Name: "b"}, {Name: "up2"}},
		Initializers: []*onnx.Initializer{
			initializer("i2", tensor.FromInt64([]int64{2})), initializer("i3", tensor.FromInt64([]int64{3})),
			initializer("zero", tensor.FromInt64([]int64{0})), initializer("one", tensor.FromInt64([]int64{1})),
			initializer("half", tensor.FromFloat32([]float32{0.5})),
			initializer("scales", tensor.FromFloat32([]float32{1, 1, 2, 2}, 4)),
			initializer("w", weights),
		},
		Nodes: []*onnx.Node{
			node("Shape", []string{"x"}, []string{"s"}),
			node("Gather", []string{"s", "i2"}, []string{"h"}),
			node("Gather", []string{"s", "i3"}, []string{"wd"}),
			node("Range", []string{"zero", "wd", "one"}, []string{"cols"}),
			node("Cast", []string{"cols"}, []string{"colsf"}, &onnx.Attribute{Name: "to", Type: onnx.AttrInt, I: int64(tensor.Float32)}),
			node("Add", []string{"colsf", "half"}, []string{"centres"}),
			node("Unsqueeze", []string{"h", "zero"}, []string{"h1"}),
			node("Unsqueeze", []string{"wd", "zero"}, []string{"w1"}),
			node("Concat", []string{"h1", "w1"}, []string{"hw"}, &onnx.Attribute{Name: "axis", Type: onnx.AttrInt}),
			node("Expand", []string{"centres", "hw"}, []string{"grid"}),
			node("Resize", []string{"x", "", "scales"}, []string{"up"}, str("mode", "nearest"),
				str("coordinate_transformation_mode", "asymmetric"), str("nearest_mode", "floor")),
			node("Split", []string{"up"}, []string{"a", "b"}, &onnx.Attribute{Name: "axis", Type: onnx.AttrInt, I: 1},
				&onnx.Attribute{Name: "num_outputs", Type: onnx.AttrInt, I: 2}),
			node("ConvTranspose", []string{"a", "w"}, []string{"up2"}, ints("strides", 2, 2)),
		},
	}}
	g, err := graph.FromONNX(m)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(g, engine.Options{Workers: 2})
	for _, hw := range [][2]int{{3, 5}, {4, 2}} {
		h, w := hw[0], hw[1]
		x := tensor.New(tensor.Float32, 1, 4, h, w)
		for i := range x.F32 {
			x.F32[i] = float32(i)
		}
		out, err := eng.Run(map[string]*tensor.Tensor{"x": x})
		if err != nil {
			t.Fatalf("%d×%d: %v", h, w, err)
		}
		grid, b, up2 := out["grid"], out["b"], out["up2"]
		if !tensor.EqualShape(grid.Shape, []int{h, w}) || !tensor.EqualShape(b.Shape, []int{1, 2, 2 * h, 2 * w}) ||
			!tensor.EqualShape(up2.Shape, []int{1, 3, 4 * h, 4 * w}) {
			t.Fatalf("%d×%d: shapes %v, %v, %v", h, w, grid.Shape, b.Shape, up2.Shape)
		}
		for i, v := range grid.F32 {
			if want := float32(i%w) + 0.5; v != want {
				t.Fatalf("%d×%d: grid[%d] = %g, want %g", h, w, i, v, want)
			}
		}
		// b is channels 2 and 3 of x, each pixel repeated 2×2.
		for c := 0; c < 2; c++ {
			for y := 0; y < 2*h; y++ {
				for xx := 0; xx < 2*w; xx++ {
					got := b.F32[(c*2*h+y)*2*w+xx]
					if want := x.F32[((2+c)*h+y/2)*w+xx/2]; got != want {
						t.Fatalf("%d×%d: b[%d,%d,%d] = %g, want %g", h, w, c, y, xx, got, want)
					}
				}
			}
		}
		// Kernel 2, stride 2, weights of ones: each output pixel is the
		// sum over the two input channels of the pixel it came from.
		for y := 0; y < 4*h; y++ {
			for xx := 0; xx < 4*w; xx++ {
				want := float32(0)
				for c := 0; c < 2; c++ {
					want += x.F32[(c*h+y/4)*w+xx/4]
				}
				for o := 0; o < 3; o++ {
					if got := up2.F32[(o*4*h+y)*4*w+xx]; got != want {
						t.Fatalf("%d×%d: up2[%d,%d,%d] = %g, want %g", h, w, o, y, xx, got, want)
					}
				}
			}
		}
	}
}
