package nodetest

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/ops"
	"github.com/int8cal/int8cal/core/tensor"
	"google.golang.org/protobuf/encoding/protowire"
)

// dirEnv names another node test directory than Debian's (one of an
// ONNX source checkout, say: onnx/backend/test/data/node).
const dirEnv = "INT8CAL_ONNX_NODE_TESTS"

// debianDir is where Debian's libonnx-testdata puts the node tests.
const debianDir = "/usr/share/libonnx-testdata/data/node"

// ONNX's backend test tolerance for floating-point outputs
// (onnx/backend/test/runner: np.testing.assert_allclose's rtol and atol).
const (
	rtol = 1e-3
	atol = 1e-7
)

// refusal covers node test cases of claimed operators that the engine
// refuses by design. A covered case must still end in an error (at load,
// while reading its data or at run time), never in a wrong answer; one
// that starts passing fails the test so that the table stays true.
type refusal struct {
	// The cases covered: those whose (directory) name cases matches, or
	// whose model the model function picks.
	cases  *regexp.Regexp
	model  func(*onnx.Model) bool
	reason string
	// constTail marks refusals of graph inputs after the first that carry
	// values the engine needs when it plans (a shape, axes, pads, bounds),
	// which exporters write as initializers. The case is then run again
	// with those inputs as initializers holding the data set's values, and
	// must pass: the operator's semantics are checked all the same.
	constTail bool
}

// refusals is the table of cases refused by design; the first entry that
// covers a case applies.
var refusals = []refusal{
	// Data types and models refused whatever the operator.
	{model: unheldTypes, reason: "values the project does not hold: element types such as bfloat16, string, int16, uint16, uint32 and uint64, " +
		"and values that are not tensors (sequences, optionals)"},
	{model: func(m *onnx.Model) bool { return m.Opsets[""] < ops.MinOpset },
		reason: fmt.Sprintf("models of opsets before %d: graph.FromONNX refuses them (convert them with onnx.version_converter)", ops.MinOpset)},
	{cases: regexp.MustCompile(`^test_constant$`),
		reason: "a model without inputs: graph.FromONNX refuses it (nothing to run on data)"},
	{cases: regexp.MustCompile(`^test_maxpool_2d_uint8$`),
		reason: "MaxPool on uint8: pooling kernels compute on float tensors"},
	{cases: regexp.MustCompile(`^test_clip_default_int8_`),
		reason: "Clip on int8: Clip computes on float tensors"},

	// Refused attribute values and outputs.
	{cases: regexp.MustCompile(`^test_resize_tf_crop_and_resize$`),
		reason: "Resize's coordinate_transformation_mode tf_crop_and_resize is refused by name"},
	{cases: regexp.MustCompile(`^test_(average|max)pool_3d_|^test_convtranspose_3d$`),
		reason: "3-D windows (5-D tensors): the pooling and ConvTranspose kernels are 1-D and 2-D"},
	{cases: regexp.MustCompile(`^test_maxpool_with_argmax_`),
		reason: "MaxPool's Indices output is not implemented"},
	{cases: regexp.MustCompile(`^test_batchnorm_.*_training_mode$`),
		reason: "BatchNormalization with training_mode=1: inference only"},
	{cases: regexp.MustCompile(`^test_training_dropout`),
		reason: "Dropout with training_mode true: inference only"},

	// Values the engine needs when it plans, given as graph inputs.
	planned(`^test_reshape_`, "Reshape's shape"),
	planned(`^test_slice`, "Slice's starts, ends, axes and steps"),
	planned(`^test_squeeze|^test_unsqueeze_(axis_[0-2]|negative_axes|three_axes|two_axes|unsorted_axes)$`, "the axes of Squeeze and Unsqueeze (inputs since opset 13)"),
	planned(`^test_(constant|edge|reflect)_pad$`, "Pad's pads and value (inputs since opset 11)"),
	planned(`^test_clip(_default_(min|max)|_example|_inbounds|_outbounds|_splitbounds)?$`, "Clip's bounds (inputs since opset 11)"),
	planned(`^test_expand_dim_`, "Expand's shape"),
	planned(`^test_tile`, "Tile's repeats"),
	planned(`^test_split_(variable_parts_(1d|2d|default_axis)|zero_size_splits)$`, "Split's sizes (an input since opset 13)"),
	planned(`^test_reduce_sum_(default_axes|do_not_keepdims|empty_axes|keepdims|negative_axes)_`, "ReduceSum's axes (an input since opset 13)"),
	planned(`^test_resize_`, "Resize's roi, scales and sizes"),
	planned(`^test_upsample_nearest$`, "Upsample's scales"),
	planned(`^test_top_k`, "TopK's K"),
	{cases: regexp.MustCompile(`^test_constantofshape_|^test_range_(float|int32)_type_(positive|negative)_delta$|^test_(blackman|hamming|hann)window(_symmetric)?_expanded$`),
		reason: "every input is a value the engine needs when it plans (ConstantOfShape's shape, Range's start, limit and delta, a window's size); " +
			"as initializers they would leave a model without inputs, which graph.FromONNX refuses"},
}

