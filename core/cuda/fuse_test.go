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
