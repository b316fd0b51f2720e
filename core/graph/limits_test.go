package graph

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/memlimit"
)

// constantOfShapeModel writes, with the ONNX encoder, a model whose node
// "cos" makes a constant of the given shape at load time and adds it to
// the input: 1 kB on disk whatever the shape.
func constantOfShapeModel(t *testing.T, dims ...int64) string {
	t.Helper()
	m := model(13, []*onnx.Node{
		node("ConstantOfShape", "cos", []string{"dims"}, []string{"c"}),
		node("Add", "add", []string{"x", "c"}, []string{"y"}),
	}, &onnx.Initializer{Name: "dims", Tensor: tensor.FromInt64(dims, len(dims))})
	path := filepath.Join(t.TempDir(), "cos.onnx")
	if err := onnx.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	return path
}

// Shapes whose element count overflows int are errors naming the node and
// the tensor: [2^31, 2^32, 3] panicked (makeslice: len out of range) while
// folding, [2^32, 2^32] wrapped to 0 elements and loaded.
func TestShapeOverflowNamesTheNode(t *testing.T) {
	for _, dims := range [][]int64{{1 << 31, 1 << 32, 3}, {1 << 32, 1 << 32}, {-1, 4}} {
		path := constantOfShapeModel(t, dims...)
		_, err := Load(path)
		if err == nil {
			t.Fatalf("%v: loaded", dims)
		}
		for _, want := range []string{"cos.onnx", `node "cos" (ConstantOfShape)`, `output "c"`, "shape ["} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v: error %q lacks %q", dims, err, want)
			}
		}
		var se *tensor.ShapeError
		if !errors.As(err, &se) {
			t.Errorf("%v: error %q is not a *tensor.ShapeError", dims, err)
		}
	}
}

// The model: 1 kB that asks for 4 GiB at load time is refused
// under a smaller budget, before anything is allocated.
func TestLoadRefusesConstantsOverTheBudget(t *testing.T) {
	path := constantOfShapeModel(t, 16384, 16384, 4)
	budget := memlimit.Budget{Limit: 64 << 20, Hint: "--memory-limit to change"}
	_, err := Options{Budget: budget}.Load(path)
	want := `node "cos" (ConstantOfShape): tensor "c" float32[16384,16384,4] needs 4.0 GiB on top of 24 B already taken; the memory limit is 64.0 MiB (--memory-limit to change)`
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("error\n%v\nwant one ending in\n%s", err, want)
	}
	var le *memlimit.Error
	if !errors.As(err, &le) || le.Asked != 4<<30 {
		t.Errorf("error %#v is not a *memlimit.Error asking 4 GiB", err)
	}

	// A small constant fits, and the graph keeps its budget for the
	// engines made from it.
	g, err := Options{Budget: budget}.Load(constantOfShapeModel(t, 4, 4))
	if err != nil {
		t.Fatal(err)
	}
	if g.Budget != budget || g.ConstantBytes() != 16+64 {
		t.Errorf("budget %+v, constants %d bytes; want %+v, 80", g.Budget, g.ConstantBytes(), budget)
	}
}

func TestInitializersCountAgainstTheBudget(t *testing.T) {
	w := &onnx.Initializer{Name: "w", Tensor: tensor.New(tensor.Float32, 16, 16)}
	m := model(13, []*onnx.Node{node("Add", "add", []string{"x", "w"}, []string{"y"})}, w)
	_, err := Options{Budget: memlimit.Budget{Limit: 1000}}.FromONNX(m)
	if err == nil || !strings.Contains(err.Error(), `initializers: tensor "w" float32[16,16] needs 1.0 KiB; the memory limit is 1000 B`) {
		t.Errorf("error %v", err)
	}
}
