package cuda

import (
	"testing"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/internal/npytensor"
	"github.com/int8cal/int8cal/core/ops"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/testfixture"
)

// resnet20Schedule is ResNet-20's FP32 schedule for a batch of 2, what the
// lowering starts from.
func resnet20Schedule(t *testing.T) *engine.Schedule {
	t.Helper()
	g, err := graph.Load("../../testdata/models/resnet20.onnx")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := engine.New(g, engine.Options{}).Schedule(map[string][]int{"input": {2, 3, 32, 32}}, false)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestFuseSteps checks the lowering's fusion on ResNet-20 without a GPU:
// every Relu and every residual Add disappears into a Conv (19 Conv
// groups), and the Conv of each block's second layer runs where its Add
// was, after the shortcut's Slice and Pad.
func TestFuseSteps(t *testing.T) {
	sc := resnet20Schedule(t)
	count := map[string]int{}
	residual := 0
	for _, gr := range fuseSteps(sc, true) {
		count[gr.step.Node.OpType]++
		if gr.residual != "" {
			residual++
			if !gr.relu {
				t.Errorf("%s: residual Add fused without its Relu", gr.step.Node.Name)
			}
		}
	}
	if count["Conv"] != 19 || count["Add"] != 0 || count["Relu"] != 0 || residual != 9 {
		t.Fatalf("fused groups %v with %d residual Adds; want 19 Conv, no Add or Relu, 9 residuals", count, residual)
	}
	unfused := fuseSteps(sc, false)
	if len(unfused) != len(sc.Steps) {
		t.Fatalf("%d groups unfused, want the %d steps", len(unfused), len(sc.Steps))
	}
	for i, gr := range unfused {
		if gr.step.Node != sc.Steps[i].Node || gr.relu || gr.residual != "" {
			t.Fatalf("unfused group %d is not step %d alone", i, i)
		}
	}
}

// TestFuseStepsOrder checks on every zoo model with a float input (a
// ResNet-50 bottleneck's Add reads two Convs) that each step is in one
// group and that every tensor a group reads, its residual included, is
// written by a group that runs before it.
func TestFuseStepsOrder(t *testing.T) {
	models, _ := testfixture.Zoo(t, "../../testdata/zoo")
	for _, m := range models {
		if m.Status != "ok" {
			continue
		}
		g, err := graph.Load(m.File)
		if err != nil {
			t.Fatal(err)
		}
		shapes := map[string][]int{}
		for i, name := range m.Inputs {
			shapes[name] = npytensor.ReadTyped(t, m.InputFiles[i]).Shape
		}
		sc, err := engine.New(g, engine.Options{}).Schedule(shapes, false)
		if err != nil {
			t.Fatal(err)
		}
		groups := fuseSteps(sc, true)
		claimed := map[string]bool{} // step outputs folded into some group
		written := map[string]int{}  // tensor → index of the group writing it
		for k, gr := range groups {
			written[gr.out] = k
			for _, o := range gr.step.Node.Outputs {
				written[o] = k
			}
		}
		for k, gr := range groups {
			if claimed[gr.out] {
				t.Errorf("%s/%s: %s is written by two groups", m.Name, m.Exporter, gr.out)
			}
			claimed[gr.out] = true
			for _, in := range append(gr.step.Node.Inputs, gr.residual) {
				if w, ok := written[in]; ok && w >= k {
					t.Errorf("%s/%s: group %d (%s) reads %q, written by group %d", m.Name, m.Exporter, k, gr.step.Node.Name, in, w)
				}
			}
		}
	}
}

// apply runs a gather on the host, as gather_affine does.
func (g gather) apply(x []float32) []float32 {
	inStrides, outStrides := tensor.Strides(g.in), tensor.Strides(g.out)
	y := make([]float32, tensor.NumElements(g.out))
	for i := range y {
		src, inside := 0, true
		for d := range g.out {
			at := i / outStrides[d] % g.out[d]
			j := g.start[d] + g.step[d]*at
			if at < g.lo[d] || at >= g.hi[d] || j < 0 || j >= g.in[d] {
				inside = false
			}
			src += j * inStrides[d]
		}
		y[i] = g.fill
		if inside {
			y[i] = x[src]
		}
	}
	return y
}

// TestGatherComposition: a chain of Slices and constant Pads composed
// into one gather reads what the chain reads, step by step, including
// negative steps and padding on both sides.
func TestGatherComposition(t *testing.T) {
	in := []int{2, 3, 7, 6}
	x := make([]float32, tensor.NumElements(in))
	for i := range x {
		x[i] = float32(i + 1)
	}
	slice := func(in []int, start, step, count []int) gather {
		return newGather(ops.Affine{Start: start, Step: step}, in, count, false)
	}
	pad := func(in []int, begin, end []int, fill float32) gather {
		out := make([]int, len(in))
		start, step := make([]int, len(in)), make([]int, len(in))
		for d := range in {
			out[d], start[d], step[d] = in[d]+begin[d]+end[d], -begin[d], 1
		}
		return newGather(ops.Affine{Start: start, Step: step, Fill: fill}, in, out, true)
	}
	s1 := slice(in, []int{0, 0, 0, 0}, []int{1, 1, 2, 1}, []int{2, 3, 4, 6})      // H step 2
	s2 := slice(s1.out, []int{0, 0, 1, 5}, []int{1, 1, 1, -2}, []int{2, 3, 3, 3}) // W reversed, step 2
	p1 := pad(s2.out, []int{0, 2, 1, 0}, []int{0, 2, 0, 1}, 0)                    // C and H, W padding
	s3 := slice(p1.out, []int{1, 1, 0, 0}, []int{-1, 2, 1, 1}, []int{2, 3, 4, 4}) // into the padding
	chain := []gather{s1, s2, p1, s3}
	want, composed := x, chain[0]
	for i, g := range chain {
		want = g.apply(want)
		if i > 0 {
			var ok bool
			if composed, ok = composed.then(g); !ok {
				t.Fatalf("step %d: composition refused", i)
			}
		}
	}
	got := composed.apply(x)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("element %d: composed gather reads %v, the chain %v", i, got[i], want[i])
		}
	}
	if _, ok := pad(in, []int{0, 1, 0, 0}, []int{0, 0, 0, 0}, 1).then(pad(in, []int{0, 1, 0, 0}, []int{0, 0, 0, 0}, 2)); ok {
		t.Error("pads of different fills composed")
	}
}