// planned is the refusal of the cases named by pattern that give what an
// operator needs when the engine plans (what) as graph inputs after the
// first; they are checked again with those inputs as initializers.
func planned(pattern, what string) refusal {
	return refusal{cases: regexp.MustCompile(pattern), constTail: true,
		reason: what + " given as graph inputs: the engine needs them when it plans, as initializers or values computed from shapes"}
}

// unheldTypes reports whether one of m's graph inputs or outputs is not a
// tensor of an element type the project holds (tensor.DType.Supported).
func unheldTypes(m *onnx.Model) bool {
	for _, vi := range append(append([]*onnx.ValueInfo(nil), m.Graph.Inputs...), m.Graph.Outputs...) {
		if !vi.DType.Supported() {
			return true
		}
	}
	return false
}

// outcome is what one case came to.
type outcome int

const (
	passed      outcome = iota
	passedConst         // refused as given, passed with its constTail inputs as initializers
	refused             // ended in an error, as its refusal entry says it must
	failed
)

// result is one claimed case's outcome and the operators it uses.
type result struct {
	name    string
	ops     []string
	ref     *refusal // the entry covering the case, or nil
	outcome outcome
}

// covers reports whether rf covers the case name whose model is m.
func (rf refusal) covers(name string, m *onnx.Model) bool {
	return (rf.cases != nil && rf.cases.MatchString(name)) || (rf.model != nil && rf.model(m))
}

func TestONNXNodeTests(t *testing.T) {
	dir := os.Getenv(dirEnv)
	if dir == "" {
		dir = debianDir
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("ONNX node tests not installed (%s does not exist): the conformance suite skips; "+
			"install them with `make nodetests` (Debian's libonnx-testdata) or set %s to an onnx/backend/test/data/node directory", dir, dirEnv)
	}
	if err != nil {
		t.Fatal(err)
	}
	claimed := map[string]bool{}
	for _, op := range ops.Supported() {
		claimed[op] = true
	}

	var results []*result
	notClaimed := 0
	used := make([]bool, len(refusals))
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "test_") {
			continue
		}
		m, err := onnx.ReadFile(filepath.Join(dir, e.Name(), "model.onnx"))
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		opTypes, ok := claimedOps(m, claimed)
		if !ok {
			notClaimed++
			continue
		}
		r := &result{name: e.Name(), ops: opTypes}
		for i := range refusals {
			if refusals[i].covers(r.name, m) {
				r.ref, used[i] = &refusals[i], true
				break
			}
		}
		results = append(results, r)
	}
	if len(results) == 0 {
		t.Fatalf("%s holds no node test case of a claimed operator (%s)", dir, strings.Join(ops.Supported(), ", "))
	}

	t.Run("cases", func(t *testing.T) {
		for _, r := range results {
			t.Run(r.name, func(t *testing.T) {
				t.Parallel()
				var msg string
				r.outcome, msg = check(filepath.Join(dir, r.name), r.ref)
				if r.outcome == failed {
					t.Error(msg)
				} else if msg != "" {
					t.Log(msg)
				}
			})
		}
	})
	// An entry may wait for its operator to be registered; one that
	// covers nothing once it is should go.
	for i, rf := range refusals {
		if !used[i] {
			t.Logf("note: the refusal %q covers no claimed case", rf.reason)
		}
	}
	summarize(t, results, notClaimed)
}

// claimedOps returns the sorted operator types of m's nodes, and whether
// the engine claims them all (the default domain, registered).
func claimedOps(m *onnx.Model, claimed map[string]bool) ([]string, bool) {
	if m.Graph == nil {
		return nil, false
	}
	seen := map[string]bool{}
	var types []string
	for _, n := range m.Graph.Nodes {
		if (n.Domain != "" && n.Domain != "ai.onnx") || !claimed[n.OpType] {
			return nil, false
		}
		if !seen[n.OpType] {
			seen[n.OpType] = true
			types = append(types, n.OpType)
		}
	}
	sort.Strings(types)
	return types, true
}

