package report

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/core/layererr"
)

func abs(counts ...uint64) *calib.Histogram {
	return &calib.Histogram{Range: float64(len(counts)), Counts: counts}
}

// A histogram is trimmed after its last non-empty bin and merged to at
// most MaxBins bins whose counts are exact sums.
func TestNewTensorHistogram(t *testing.T) {
	small, err := NewTensor(calib.TensorStats{Name: "a", Count: 6, Max: 2.5, Histogram: abs(1, 0, 5, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if got := small.Histogram; got.BinWidth != 1 || len(got.Counts) != 3 || got.Counts[2] != 5 {
		t.Errorf("small histogram %+v, want bins of 1 up to the last non-empty one, [1 0 5]", got)
	}

	counts := make([]uint64, 2048)
	var total uint64
	for i := range 1500 {
		counts[i] = uint64(i%7 + 1)
		total += counts[i]
	}
	big, err := NewTensor(calib.TensorStats{Name: "b", Count: total, Histogram: &calib.Histogram{Range: 2048, Counts: counts}})
	if err != nil {
		t.Fatal(err)
	}
	h := big.Histogram
	var sum uint64
	for _, c := range h.Counts {
		sum += c
	}
	// 1500 bins, merged 3 at a time: 500.
	if len(h.Counts) != 500 || h.BinWidth != 3 || sum != total || h.Counts[0] != 1+2+3 {
		t.Errorf("%d bins of %v, sum %d, first %d; want 500 bins of 3, sum %d, first 6", len(h.Counts), h.BinWidth, sum, total, h.Counts[0])
	}

	empty, err := NewTensor(calib.TensorStats{Name: "zeros", Histogram: abs(0, 0)})
	if err != nil || len(empty.Histogram.Counts) != 0 {
		t.Errorf("all-zero histogram: %+v, %v; want no bins", empty.Histogram, err)
	}
	for _, s := range []calib.TensorStats{{Name: "minmax only"}, {Name: "signed", Histogram: &calib.Histogram{Range: 1, Signed: true, Counts: []uint64{1, 1}}}} {
		if _, err := NewTensor(s); err == nil || !strings.Contains(err.Error(), s.Name) {
			t.Errorf("%s: error %v, want one naming the tensor", s.Name, err)
		}
	}
}

// stats are 40 values, |x| up to 3.5, ten in each bin of [0, 4).
var stats = calib.TensorStats{Name: "t", Count: 40, Min: -1, Max: 3.5, Histogram: abs(10, 10, 10, 10)}

// Clipped counts the bins above amax and the part of the bin amax falls
// in, whose values are taken as spread up to max|x|, on hand-computed
// cases.
func TestClipped(t *testing.T) {
	for _, tc := range []struct{ amax, want float64 }{
		{0, 1}, {2, 0.5}, {2.5, 15.0 / 40}, {3.25, 5.0 / 40}, {3.5, 0}, {9, 0},
	} {
		if got := Clipped(stats, tc.amax); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Clipped(amax %v) = %v, want %v", tc.amax, got, tc.want)
		}
	}
	if got := Clipped(calib.TensorStats{Max: 2, Histogram: abs(0, 0)}, 1); got != 0 {
		t.Errorf("no values: %v clipped, want 0", got)
	}
}

// A long curve keeps the least value of each run of candidates and the
// chosen candidate exactly; +Inf is written as null.
func TestNewThresholdCurve(t *testing.T) {
	curve := make([]float64, 1200)
	for i := range curve {
		curve[i] = float64(i)
	}
	curve[0], curve[700] = math.Inf(1), 0.5
	th := NewThreshold("entropy2", calib.Range{Amax: 2, Curve: curve, Chosen: 700}, stats)
	c := th.Curve
	// 1200 candidates, at most 256 points: runs of 5.
	if c.Step != 5 || len(c.Points) != 240 || c.Chosen != 700 || c.ChosenValue != 0.5 {
		t.Fatalf("step %d, %d points, chosen %d (%v); want 5, 240, 700 (0.5)", c.Step, len(c.Points), c.Chosen, c.ChosenValue)
	}
	if c.Points[0] != 1 || c.Points[140] != 0.5 || c.Points[239] != 1195 {
		t.Errorf("points %v, %v, %v; want the minima 1, 0.5, 1195", c.Points[0], c.Points[140], c.Points[239])
	}
	if th.Clipped != 0.5 {
		t.Errorf("clipped %v, want 0.5", th.Clipped)
	}
	b, err := json.Marshal(NewThreshold("x", calib.Range{Amax: 1, Curve: []float64{math.Inf(1), math.NaN(), 1.23456789}, Chosen: 9}, stats))
	if err != nil {
		t.Fatal(err)
	}
	if want := `"curve":{"step":1,"points":[null,null,1.235],"chosen":-1,"chosen_value":null}`; !strings.Contains(string(b), want) {
		t.Errorf("JSON %s lacks %s (a chosen candidate outside the curve is -1)", b, want)
	}
	if th := NewThreshold("minmax", calib.Range{Amax: 3.5}, stats); th.Curve != nil || th.Clipped != 0 {
		t.Errorf("minmax's range: curve %v, %v clipped; want no curve, nothing clipped at max|x|", th.Curve, th.Clipped)
	}
}

// hostile holds what a tensor name must not do to the page: end the data's
// script element, open a comment, break out of quotes.
const hostile = "x</script><script>document.title='pwned'</script><!--\"'&\u2028"

func sample() *Report {
	s := stats
	s.Name = hostile
	tensor, _ := NewTensor(s)
	tensor.Thresholds = []Threshold{
		NewThreshold("entropy2", calib.Range{Amax: 3, Curve: []float64{3, 1, 2}, Chosen: 1}, s),
		NewThreshold("minmax", calib.Range{Amax: 3.5}, s),
	}
	return &Report{Title: "int8cal compare", Model: "<b>model</b>.onnx", Calibrators: []string{"entropy2", "minmax"},
		Metadata: []Field{{Name: "data", Value: "mnist t10k"}}, Statistics: "histograms of |x|", Tensors: []Tensor{tensor},
		Compare: []Row{{Calibrator: "FP32", Top1: 0.99}, {Calibrator: "entropy2", Top1: 0.98, DeltaTop1: -0.01}},
		Layers: &layererr.Report{Sort: layererr.SortAlone, Layers: []layererr.LayerReport{{Layer: layererr.Layer{Node: "conv1", Inputs: []string{hostile}},
			Accumulated: layererr.Summary{SQNR: layererr.Number(math.Inf(1))}}}}}
}

// page writes r and returns the page and its data, decoded back.
func page(t testing.TB, r *Report) (string, map[string]any) {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	const open = `<script id="report-data" type="application/json">`
	_, rest, ok := strings.Cut(html, open)
	if !ok {
		t.Fatalf("no data script in the page:\n%s", html)
	}
	data, _, _ := strings.Cut(rest, "</script>")
	var v map[string]any
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		t.Fatalf("the data script does not hold JSON: %v\n%s", err, data)
	}
	return html, v
}

// The data reach the page intact whatever a name holds, and no name ends
// the script element or adds markup: the page has exactly its own three
// scripts.
func TestWriteEscapes(t *testing.T) {
	html, v := page(t, sample())
	if n := strings.Count(strings.ToLower(html), "</script"); n != 3 {
		t.Errorf("%d </script tags, want the page's 3:\n%s", n, html)
	}
	if strings.Contains(html, "<b>model") || !strings.Contains(html, "&lt;b&gt;model&lt;/b&gt;.onnx") {
		t.Error("the model's name is not escaped as HTML text in the title and header")
	}
	tensors := v["tensors"].([]any)
	if got := tensors[0].(map[string]any)["name"]; got != hostile {
		t.Errorf("tensor name %q after the page, want %q", got, hostile)
	}
	if got := v["layers"].(map[string]any)["layers"].([]any)[0].(map[string]any)["accumulated"].(map[string]any)["sqnr_db"]; got != "inf" {
		t.Errorf("an infinite SQNR reads %v, want layererr.Number's \"inf\"", got)
	}
}

// The page carries what the script draws: the sections' data, no external
// resource, the script and the style inline.
func TestWriteStructure(t *testing.T) {
	html, v := page(t, sample())
	for _, want := range []string{"<!DOCTYPE html>", "<title>int8cal compare — &lt;b&gt;model&lt;/b&gt;.onnx</title>", `id="main"`, "window.onerror", "data-rendered", ".bars {"} {
		if !strings.Contains(html, want) && !strings.Contains(html, strings.ReplaceAll(want, "data-rendered", "dataset.rendered")) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, external := range []string{"http://", "https://", "src=", "@import", "url("} {
		if strings.Contains(strings.ReplaceAll(html, "http://www.w3.org/2000/svg", ""), external) {
			t.Errorf("page refers to something outside it (%q)", external)
		}
	}
	for _, key := range []string{"title", "model", "metadata", "calibrators", "statistics", "tensors", "compare", "layers"} {
		if _, ok := v[key]; !ok {
			t.Errorf("data lack %q", key)
		}
	}
	th := v["tensors"].([]any)[0].(map[string]any)["thresholds"].([]any)
	if len(th) != 2 || th[0].(map[string]any)["curve"] == nil || th[1].(map[string]any)["curve"] != nil {
		t.Errorf("thresholds %v: want entropy2's with a curve, minmax's without", th)
	}
	calibrateOnly := sample()
	calibrateOnly.Compare, calibrateOnly.Layers = nil, nil
	if _, v := page(t, calibrateOnly); v["compare"] != nil || v["layers"] != nil {
		t.Errorf("a report without compare rows or layers has %v, %v", v["compare"], v["layers"])
	}
}

// Whatever the names, the data decode back to them and the page keeps its
// three scripts.
func FuzzWrite(f *testing.F) {
	for _, s := range []string{hostile, "conv1", "</SCRIPT >", "<!--<script>", "\x00\xff", `{{.Title}}`} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, name, calibrator string) {
		r := sample()
		r.Tensors[0].Name, r.Calibrators[0], r.Tensors[0].Thresholds[0].Calibrator = name, calibrator, calibrator
		html, v := page(t, r)
		if n := strings.Count(strings.ToLower(html), "</script"); n != 3 {
			t.Fatalf("%d </script tags for %q, %q", n, name, calibrator)
		}
		got := v["tensors"].([]any)[0].(map[string]any)
		want, _ := json.Marshal(name) // invalid UTF-8 becomes U+FFFD, as in any JSON
		var wantName string
		json.Unmarshal(want, &wantName)
		if got["name"] != wantName {
			t.Fatalf("name %q came back as %q", name, got["name"])
		}
	})
}
