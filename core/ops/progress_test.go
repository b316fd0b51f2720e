package ops

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/int8cal/int8cal/core/tensor"
)

// A Conv's RunProgress, on every strategy and GEMM implementation and
// with 1 to 4 workers, computes Run's bits and reports ranges that
// partition the output, each holding its final values when reported,
// from worker indices below the worker count, never two at once for one
// index. The Winograd cases (whose RunProgress takes smaller blocks than
// Run: winoReportedBlockBytes) cover blocks of whole images, blocks
// ending inside an image, staged (cropped) tiles, blocks that do not end
// on a row of tiles (reported at the end), and fewer blocks than
// workers.
func TestConvRunProgress(t *testing.T) {
	relu := Activation{Kind: ReluActivation}
	one, two := [2]int{1, 1}, [2]int{2, 2}
	pad1 := [4]int{1, 1, 1, 1}
	cases := []convCase{
		{name: "unfolded", n: 3, c: 3, h: 9, w: 16, m: 4, kh: 3, kw: 3, stride: two, pads: pad1, bias: true},
		{name: "grid", n: 3, c: 3, h: 5, w: 32, m: 9, kh: 3, kw: 3, pads: pad1, bias: true, act: relu},
		{name: "wide", n: 2, c: 4, h: 8, w: 8, m: 6, kh: 3, kw: 3, pads: pad1},
		{name: "pointwise", n: 3, c: 7, h: 5, w: 6, m: 20, kh: 1, kw: 1, bias: true},
		{name: "phased", n: 2, c: 3, h: 11, w: 64, m: 8, kh: 3, kw: 3, stride: two, pads: pad1},
		{name: "groups", n: 3, c: 6, h: 7, w: 9, m: 4, kh: 3, kw: 3, pads: pad1, group: 2, bias: true},
		{name: "depthwise", n: 2, c: 5, h: 7, w: 9, m: 10, kh: 3, kw: 3, pads: pad1, group: 5, bias: true},
		{name: "winograd/images", n: 30, c: 64, h: 8, w: 8, m: 64, kh: 3, kw: 3, pads: pad1, bias: true},
		{name: "winograd/inside", n: 5, c: 16, h: 32, w: 32, m: 16, kh: 3, kw: 3, pads: pad1},
		{name: "winograd/staged", n: 16, c: 16, h: 14, w: 14, m: 16, kh: 3, kw: 3, pads: pad1, bias: true},
		{name: "winograd/unaligned", n: 10, c: 16, h: 20, w: 20, m: 16, kh: 3, kw: 3, pads: pad1},
		{name: "winograd/one-block", n: 1, c: 16, h: 12, w: 12, m: 16, kh: 3, kw: 3, pads: pad1, act: relu},
	}
	forEachGemmImpl(t, func(t *testing.T) {
		r := rtRand(61)
		for _, cc := range cases {
			if cc.group == 0 {
				cc.group = 1
			}
			if cc.stride == [2]int{} {
				cc.stride = one
			}
			cc.dilation = one
			x := randT(r, cc.n, cc.c, cc.h, cc.w)
			w := randT(r, cc.m, cc.c/cc.group, cc.kh, cc.kw)
			var b *tensor.Tensor
			if cc.bias {
				b = randT(r, cc.m)
			}
			for _, workers := range []int{1, 2, 3, 4} {
				t.Run(fmt.Sprintf("%s/workers%d", cc.name, workers), func(t *testing.T) {
					op := rtBuild(t, 13, "Conv", cc.attrs()...)
					if cc.act.Kind != NoActivation && !op.(Fusable).FuseActivation(cc.act) {
						t.Fatal("activation fusion refused")
					}
					in := []*tensor.Tensor{x, w, b}
					want := rtMust(t, op, workers, 1, in, constAt(3, 1, 2))[0]
					checkProgress(t, op.(ProgressRunner), in, want, workers)
					checkWinoCase(t, cc.name, op.(*conv))
				})
			}
		}
	})
}

// checkProgress runs p (prepared) and checks what TestConvRunProgress
// says against want, Run's output.
func checkProgress(t *testing.T, p ProgressRunner, in []*tensor.Tensor, want *tensor.Tensor, workers int) {
	t.Helper()
	y := tensor.New(tensor.Float32, want.Shape...)
	for i := range y.F32 {
		y.F32[i] = sentinelF
	}
	seen := make([]uint32, len(y.F32)) // bits when reported
	covered := make([]int32, len(y.F32))
	busy := make([]atomic.Bool, max(1, workers))
	var mu sync.Mutex
	var bad []string
	fail := func(format string, a ...any) {
		mu.Lock()
		bad = append(bad, fmt.Sprintf(format, a...))
		mu.Unlock()
	}
	err := p.RunProgress(&Ctx{Workers: workers}, in, []*tensor.Tensor{y}, func(w, lo, hi int) {
		if w < 0 || w >= len(busy) {
			fail("worker %d of %d", w, workers)
			return
		}
		if !busy[w].CompareAndSwap(false, true) {
			fail("worker %d reported twice at once", w)
			return
		}
		defer busy[w].Store(false)
		if lo < 0 || lo >= hi || hi > len(y.F32) {
			fail("range [%d, %d) of %d values", lo, hi, len(y.F32))
			return
		}
		for i := lo; i < hi; i++ {
			seen[i] = math.Float32bits(y.F32[i])
			atomic.AddInt32(&covered[i], 1)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatal(bad[0])
	}
	for i, v := range want.F32 {
		switch {
		case covered[i] != 1:
			t.Fatalf("value %d reported %d times", i, covered[i])
		case math.Float32bits(y.F32[i]) != math.Float32bits(v):
			t.Fatalf("value %d = %v, Run gives %v", i, y.F32[i], v)
		case seen[i] != math.Float32bits(v):
			t.Fatalf("value %d was %v when reported, %v at the end", i, math.Float32frombits(seen[i]), v)
		}
	}
}

// checkWinoCase checks that a Winograd case of TestConvRunProgress has
// the tiling it is named for in RunProgress (the last run).
func checkWinoCase(t *testing.T, name string, c *conv) {
	t.Helper()
	p := c.wino
	if p != nil && !p.key.reported {
		t.Fatalf("%s: the last plan is Run's", name)
	}
	if !strings.HasPrefix(name, "winograd") {
		if p != nil {
			t.Fatalf("%s ran the Winograd strategy", name)
		}
		return
	}
	if p == nil {
		t.Fatalf("%s did not run the Winograd strategy", name)
	}
	blocks := (p.tiles + p.block - 1) / p.block
	ok := map[string]bool{
		"winograd/images":    blocks > 1 && p.block%(p.th*p.tw) == 0,
		"winograd/inside":    blocks > 1 && p.block%(p.th*p.tw) != 0 && p.block%p.tw == 0,
		"winograd/staged":    blocks > 1 && p.staged && p.block%p.tw == 0,
		"winograd/unaligned": blocks > 1 && p.block%p.tw != 0,
		"winograd/one-block": blocks == 1,
	}[name]
	if !ok {
		t.Fatalf("%s: %d tiles in blocks of %d, %d×%d an image, staged %v", name, p.tiles, p.block, p.th, p.tw, p.staged)
	}
}