// check runs the case in dir, covered by the refusal rf (nil if none),
// and returns its outcome with what to say about it.
func check(dir string, rf *refusal) (outcome, string) {
	denied, wrong := run(dir, false)
	switch {
	case wrong != nil && rf != nil:
		return failed, fmt.Sprintf("covered by the refusal %q, but the engine answered wrongly instead of refusing: %v", rf.reason, wrong)
	case wrong != nil:
		return failed, wrong.Error()
	case denied != nil && rf == nil:
		return failed, fmt.Sprintf("refused: %v", denied)
	case denied != nil && !rf.constTail:
		return refused, fmt.Sprintf("refused as expected (%s): %v", rf.reason, denied)
	case denied != nil:
		given := fmt.Sprintf("refused as given, as expected (%s): %v", rf.reason, denied)
		denied, wrong = run(dir, true)
		switch {
		case wrong != nil:
			return failed, fmt.Sprintf("%s; with the inputs after the first as initializers: %v", given, wrong)
		case denied != nil:
			return failed, fmt.Sprintf("%s; refused even with the inputs after the first as initializers: %v", given, denied)
		}
		return passedConst, given + "; passes with the inputs after the first as initializers"
	case rf != nil:
		return failed, fmt.Sprintf("passes now, but the refusal %q covers it: narrow or remove that entry", rf.reason)
	}
	return passed, ""
}

// run loads the case's model and runs it on each of its data sets. It
// returns the first error the project gave (denied) or the first
// difference from the expected outputs (wrong); a panic is wrong. With
// constTail, the graph inputs after the first are made initializers
// holding the data set's values before the model is loaded.
func run(dir string, constTail bool) (denied, wrong error) {
	defer func() {
		if p := recover(); p != nil {
			wrong = fmt.Errorf("panic: %v", p)
		}
	}()
	sets, err := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if err != nil || len(sets) == 0 {
		return nil, fmt.Errorf("%s: no test_data_set_* directory", dir)
	}
	for _, set := range sets {
		path := filepath.Join(dir, "model.onnx")
		m, err := onnx.ReadFile(path)
		if err != nil {
			return err, nil
		}
		inputs, err := readTensors(set, "input", m.Graph.Inputs)
		if err != nil {
			return err, nil
		}
		want, err := readTensors(set, "output", m.Graph.Outputs)
		if err != nil {
			return err, nil
		}
		if constTail && len(inputs) > 1 {
			for _, v := range inputs[1:] {
				m.Graph.Initializers = append(m.Graph.Initializers, &onnx.Initializer{Name: v.name, Tensor: v.t})
			}
			inputs = inputs[:1]
		}
		g, err := graph.FromONNX(m)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err), nil
		}
		in := make(map[string]*tensor.Tensor, len(inputs))
		for _, v := range inputs {
			in[v.name] = v.t
		}
		got, err := engine.New(g, engine.Options{}).Run(in)
		if err != nil {
			return err, nil
		}
		for _, w := range want {
			if err := compare(got[w.name], w.t); err != nil {
				return nil, fmt.Errorf("%s: output %q: %w", filepath.Base(set), w.name, err)
			}
		}
	}
	return nil, nil
}

type named struct {
	name string
	t    *tensor.Tensor
}

