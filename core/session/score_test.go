package session

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/tensor"
)

func TestTopKRanksTiesInTheLabelsFavour(t *testing.T) {
	for _, tc := range []struct {
		name       string
		scores     []float32
		label      int
		top1, top5 int
	}{
		{"clear winner", []float32{0.1, 0.7, 0.2}, 1, 1, 1},
		{"second place", []float32{0.1, 0.2, 0.7}, 1, 0, 1},
		{"tie at the top", []float32{0.5, 0.5, 0}, 1, 1, 1},
		{"sixth place", []float32{6, 5, 4, 3, 2, 1, 0}, 5, 0, 0},
		{"fifth place", []float32{6, 5, 4, 3, 2, 1, 0}, 4, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tensor.FromFloat32(tc.scores, 1, len(tc.scores))
			k, err := topK(s, []int{tc.label})
			if err != nil {
				t.Fatal(err)
			}
			if k.top1 != tc.top1 || k.top5 != tc.top5 {
				t.Errorf("top1 %d top5 %d, want %d %d", k.top1, k.top5, tc.top1, tc.top5)
			}
		})
	}
}

// Regression (issue 13, finding 1): NaN compares false, so a NaN row once
// ranked its label first and an all-NaN model scored Top-1 1.
func TestTopKNonFiniteIsNeverCorrect(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, tc := range []struct {
		name         string
		scores       []float32
		label        int
		top1, top5   int
		values, imgs int
	}{
		{"all NaN", []float32{nan, nan, nan}, 1, 0, 0, 3, 1},
		{"NaN elsewhere", []float32{0.1, 0.9, nan}, 1, 0, 0, 1, 1},
		{"label +Inf", []float32{0.1, inf, 0.2}, 1, 0, 0, 1, 1},
		{"all +Inf", []float32{inf, inf, inf}, 0, 0, 0, 3, 1},
		{"label -Inf", []float32{0.1, -inf, 0.2}, 1, 0, 0, 1, 1},
		{"another +Inf ranks above", []float32{inf, 0.9, 0.2}, 1, 0, 1, 1, 1},
		{"another -Inf ranks below", []float32{-inf, 0.9, 0.2}, 1, 1, 1, 1, 1},
		{"finite", []float32{0.1, 0.9, 0.2}, 1, 1, 1, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := topK(tensor.FromFloat32(tc.scores, 1, len(tc.scores)), []int{tc.label})
			if err != nil {
				t.Fatal(err)
			}
			if k.top1 != tc.top1 || k.top5 != tc.top5 || k.nonFinite.Values != tc.values || k.nonFinite.Images != tc.imgs {
				t.Errorf("got top1 %d top5 %d non-finite %d in %d images, want %d %d %d %d",
					k.top1, k.top5, k.nonFinite.Values, k.nonFinite.Images, tc.top1, tc.top5, tc.values, tc.imgs)
			}
		})
	}
}

// nanModel answers NaN for every class of the images whose sample value
// is at least from.
type nanModel struct{ classes, from int }

func (m nanModel) Run(in map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	x := in["x"]
	out := tensor.New(tensor.Float32, x.Shape[0], m.classes)
	for i := range x.Shape[0] {
		if int(x.F32[i]) >= m.from {
			for c := range m.classes {
				out.F32[i*m.classes+c] = float32(math.NaN())
			}
		}
	}
	return map[string]*tensor.Tensor{"y": out}, nil
}

func TestEvaluateCountsNonFiniteScores(t *testing.T) {
	s, err := Evaluate(nanModel{classes: 10, from: 10}, fakeSource{n: 40, classes: 10}, ScoreConfig{Batch: 4, Start: 1, Batches: 5, Input: "x", Output: "y"})
	if err != nil {
		t.Fatal(err)
	}
	// Samples 4–23 are scored; 10–23 are NaN (14 images, 140 values),
	// the first in batch 2 (samples 8–11). The finite rows score every
	// class 0 and are right, by tie, for all six.
	if s.Finite() || s.NonFinite.Values != 140 || s.NonFinite.Images != 14 || s.NonFinite.FirstBatch != 2 {
		t.Errorf("non-finite %+v, want 140 values in 14 images from batch 2", s.NonFinite)
	}
	if s.Top1 != 6.0/20 || s.Top5 != 6.0/20 {
		t.Errorf("top1 %v top5 %v, want 0.3: a NaN image is never correct", s.Top1, s.Top5)
	}
	if r := s.NonFiniteReport(); !strings.Contains(r, `output "y" held 140 NaN or infinite values in 14 of the 20 images scored (first in batch 2)`) {
		t.Errorf("report %q", r)
	}
	if s, _ := Evaluate(oracle{classes: 10}, fakeSource{n: 8, classes: 10}, ScoreConfig{Batch: 4, Batches: 2, Input: "x", Output: "y"}); !s.Finite() || s.NonFiniteReport() != "" {
		t.Errorf("a finite pass reports %+v", s.NonFinite)
	}
}

