package calibrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/core/stats"
)

// statsFixture is a histogram cache as saveStats writes it: two tensors
// of 16-bin histograms of |x|, or of x when signed.
func statsFixture(signed bool) (statsKey, calib.Info, statsFile) {
	need := calib.Info{Statistics: calib.AbsHistogram, Bins: 16}
	if signed {
		need.Statistics = calib.SignedHistogram
	}
	key := statsKey{Format: statsFormat, ModelSHA256: "m", Dataset: "d", BatchSize: 2, Batches: 1, Statistics: need.Statistics.String(), Bins: need.Bins}
	file := statsFile{statsKey: key}
	for _, name := range []string{"data", "conv1"} {
		h, err := histogram.NewConfig(stats.HistogramConfig(need))
		if err != nil {
			panic(err)
		}
		h.Add([]float32{0, 0.5, -0.25, 3, -1.5})
		file.Tensors = append(file.Tensors, calib.TensorStats{Name: name, Count: h.Count(), Min: h.Min(), Max: h.Max(),
			Histogram: &calib.Histogram{Range: h.Range(), Signed: h.Signed(), Counts: h.Bins()}})
	}
	return key, need, file
}

// TestHistogramCacheChecked: a histogram cache is used only when it holds
// what Collect gives for the calibrator; a damaged one says what is
// wrong (and the statistics are collected again).
func TestHistogramCacheChecked(t *testing.T) {
	for _, signed := range []bool{false, true} {
		key, need, good := statsFixture(signed)
		data, _ := json.Marshal(good)
		if stats, err := decodeStats(bytes.NewReader(data), key, need); err != nil || len(stats) != 2 {
			t.Fatalf("signed %v: a good cache: %v", signed, err)
		}
		for _, c := range []struct {
			what string
			mod  func(f *statsFile)
			want string
		}{
			{"other inputs", func(f *statsFile) { f.Batches = 2 }, "made from other inputs"},
			{"no tensors", func(f *statsFile) { f.Tensors = nil }, "no tensors"},
			{"no name", func(f *statsFile) { f.Tensors[1].Name = "" }, "tensor 1 has no name"},
			{"twice", func(f *statsFile) { f.Tensors[1].Name = "data" }, `tensor "data" appears twice`},
			{"raw values", func(f *statsFile) { f.Tensors[0].Values = []float32{1} }, "raw values"},
			{"min above max", func(f *statsFile) { f.Tensors[0].Min = 9 }, `tensor "data": min 9 above max 3`},
			{"no histogram", func(f *statsFile) { f.Tensors[0].Histogram = nil }, "no histogram"},
			{"bins", func(f *statsFile) { f.Tensors[0].Histogram.Counts = f.Tensors[0].Histogram.Counts[1:] }, "histogram of 15 bins"},
			{"signedness", func(f *statsFile) { f.Tensors[0].Histogram.Signed = !signed }, "want 16"},
			{"range", func(f *statsFile) { f.Tensors[0].Histogram.Range = -1 }, "histogram range -1"},
			{"count", func(f *statsFile) { f.Tensors[1].Histogram.Counts[3]++ }, `tensor "conv1": histogram bins add up to 6 (overflow false), not the count 5`},
			{"overflow", func(f *statsFile) {
				f.Tensors[1].Histogram.Counts[0], f.Tensors[1].Histogram.Counts[1] = math.MaxUint64, 6
			}, "overflow true"},
		} {
			_, _, f := statsFixture(signed)
			c.mod(&f)
			data, _ := json.Marshal(f)
			if _, err := decodeStats(bytes.NewReader(data), key, need); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("signed %v, %s: %v, want %q", signed, c.what, err, c.want)
			}
		}
	}
	key, need, _ := statsFixture(false)
	if _, err := decodeStats(strings.NewReader("{"), key, need); err == nil || !strings.Contains(err.Error(), "not a histogram cache") {
		t.Errorf("truncated: %v", err)
	}
	minmax := calib.Info{Statistics: calib.MinMax}
	mkey := statsKey{Format: statsFormat, Statistics: minmax.Statistics.String()}
	_, _, f := statsFixture(false)
	f.statsKey = mkey
	data, _ := json.Marshal(f)
	if _, err := decodeStats(bytes.NewReader(data), mkey, minmax); err == nil || !strings.Contains(err.Error(), "a histogram, but the calibrator asks for min-max statistics") {
		t.Errorf("histogram for min-max: %v", err)
	}
}

// FuzzStatsCache checks that reading a histogram cache never panics and
// that what it accepts passes the checks and encodes back the same.
func FuzzStatsCache(f *testing.F) {
	key, need, good := statsFixture(false)
	data, err := json.Marshal(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(bytes.Replace(data, []byte(`"counts":[`), []byte(`"counts":[18446744073709551615,`), 1))
	f.Add([]byte(`{"format":1,"tensors":[{"Name":"x","Histogram":{"Range":1e400}}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		stats, err := decodeStats(bytes.NewReader(data), key, need)
		if err != nil {
			if errors.Is(err, errOtherInputs) || err.Error() != "" {
				return
			}
			t.Fatal("an error without a message")
		}
		if err := checkStats(stats, need); err != nil {
			t.Fatalf("accepted statistics fail the checks: %v", err)
		}
		again, err := json.Marshal(statsFile{statsKey: key, Tensors: stats})
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeStats(bytes.NewReader(again), key, need)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if twice, _ := json.Marshal(statsFile{statsKey: key, Tensors: back}); !bytes.Equal(twice, again) {
			t.Fatalf("round trip:\n%s\n%s", again, twice)
		}
	})
}
