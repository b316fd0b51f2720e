package pipeline

import (
	"fmt"
	"strconv"

	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
)

// The sample's verdicts, as TensorRT's samples log them after "&&&& ".
const (
	Passed = "PASSED"
	Failed = "FAILED"
	Waived = "WAIVED"
)

// PrecisionScore is one precision's scoring pass.
type PrecisionScore struct {
	Precision precision.Precision
	Score     *session.Score
}

// Verdict is the sample's criterion applied to a command's passes.
type Verdict struct {
	Status  string   // Passed, Failed or Waived
	Reasons []string // why it did not pass, one rule each
}

// Judge applies the sample's criterion: FP32 Top-1 and Top-5 of at least
// 0.99, every other precision's Top-1 within 0.01 of FP32's. A pass whose
// scores were not all finite fails whatever its numbers; without an FP32
// pass among scores there is nothing to compare against, and the run is
// waived rather than passed.
func Judge(scores []PrecisionScore) Verdict {
	const minFP32, maxDrop = 0.99, 0.01
	var v Verdict
	var fp32 *session.Score
	for _, ps := range scores {
		if !ps.Score.Finite() {
			v.Reasons = append(v.Reasons, fmt.Sprintf("%s %s", ps.Precision, ps.Score.NonFiniteReport()))
		}
		if ps.Precision == precision.FP32 && fp32 == nil {
			fp32 = ps.Score
		}
	}
	if fp32 == nil {
		if len(v.Reasons) > 0 {
			return Verdict{Failed, v.Reasons}
		}
		return Verdict{Waived, []string{"no FP32 pass ran in this command, so the other precisions were compared against nothing; add fp32 to --precision for the sample's criterion"}}
	}
	if fp32.Top1 < minFP32 || fp32.Top5 < minFP32 {
		v.Reasons = append(v.Reasons, fmt.Sprintf("FP32 Top-1 %s and Top-5 %s must both be at least %v (the sample's MNIST criterion)", G6(fp32.Top1), G6(fp32.Top5), minFP32))
	}
	for _, ps := range scores {
		if ps.Precision != precision.FP32 && ps.Score.Top1 < fp32.Top1-maxDrop {
			v.Reasons = append(v.Reasons, fmt.Sprintf("%s Top-1 %s is more than %v below FP32's %s", ps.Precision, G6(ps.Score.Top1), maxDrop, G6(fp32.Top1)))
		}
	}
	if len(v.Reasons) > 0 {
		v.Status = Failed
	} else {
		v.Status = Passed
	}
	return v
}

// G6 formats like C++ iostreams' default (6 significant digits), as the
// sample prints its numbers.
func G6(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
