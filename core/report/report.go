package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/core/layererr"
)

// MaxBins and MaxPoints bound what the page keeps of a histogram and of a
// curve (see the package documentation).
const (
	MaxBins   = 512
	MaxPoints = 256
)

// Report is what the page shows.
type Report struct {
	// Title names the command, e.g. "int8cal compare".
	Title string `json:"title"`
	Model string `json:"model"`
	// Metadata are the run's inputs, in the order shown.
	Metadata []Field `json:"metadata"`
	// Calibrators name the thresholds, in the order of their colors: a
	// calibrator has the same color in every chart and table.
	Calibrators []string `json:"calibrators"`
	// Statistics says what the histograms were collected over.
	Statistics string   `json:"statistics"`
	Tensors    []Tensor `json:"tensors"`
	// Compare are compare's rows, FP32 first (none for other commands).
	Compare []Row `json:"compare,omitempty"`
	// Layers are debug's per-layer errors (nil for other commands).
	Layers *layererr.Report `json:"layers,omitempty"`
}

// Field is one line of metadata.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Tensor is one tensor's statistics and thresholds.
type Tensor struct {
	Name      string    `json:"name"`
	Count     uint64    `json:"count"`
	Min       float32   `json:"min"`
	Max       float32   `json:"max"`
	Histogram Histogram `json:"histogram"`
	// Thresholds are the calibrators' answers, in Report.Calibrators'
	// order; a calibrator without a range for the tensor has none.
	Thresholds []Threshold `json:"thresholds"`
}

// Histogram is a histogram of |x|: Counts[i] counts the values in
// [i·BinWidth, (i+1)·BinWidth).
type Histogram struct {
	BinWidth float64  `json:"bin_width"`
	Counts   []uint64 `json:"counts"`
}

// Threshold is one calibrator's range for a tensor.
type Threshold struct {
	Calibrator string  `json:"calibrator"`
	Amax       float32 `json:"amax"`
	// Clipped is the share of the values with |x| above Amax.
	Clipped number `json:"clipped"`
	// Curve is nil when the calibrator gave none (or its table was
	// reused, so it was not asked).
	Curve *Curve `json:"curve,omitempty"`
}

// Curve is a calibrator's diagnostic curve (calib.Range.Curve): Points[j]
// is the least value of candidates [j·Step, (j+1)·Step); +Inf and NaN are
// null. Chosen is the chosen candidate's index in the full curve, -1 when
// the calibrator named one outside it, and ChosenValue its value.
type Curve struct {
	Step        int      `json:"step"`
	Points      []number `json:"points"`
	Chosen      int      `json:"chosen"`
	ChosenValue number   `json:"chosen_value"`
}

// Row is one line of compare's table; FP32's has no deltas and no
// calibration.
type Row struct {
	Calibrator         string          `json:"calibrator"`
	Top1               layererr.Number `json:"top1"`
	Top5               layererr.Number `json:"top5"`
	DeltaTop1          layererr.Number `json:"delta_top1"`
	DeltaTop5          layererr.Number `json:"delta_top5"`
	CalibrationSeconds layererr.Number `json:"calibration_seconds"`
	Reused             bool            `json:"cache_reused"`
	MsPerImage         layererr.Number `json:"ms_per_image"`
}

// number is a float the page draws: four significant digits are more than
// a chart shows, and keep the file small; +Inf and NaN are null.
type number float64

// MarshalJSON writes n.
func (n number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', 4, 64), nil
}

// NewTensor is s on the page; s must hold a histogram of |x| (the kind
// calib.AbsHistogram asks for).
func NewTensor(s calib.TensorStats) (Tensor, error) {
	h := s.Histogram
	if h == nil || h.Signed {
		return Tensor{}, fmt.Errorf("tensor %q: the report needs a histogram of |x|", s.Name)
	}
	n := len(h.Counts)
	for n > 0 && h.Counts[n-1] == 0 {
		n--
	}
	merge := max(1, (n+MaxBins-1)/MaxBins)
	counts := make([]uint64, (n+merge-1)/merge)
	for i, c := range h.Counts[:n] {
		counts[i/merge] += c
	}
	// Thresholds start empty, not nil: a tensor no calibrator gave a
	// range (a table leaves out all-zero tensors) is [] to the script.
	return Tensor{Name: s.Name, Count: s.Count, Min: s.Min, Max: s.Max, Thresholds: []Threshold{},
		Histogram: Histogram{BinWidth: h.BinWidth() * float64(merge), Counts: counts}}, nil
}

// NewThreshold is calibrator's range r for the tensor of statistics s
// (with its full histogram of |x|), with its clipped fraction and its
// curve reduced to at most MaxPoints points.
func NewThreshold(calibrator string, r calib.Range, s calib.TensorStats) Threshold {
	t := Threshold{Calibrator: calibrator, Amax: r.Amax, Clipped: number(Clipped(s, float64(r.Amax)))}
	if len(r.Curve) == 0 {
		return t
	}
	step := (len(r.Curve) + MaxPoints - 1) / MaxPoints
	c := &Curve{Step: step, Chosen: -1, ChosenValue: number(math.NaN())}
	for lo := 0; lo < len(r.Curve); lo += step {
		least := math.Inf(1)
		for _, v := range r.Curve[lo:min(lo+step, len(r.Curve))] {
			if v < least { // NaN never is
				least = v
			}
		}
		c.Points = append(c.Points, number(least))
	}
	if r.Chosen < len(r.Curve) {
		c.Chosen, c.ChosenValue = r.Chosen, number(r.Curve[r.Chosen])
	}
	t.Curve = c
	return t
}

// Clipped is the share of the values of s above amax, from its histogram
// of |x| (NewTensor's), taking the values of a bin as spread evenly over
// it up to max|x|: nothing is clipped at or above max|x|.
func Clipped(s calib.TensorStats, amax float64) float64 {
	top := float64(s.MaxAbs())
	if s.Histogram == nil || amax >= top {
		return 0
	}
	var total, above float64
	w := s.Histogram.BinWidth()
	for i, c := range s.Histogram.Counts {
		total += float64(c)
		lo := float64(i) * w
		hi := min(lo+w, top)
		switch {
		case lo >= amax:
			above += float64(c)
		case hi > amax:
			above += float64(c) * (hi - amax) / (hi - lo)
		}
	}
	if total == 0 {
		return 0
	}
	return above / total
}

var (
	//go:embed page.html
	pageHTML string
	//go:embed page.js
	pageJS string
	//go:embed page.css
	pageCSS string

	tmpl = template.Must(template.New("report").Parse(pageHTML))
)

// Write writes r as one HTML page. The data go in through html/template's
// script context, which writes them as JSON with <, > and & escaped, so
// that no tensor name can end the script element.
func Write(w io.Writer, r *Report) error {
	return tmpl.Execute(w, struct {
		*Report
		Script template.JS
		Style  template.CSS
	}{r, template.JS(pageJS), template.CSS(pageCSS)})
}
