package pipeline

import (
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
)

// The sample's verdict says which rule Failed, and without an FP32 pass in
// the same command nothing passes (issue 13: INT8 alone with broken scales
// printed PASSED).
func TestJudge(t *testing.T) {
	score := func(top1, top5 float64, nonFinite int) *session.Score {
		return &session.Score{Images: 10, Top1: top1, Top5: top5, Output: "prob", NonFinite: session.NonFinite{Values: nonFinite, Images: min(nonFinite, 10)}}
	}
	fp32 := func(s *session.Score) PrecisionScore { return PrecisionScore{precision.FP32, s} }
	int8 := func(s *session.Score) PrecisionScore { return PrecisionScore{precision.INT8, s} }
	for _, tc := range []struct {
		name   string
		scores []PrecisionScore
		status string
		why    []string
	}{
		{"sample passes", []PrecisionScore{fp32(score(0.995, 1, 0)), int8(score(0.99, 1, 0))}, Passed, nil},
		{"INT8 before FP32 still compared", []PrecisionScore{int8(score(0.5, 1, 0)), fp32(score(0.995, 1, 0))}, Failed, []string{"INT8 Top-1 0.5 is 0.495 below FP32's 0.995, more than the threshold 0.01"}},
		{"INT8 just within", []PrecisionScore{fp32(score(0.995, 1, 0)), int8(score(0.986, 1, 0))}, Passed, nil},
		{"FP16 and INT8 each judged", []PrecisionScore{fp32(score(0.995, 1, 0)), {precision.FP16, score(0.99, 1, 0)}, int8(score(0.9, 1, 0))}, Failed, []string{"INT8 Top-1 0.9 is 0.095 below"}},
		{"FP32 below the sample's bar", []PrecisionScore{fp32(score(0.98, 1, 0))}, Failed, []string{"FP32 Top-1 0.98 is below the threshold 0.99"}},
		{"FP32 Top-5 below the sample's bar", []PrecisionScore{fp32(score(0.995, 0.985, 0))}, Failed, []string{"FP32 Top-5 0.985 is below the threshold 0.99"}},
		{"INT8 alone", []PrecisionScore{int8(score(0.0958, 1, 0))}, Waived, []string{"no FP32 pass ran in this command"}},
		{"INT8 alone, NaN", []PrecisionScore{int8(score(0, 0, 5))}, Failed, []string{`INT8 output "prob" held 5 NaN`}},
		{"NaN FP32", []PrecisionScore{fp32(score(0, 0, 100)), int8(score(0, 0, 100))}, Failed, []string{`FP32 output "prob" held 100 NaN`, `INT8 output "prob"`, "FP32 Top-1 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Judge(tc.scores)
			if v.Status != tc.status {
				t.Errorf("status %s, want %s (%q)", v.Status, tc.status, v.Reasons)
			}
			all := strings.Join(v.Reasons, "\n")
			for _, w := range tc.why {
				if !strings.Contains(all, w) {
					t.Errorf("reasons %q lack %q", all, w)
				}
			}
			if tc.why == nil && len(v.Reasons) > 0 {
				t.Errorf("reasons %q for a pass", all)
			}
		})
	}
}