// readTensors reads <kind>_0.pb, <kind>_1.pb, ... of a data set; a tensor
// whose proto has no name is the graph value at its position.
func readTensors(set, kind string, values []*onnx.ValueInfo) ([]named, error) {
	var out []named
	for i := 0; ; i++ {
		path := filepath.Join(set, fmt.Sprintf("%s_%d.pb", kind, i))
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		t, name, err := onnx.DecodeTensor(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if name == "" {
			if i >= len(values) {
				return nil, fmt.Errorf("%s: unnamed and past the graph's %d %ss", path, len(values), kind)
			}
			name = values[i].Name
		}
		out = append(out, named{name, t})
	}
}

// compare checks got against want: the same type and shape; floats within
// ONNX's tolerance (NaN equal to NaN, infinities equal when of one sign),
// everything else exactly.
func compare(got, want *tensor.Tensor) error {
	if got == nil {
		return errors.New("not produced")
	}
	if got.DType != want.DType || !tensor.EqualShape(got.Shape, want.Shape) {
		return fmt.Errorf("got %s%s, want %s%s", got.DType, tensor.ShapeString(got.Shape), want.DType, tensor.ShapeString(want.Shape))
	}
	var bad []string
	count := 0
	note := func(i int, g, w any) {
		count++
		if len(bad) < 4 {
			bad = append(bad, fmt.Sprintf("[%d] got %v, want %v", i, g, w))
		}
	}
	if want.DType.IsFloat() {
		for i, w := range want.F32 {
			if g := got.F32[i]; !within(float64(g), float64(w)) {
				note(i, g, w)
			}
		}
	} else {
		for i, w := range want.I64 {
			if g := got.I64[i]; g != w {
				note(i, g, w)
			}
		}
	}
	if count > 0 {
		return fmt.Errorf("%d of %d values differ: %s", count, want.Len(), strings.Join(bad, "; "))
	}
	return nil
}

func within(g, w float64) bool {
	switch {
	case math.IsNaN(w) || math.IsNaN(g):
		return math.IsNaN(w) && math.IsNaN(g)
	case math.IsInf(w, 0) || math.IsInf(g, 0):
		return g == w
	}
	return math.Abs(g-w) <= atol+rtol*math.Abs(w)
}

// summarize logs, per operator, the claimed cases that use it and their
// outcomes, then the totals.
func summarize(t *testing.T, results []*result, notClaimed int) {
	type counts [failed + 1]int // by outcome
	perOp := map[string]*counts{}
	var total counts
	for _, r := range results {
		for _, op := range r.ops {
			if perOp[op] == nil {
				perOp[op] = &counts{}
			}
			perOp[op][r.outcome]++
		}
		total[r.outcome]++
	}
	names := make([]string, 0, len(perOp))
	for op := range perOp {
		names = append(names, op)
	}
	sort.Strings(names)
	var b strings.Builder
	row := func(name string, c *counts) {
		fmt.Fprintf(&b, "%-20s %5d %6d %6d %7d %6d\n", name, c[passed]+c[passedConst]+c[refused]+c[failed], c[passed], c[passedConst], c[refused], c[failed])
	}
	fmt.Fprintf(&b, "%-20s %5s %6s %6s %7s %6s\n", "operator", "cases", "passed", "const", "refused", "failed")
	for _, op := range names {
		row(op, perOp[op])
	}
	row("(all cases)", &total)
	t.Logf("claimed cases per operator (a case counts for each operator it uses; const: refused as given, "+
		"passed with the inputs after the first as initializers; refused: refused with the reason in the table):\n%s", b.String())
	t.Logf("ONNX node tests: %d cases run, %d passed (%d of them with the inputs after the first as initializers), "+
		"%d expected refusals, %d failed; %d not claimed (a node of an operator the engine does not support)",
		len(results), total[passed]+total[passedConst], total[passedConst], total[refused], total[failed], notClaimed)
}

func TestCompare(t *testing.T) {
	f32 := func(v ...float32) *tensor.Tensor { return tensor.FromFloat32(v, len(v)) }
	i64 := func(v ...int64) *tensor.Tensor { return tensor.FromInt64(v, len(v)) }
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, c := range []struct {
		name      string
		got, want *tensor.Tensor
		ok        bool
	}{
		{"equal", f32(1, -2, 0), f32(1, -2, 0), true},
		{"within rtol", f32(1000.9), f32(1000), true},
		{"past rtol", f32(1001.1), f32(1000), false},
		{"within atol at zero", f32(5e-8), f32(0), true},
		{"past atol at zero", f32(1e-6), f32(0), false},
		{"NaN equals NaN", f32(nan), f32(nan), true},
		{"NaN for a number", f32(nan), f32(1), false},
		{"a number for NaN", f32(1), f32(nan), false},
		{"infinities of one sign", f32(inf, -inf), f32(inf, -inf), true},
		{"infinities of opposite signs", f32(-inf), f32(inf), false},
		{"a large number for infinity", f32(math.MaxFloat32), f32(inf), false},
		{"integers equal", i64(3, -4), i64(3, -4), true},
		{"integers off by one", i64(3, -3), i64(3, -4), false},
		{"another type", &tensor.Tensor{DType: tensor.Float64, Shape: []int{1}, F32: []float32{1}}, f32(1), false},
		{"another shape", tensor.FromFloat32([]float32{1, 2}, 1, 2), f32(1, 2), false},
		{"not produced", nil, f32(1), false},
	} {
		err := compare(c.got, c.want)
		if (err == nil) != c.ok {
			t.Errorf("%s: compare = %v, want ok %v", c.name, err, c.ok)
		}
	}
}

// TestCheck holds the harness to its promises on cases written here: a
// wrong answer fails, refused or not; a refusal passes only where the
// table lists it; a listed case that passes fails; planned values given
// as inputs are checked again as initializers.
func TestCheck(t *testing.T) {
	f32 := func(v ...float32) *tensor.Tensor { return tensor.FromFloat32(v, len(v)) }
	relu := func(t *testing.T, y *tensor.Tensor) string {
		return writeCase(t, "Relu", []named{{"x", f32(-1, 2)}}, y)
	}
	reshape := func(t *testing.T, y *tensor.Tensor) string {
		return writeCase(t, "Reshape", []named{{"x", f32(1, 2, 3, 4)}, {"shape", tensor.FromInt64([]int64{2, 2}, 2)}}, y)
	}
	square := func(v ...float32) *tensor.Tensor { return tensor.FromFloat32(v, 2, 2) }
	listed := &refusal{reason: "listed"}
	planned := &refusal{reason: "planned", constTail: true}
	for _, c := range []struct {
		name string
		dir  func(*testing.T) string
		rf   *refusal
		want outcome
	}{
		{"right answer", func(t *testing.T) string { return relu(t, f32(0, 2)) }, nil, passed},
		{"wrong answer", func(t *testing.T) string { return relu(t, f32(0, 3)) }, nil, failed},
		{"listed but passes", func(t *testing.T) string { return relu(t, f32(0, 2)) }, listed, failed},
		{"listed but answers wrongly", func(t *testing.T) string { return relu(t, f32(0, 3)) }, listed, failed},
		{"refused, not listed", func(t *testing.T) string { return reshape(t, square(1, 2, 3, 4)) }, nil, failed},
		{"refused, listed", func(t *testing.T) string { return reshape(t, square(1, 2, 3, 4)) }, listed, refused},
		{"planned, right as initializers", func(t *testing.T) string { return reshape(t, square(1, 2, 3, 4)) }, planned, passedConst},
		{"planned, wrong as initializers", func(t *testing.T) string { return reshape(t, square(1, 2, 4, 3)) }, planned, failed},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, msg := check(c.dir(t), c.rf)
			if got != c.want {
				t.Errorf("outcome %d (%s), want %d", got, msg, c.want)
			}
		})
	}
}

