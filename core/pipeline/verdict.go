package pipeline

import (
	"fmt"
	"math"
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
	// One reason per rule broken, each with its threshold and the
	// measured value, so that a FAILED says what to look at.
	for _, m := range []struct {
		name  string
		value float64
	}{{"Top-1", fp32.Top1}, {"Top-5", fp32.Top5}} {
		if m.value < minFP32 {
			v.Reasons = append(v.Reasons, fmt.Sprintf("FP32 %s %s is below the threshold %v (the sample's MNIST criterion; int8cal eval scores without thresholds)", m.name, G6(m.value), minFP32))
		}
	}
	for _, ps := range scores {
		if ps.Precision != precision.FP32 && ps.Score.Top1 < fp32.Top1-maxDrop { // the sample's comparison
			drop := roundDrop(fp32.Top1 - ps.Score.Top1)
			v.Reasons = append(v.Reasons, fmt.Sprintf("%s Top-1 %s is %s below FP32's %s, more than the threshold %v", ps.Precision, G6(ps.Score.Top1), G6(drop), G6(fp32.Top1), maxDrop))
		}
	}
	if len(v.Reasons) > 0 {
		v.Status = Failed
	} else {
		v.Status = Passed
	}
	return v
}

// roundDrop rounds a difference of two scores to 1e-6, so that 0.995-0.5
// prints as 0.495 and not as its float64 residue.
func roundDrop(d float64) float64 { return math.Round(d*1e6) / 1e6 }

// G6 formats like C++ iostreams' default (6 significant digits), as the
// sample prints its numbers.
func G6(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
