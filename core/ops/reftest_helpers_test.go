package ops

// Helpers shared by the *_ref_test.go files: building nodes, running an
// operator the way the executor does (Infer, Prepare, allocate, Run), and
// comparing results with independently computed references.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// Attribute constructors.

func aInt(name string, v int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInt, I: v}
}

func aInts(name string, v ...int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInts, Ints: v}
}

func aFloat(name string, v float32) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrFloat, F: v}
}

func aFloats(name string, v ...float32) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrFloats, Floats: v}
}

func aString(name, v string) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrString, S: v}
}

func aTensor(name string, t *tensor.Tensor) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrTensor, T: t}
}

// rtNode returns a node named after its operator.
func rtNode(opType string, attrs ...*onnx.Attribute) *onnx.Node {
	return &onnx.Node{Name: "node_" + opType, OpType: opType, Attrs: attrs}
}

// rtBuild builds an operator and fails the test on error.
func rtBuild(t testing.TB, opset int64, opType string, attrs ...*onnx.Attribute) Op {
	t.Helper()
	op, err := Build(rtNode(opType, attrs...), opset)
	if err != nil {
		t.Fatalf("Build(%s, opset %d): %v", opType, opset, err)
	}
	return op
}

// Tensor constructors.

func f32(shape []int, v ...float32) *tensor.Tensor {
	return tensor.FromFloat32(append([]float32(nil), v...), shape...)
}

func i64(shape []int, v ...int64) *tensor.Tensor {
	return tensor.FromInt64(append([]int64(nil), v...), shape...)
}

func sh(d ...int) []int {
	if d == nil {
		return []int{}
	}
	return d
}

// iota32 returns 1, 2, ..., n as float32 in the given shape.
func iota32(shape ...int) *tensor.Tensor {
	n := tensor.NumElements(shape)
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i + 1)
	}
	return tensor.FromFloat32(v, shape...)
}

// iota64 returns 0, 1, ..., n-1 as int64 in the given shape.
func iota64(shape ...int) *tensor.Tensor {
	n := tensor.NumElements(shape)
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(i)
	}
	return tensor.FromInt64(v, shape...)
}

func rtRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// randT returns a float32 tensor with values uniform in [-1, 1).
func randT(r *rand.Rand, shape ...int) *tensor.Tensor {
	n := tensor.NumElements(shape)
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return tensor.FromFloat32(v, shape...)
}

// allConst marks every input as known at load time.
var allConst []bool

// constAt marks only the listed inputs (of n) as constants.
func constAt(n int, idx ...int) []bool {
	c := make([]bool, n)
	for _, i := range idx {
		c[i] = true
	}
	return c
}

// Sentinels written into outputs before Run, so that an element the kernel
// forgets to write shows up as a mismatch instead of a lucky zero.
var (
	sentinelF = float32(math.NaN())
	sentinelI = int64(-0x5a5a5a5a5a5a5a5a)
)

// rtEval does what the executor does for one node: Infer with the inputs
// marked constant (constant == nil: all of them) as consts, Prepare if the
// operator implements Preparer, allocation of the first nOut outputs
// (pre-filled with sentinels) and Run with the given worker count.
// in[i] == nil is an omitted optional input. It also checks that Run leaves
// its inputs unchanged.
// A panic in the operator is returned as an error, so that one crashing
// kernel fails its own test instead of the whole package.
func rtEval(op Op, workers, nOut int, in []*tensor.Tensor, constant []bool) (_ []*tensor.Tensor, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	metas := make([]Meta, len(in))
	consts := make([]*tensor.Tensor, len(in))
	saved := make([]*tensor.Tensor, len(in))
	for i, x := range in {
		if x == nil {
			continue
		}
		metas[i] = Meta{DType: x.DType, Shape: append([]int(nil), x.Shape...)}
		if constant == nil || (i < len(constant) && constant[i]) {
			consts[i] = x
		}
		saved[i] = x.Clone()
	}
	outMetas, err := Infer(op, metas, consts, nil)
	if err != nil {
		return nil, err
	}
	if nOut > len(outMetas) {
		return nil, fmt.Errorf("operator produced %d output metas, want %d", len(outMetas), nOut)
	}
	if p, ok := op.(Preparer); ok {
		if err := p.Prepare(consts); err != nil {
			return nil, err
		}
	}
	out := make([]*tensor.Tensor, nOut)
	for i := range out {
		out[i] = tensor.New(outMetas[i].DType, outMetas[i].Shape...)
		for j := range out[i].F32 {
			out[i].F32[j] = sentinelF
		}
		for j := range out[i].I64 {
			out[i].I64[j] = sentinelI
		}
	}
	if err := op.Run(&Ctx{Workers: workers}, in, out); err != nil {
		return nil, err
	}
	for i, x := range in {
		if x != nil && !sameBits(x, saved[i]) {
			return nil, fmt.Errorf("Run modified input %d", i)
		}
	}
	return out, nil
}