// writeCase writes a node test case into a temporary directory: a model
// of one op node over the inputs, with output y, and test_data_set_0.
func writeCase(t *testing.T, op string, inputs []named, y *tensor.Tensor) string {
	t.Helper()
	dir := t.TempDir()
	valueInfo := func(name string, v *tensor.Tensor) *onnx.ValueInfo {
		vi := &onnx.ValueInfo{Name: name, DType: v.DType, HasShape: true}
		for _, d := range v.Shape {
			vi.Dims = append(vi.Dims, onnx.Dim{Value: int64(d)})
		}
		return vi
	}
	g := &onnx.Graph{Name: "case", Outputs: []*onnx.ValueInfo{valueInfo("y", y)}}
	node := &onnx.Node{OpType: op, Outputs: []string{"y"}}
	set := filepath.Join(dir, "test_data_set_0")
	if err := os.Mkdir(set, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, in := range inputs {
		node.Inputs = append(node.Inputs, in.name)
		g.Inputs = append(g.Inputs, valueInfo(in.name, in.t))
		writeTensor(t, filepath.Join(set, fmt.Sprintf("input_%d.pb", i)), in.name, in.t)
	}
	g.Nodes = []*onnx.Node{node}
	writeTensor(t, filepath.Join(set, "output_0.pb"), "y", y)
	m := &onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: g}
	if err := onnx.WriteFile(filepath.Join(dir, "model.onnx"), m); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeTensor writes a float32 or int64 tensor as a serialized TensorProto
// (dims 1, data_type 2, float_data 4, int64_data 7, name 8).
func writeTensor(t *testing.T, path, name string, v *tensor.Tensor) {
	t.Helper()
	var b, data []byte
	for _, d := range v.Shape {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(v.DType))
	field := protowire.Number(4)
	switch v.DType {
	case tensor.Float32:
		for _, x := range v.F32 {
			data = protowire.AppendFixed32(data, math.Float32bits(x))
		}
	case tensor.Int64:
		field = 7
		for _, x := range v.I64 {
			data = protowire.AppendVarint(data, uint64(x))
		}
	default:
		t.Fatalf("writeTensor: %v not written", v.DType)
	}
	b = protowire.AppendTag(b, field, protowire.BytesType)
	b = protowire.AppendBytes(b, data)
	b = protowire.AppendTag(b, 8, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte(name))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