// (m rmap) at is conv_s8's residual offset of output element idx (b, c,
// y, x), as rmap_at in kernels.cu adds it up, or -1 where the map fills.
func (m rmap) at(idx [4]int) int {
	off := 0
	for d, i := range idx {
		j := int(m.Start[d]) + int(m.Step[d])*i
		if i < int(m.Lo[d]) || i >= int(m.Hi[d]) || j < 0 || j >= int(m.In[d]) {
			return -1
		}
		off += j * int(m.Stride[d])
	}
	return off
}

// TestResidualMap: a shortcut's gather chain read through conv_s8's
// residual map gives what gather_affine writes (strided and reversed
// slices, channel and row padding), the identity map reads a residual
// of the output's shape, and a gather that reorders images is refused.
func TestResidualMap(t *testing.T) {
	in := []int{2, 3, 7, 6}
	x := make([]float32, tensor.NumElements(in))
	for i := range x {
		x[i] = float32(i + 1)
	}
	s1 := newGather(ops.Affine{Start: []int{0, 0, 0, 0}, Step: []int{1, 1, 2, 1}}, in, []int{2, 3, 4, 6}, false)
	s2 := newGather(ops.Affine{Start: []int{0, 0, 1, 5}, Step: []int{1, 1, 1, -2}}, s1.out, []int{2, 3, 3, 3}, false)
	p1 := newGather(ops.Affine{Start: []int{0, -2, -1, 0}, Step: []int{1, 1, 1, 1}, Fill: 0.5}, s2.out, []int{2, 7, 4, 4}, true)
	composed, ok := s1.then(s2)
	if ok {
		composed, ok = composed.then(p1)
	}
	if !ok {
		t.Fatal("composition refused")
	}
	m, ok := composed.residualMap()
	if !ok {
		t.Fatal("a gather that keeps the images has no residual map")
	}
	want := composed.apply(x)
	out := composed.out
	for i := range want {
		idx := [4]int{i / (out[1] * out[2] * out[3]), i / (out[2] * out[3]) % out[1], i / out[3] % out[2], i % out[3]}
		got := m.Fill
		if o := m.at(idx); o >= 0 {
			got = x[o]
		}
		if got != want[i] {
			t.Fatalf("element %v: the residual map reads %v, the gather writes %v", idx, got, want[i])
		}
	}
	id := identityMap(in)
	for i := range x {
		idx := [4]int{i / (in[1] * in[2] * in[3]), i / (in[2] * in[3]) % in[1], i / in[3] % in[2], i % in[3]}
		if o := id.at(idx); o != i {
			t.Fatalf("identity map: element %v at %d, want %d", idx, o, i)
		}
	}
	rev := newGather(ops.Affine{Start: []int{1, 0, 0, 0}, Step: []int{-1, 1, 1, 1}}, in, in, false)
	if _, ok := rev.residualMap(); ok {
		t.Error("a gather that reverses the images was given a residual map")
	}
}

// TestFuseSoftmax: LeNet's last Gemm takes in the Softmax after it (the
// group writes the graph output), its first the Relu, and nothing is
// fused without fusion.
func TestFuseSoftmax(t *testing.T) {
	g, err := graph.Load("../../data/mnist/lenet.onnx")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := engine.New(g, engine.Options{}).Schedule(map[string][]int{"data": {2, 1, 28, 28}}, false)
	if err != nil {
		t.Fatal(err)
	}
	var gemms []group
	for _, gr := range fuseSteps(sc, true) {
		if gr.step.Node.OpType == "Softmax" {
			t.Fatal("the Softmax runs alone")
		}
		if gr.step.Node.OpType == "Gemm" {
			gemms = append(gemms, gr)
		}
	}
	if len(gemms) != 2 || !gemms[0].relu || gemms[0].softmax || !gemms[1].softmax || gemms[1].out != sc.Outputs[0] {
		t.Fatalf("Gemm groups %+v; want the first with its Relu, the second with the Softmax writing %q", gemms, sc.Outputs[0])
	}
	for _, gr := range fuseSteps(sc, false) {
		if gr.softmax {
			t.Fatal("a Softmax fused without fusion")
		}
	}
}
