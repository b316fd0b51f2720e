package session

import (
	"errors"
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
			top1, top5, err := topK(s, []int{tc.label})
			if err != nil {
				t.Fatal(err)
			}
			if top1 != tc.top1 || top5 != tc.top5 {
				t.Errorf("top1 %d top5 %d, want %d %d", top1, top5, tc.top1, tc.top5)
			}
		})
	}
}

func TestTopKErrors(t *testing.T) {
	if _, _, err := topK(tensor.FromFloat32(make([]float32, 6), 2, 3), []int{0, 3}); err == nil || !strings.Contains(err.Error(), "label 3") {
		t.Errorf("label outside the classes: %v", err)
	}
	if _, _, err := topK(tensor.FromFloat32(make([]float32, 6), 3, 2), []int{0, 1}); err == nil {
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