// poisoned serves finite samples except sample bad, which holds v at
// element 5 of a [2,3] sample.
type poisoned struct {
	bad int
	v   float32
}

func (poisoned) Len() int           { return 10 }
func (poisoned) SampleShape() []int { return []int{2, 3} }
func (p poisoned) Read(first, n int, images []float32, labels []int) error {
	for i := range n {
		for j := range 6 {
			images[i*6+j] = 0.5
		}
		if first+i == p.bad {
			images[i*6+5] = p.v
		}
		labels[i] = 0
	}
	return nil
}

// Regression (issue 13, finding 7): non-finite data was blamed on the
// network ("overflows float32"); the sample is named instead.
func TestReadFiniteNamesTheSample(t *testing.T) {
	for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		err := ReadFinite(poisoned{bad: 7, v: v}, 6, 3, make([]float32, 18), make([]int, 3))
		var nf *NonFiniteSampleError
		if !errors.As(err, &nf) || nf.Sample != 7 || len(nf.Index) != 2 || nf.Index[0] != 1 || nf.Index[1] != 2 {
			t.Errorf("value %v: error %v, want sample 7 at [1 2]", v, err)
		}
	}
	if err := ReadFinite(poisoned{bad: 7, v: 1}, 6, 3, make([]float32, 18), make([]int, 3)); err != nil {
		t.Errorf("finite data: %v", err)
	}
}

func TestTopKErrors(t *testing.T) {
	if _, err := topK(tensor.FromFloat32(make([]float32, 6), 2, 3), []int{0, 3}); err == nil || !strings.Contains(err.Error(), "is 3, outside") {
		t.Errorf("label outside the classes: %v", err)
	}
	if _, err := topK(tensor.FromFloat32(make([]float32, 6), 3, 2), []int{0, 1}); err == nil {
		t.Error("a batch of 3 score rows for 2 labels should fail")
	}
}

func TestCheckRange(t *testing.T) {
	if err := CheckRange(ScoreConfig{Batch: 32, Start: 16, Batches: 1800}, 60000); err != nil {
		t.Errorf("the sample's defaults fit MNIST's training set: %v", err)
	}
	err := CheckRange(ScoreConfig{Batch: 32, Start: 16, Batches: 1860}, 60000)
	if err == nil || !strings.Contains(err.Error(), "needs 60032 samples") {
		t.Errorf("error %v should give the number of samples needed", err)
	}
	if err := CheckRange(ScoreConfig{Batch: 0, Batches: 1}, 10); err == nil {
		t.Error("batch 0 should be refused")
	}
}

// fakeSource serves sample i with value i and label i%classes.
type fakeSource struct{ n, classes int }

func (f fakeSource) Len() int           { return f.n }
func (f fakeSource) SampleShape() []int { return []int{1} }
func (f fakeSource) Read(first, n int, images []float32, labels []int) error {
	for i := 0; i < n; i++ {
		images[i] = float32(first + i)
		labels[i] = (first + i) % f.classes
	}
	return nil
}

// oracle scores the right class for even samples and class 0 otherwise.
type oracle struct{ classes int }

func (o oracle) Run(in map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	x := in["x"]
	n := x.Shape[0]
	out := tensor.New(tensor.Float32, n, o.classes)
	for i := 0; i < n; i++ {
		s := int(x.F32[i])
		if s%2 == 0 {
			out.F32[i*o.classes+s%o.classes] = 1
		} else {
			out.F32[i*o.classes+(s+1)%o.classes] = 1
		}
	}
	return map[string]*tensor.Tensor{"y": out}, nil
}