func sameBits(a, b *tensor.Tensor) bool {
	if len(a.F32) != len(b.F32) || len(a.I64) != len(b.I64) {
		return false
	}
	for i := range a.F32 {
		if math.Float32bits(a.F32[i]) != math.Float32bits(b.F32[i]) {
			return false
		}
	}
	for i := range a.I64 {
		if a.I64[i] != b.I64[i] {
			return false
		}
	}
	return true
}

// rtMust is rtEval failing the test on error.
func rtMust(t testing.TB, op Op, workers, nOut int, in []*tensor.Tensor, constant []bool) []*tensor.Tensor {
	t.Helper()
	out, err := rtEval(op, workers, nOut, in, constant)
	if err != nil {
		t.Fatalf("eval: %v", err)
	}
	return out
}

// rtOne builds and runs a single-output operator with all inputs constant.
func rtOne(t testing.TB, opset int64, opType string, in []*tensor.Tensor, attrs ...*onnx.Attribute) *tensor.Tensor {
	t.Helper()
	op := rtBuild(t, opset, opType, attrs...)
	return rtMust(t, op, 1, 1, in, allConst)[0]
}

// rtErr builds and runs an operator and returns the first error, from
// Build or evaluation.
func rtErr(opset int64, opType string, in []*tensor.Tensor, attrs ...*onnx.Attribute) error {
	op, err := Build(rtNode(opType, attrs...), opset)
	if err != nil {
		return err
	}
	_, err = rtEval(op, 1, 1, in, allConst)
	return err
}

// Comparisons.

func checkShape(t testing.TB, got *tensor.Tensor, dt tensor.DType, shape []int) {
	t.Helper()
	if got.DType != dt || !tensor.EqualShape(got.Shape, shape) {
		t.Fatalf("got %v%s, want %v%s", got.DType, tensor.ShapeString(got.Shape), dt, tensor.ShapeString(shape))
	}
}

// checkF compares a float output exactly-ish (within 1 ulp-ish 1e-6
// relative) with literal expected values.
func checkF(t testing.TB, got *tensor.Tensor, shape []int, want ...float32) {
	t.Helper()
	w := make([]float64, len(want))
	for i, v := range want {
		w[i] = float64(v)
	}
	checkClose(t, got, shape, w, 1e-6)
}

// checkClose compares got with want: |got-want| <= rtol·max(|want|, 1).
// A NaN in want must be matched by a NaN.
func checkClose(t testing.TB, got *tensor.Tensor, shape []int, want []float64, rtol float64) {
	t.Helper()
	checkShape(t, got, got.DType, shape)
	if !got.DType.IsFloat() {
		t.Fatalf("got dtype %v, want a float type", got.DType)
	}
	if len(got.F32) != len(want) {
		t.Fatalf("got %d values, want %d", len(got.F32), len(want))
	}
	bad := 0
	for i, w := range want {
		g := float64(got.F32[i])
		ok := false
		switch {
		case math.IsNaN(w):
			ok = math.IsNaN(g)
		case math.IsInf(w, 0):
			ok = g == w
		default:
			ok = math.Abs(g-w) <= rtol*math.Max(math.Abs(w), 1)
		}
		if !ok {
			if bad < 8 {
				t.Errorf("element %d (index %v): got %.9g, want %.9g", i, unravel(i, shape), g, w)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d elements differ", bad, len(want))
	}
}

func checkI(t testing.TB, got *tensor.Tensor, dt tensor.DType, shape []int, want ...int64) {
	t.Helper()
	checkShape(t, got, dt, shape)
	if len(got.I64) != len(want) {
		t.Fatalf("got %d int values, want %d", len(got.I64), len(want))
	}
	for i := range want {
		if got.I64[i] != want[i] {
			t.Errorf("got %v, want %v", got.I64, want)
			return
		}
	}
}

func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			idx[d] = i % shape[d]
			i /= shape[d]
		}
	}
	return idx
}

func toF64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// wantErr fails unless err is non-nil and mentions every fragment
// (case-insensitively).
func wantErr(t testing.TB, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one mentioning %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(f)) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}