func TestEvaluateScoresTheConfiguredBatches(t *testing.T) {
	var progress []int
	s, err := Evaluate(oracle{classes: 10}, fakeSource{n: 100, classes: 10}, ScoreConfig{
		Batch: 4, Start: 2, Batches: 5, Input: "x", Output: "y",
		Progress: func(done int) { progress = append(progress, done) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Images != 20 || s.Batches != 5 || s.Top1 != 0.5 {
		t.Errorf("images %d batches %d top1 %v, want 20, 5, 0.5", s.Images, s.Batches, s.Top1)
	}
	if len(progress) != 5 || progress[4] != 5 {
		t.Errorf("progress calls %v", progress)
	}
}

type failing struct{}

func (failing) Run(map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	return nil, errors.New("boom")
}

func TestEvaluateErrors(t *testing.T) {
	if _, err := Evaluate(failing{}, fakeSource{n: 10, classes: 2}, ScoreConfig{Batch: 2, Batches: 1, Input: "x", Output: "y"}); err == nil {
		t.Error("a failing model should fail the pass")
	}
	if _, err := Evaluate(oracle{classes: 10}, fakeSource{n: 10, classes: 10}, ScoreConfig{Batch: 2, Batches: 1, Input: "x", Output: "z"}); err == nil || !strings.Contains(err.Error(), `"z"`) {
		t.Errorf("a missing output should be named: %v", err)
	}
}

// checked is poisoned data from a source that says it checks its own
// samples: ReadFinite trusts it rather than scanning again.
type checked struct{ poisoned }

func (checked) ChecksFinite() bool { return true }

func TestReadFiniteTrustsAFiniteChecker(t *testing.T) {
	if err := ReadFinite(checked{poisoned{bad: 7, v: float32(math.NaN())}}, 6, 3, make([]float32, 18), make([]int, 3)); err != nil {
		t.Errorf("a FiniteChecker's samples were scanned again: %v", err)
	}
}

// planning records the calls a Planner gets.
type planning struct {
	oracle
	calls []string
	fail  error
}

func (p *planning) MakePlan(in map[string]*tensor.Tensor) error {
	p.calls = append(p.calls, fmt.Sprintf("plan %v", in["x"].Shape))
	return p.fail
}

func (p *planning) Run(in map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	p.calls = append(p.calls, "run")
	return p.oracle.Run(in)
}

// A Planner makes its plan once, for the first batch's shapes, before
// that batch's timed Run; its error stops the pass.
func TestEvaluatePlansBeforeTheClock(t *testing.T) {
	p := &planning{oracle: oracle{classes: 10}}
	if _, err := Evaluate(p, fakeSource{n: 100, classes: 10}, ScoreConfig{Batch: 4, Batches: 3, Input: "x", Output: "y"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"plan [4 1]", "run", "run", "run"}; !slices.Equal(p.calls, want) {
		t.Errorf("calls %q, want %q", p.calls, want)
	}
	p = &planning{oracle: oracle{classes: 10}, fail: errors.New("no memory for the plan")}
	if _, err := Evaluate(p, fakeSource{n: 100, classes: 10}, ScoreConfig{Batch: 4, Batches: 3, Input: "x", Output: "y"}); err == nil || !strings.Contains(err.Error(), "no memory") {
		t.Errorf("the plan's error should stop the pass: %v", err)
	}
}

// staging is a Stager whose buffer the batches must arrive in.
type staging struct {
	planning
	buf  []float32
	seen int
}

func (s *staging) InputBuffer(name string) []float32 {
	if name != "x" {
		return nil
	}
	return s.buf
}

func (s *staging) Run(in map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	if x := in["x"].F32; &x[0] == &s.buf[0] {
		s.seen++
	}
	return s.planning.Run(in)
}

// A Stager's batches are read straight into its buffer (and scored as
// any others); a buffer of another size is not used.
func TestEvaluateReadsIntoTheStagingBuffer(t *testing.T) {
	st := &staging{planning: planning{oracle: oracle{classes: 10}}, buf: make([]float32, 4)}
	s, err := Evaluate(st, fakeSource{n: 100, classes: 10}, ScoreConfig{Batch: 4, Batches: 3, Input: "x", Output: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if st.seen != 3 || s.Top1 != 0.5 {
		t.Errorf("%d of 3 batches in the staging buffer, Top-1 %v (want 0.5)", st.seen, s.Top1)
	}
	if st.buf[0] != 8 {
		t.Errorf("the buffer holds %v, want the last batch (8, 9, 10, 11)", st.buf)
	}
	st = &staging{planning: planning{oracle: oracle{classes: 10}}, buf: make([]float32, 5)}
	if _, err := Evaluate(st, fakeSource{n: 100, classes: 10}, ScoreConfig{Batch: 4, Batches: 3, Input: "x", Output: "y"}); err != nil || st.seen != 0 {
		t.Errorf("a buffer of another size: err %v, %d batches read into it", err, st.seen)
	}
}
