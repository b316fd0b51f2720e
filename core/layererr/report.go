package layererr

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"text/tabwriter"
)

// Number is a metric as JSON writes it: six significant digits, and the
// strings "inf", "-inf" and "nan" (which Python's float() reads) where
// JSON has no number. Every int8cal JSON report writes its measured
// fractions through it (Top-1, Top-5 and their deltas, timings), so that a
// difference of two scores reads 0.0006, not 0.0006000000000000449: six
// digits keep a Top-1 of 100,000 images within one image.
type Number float64

// MarshalJSON writes n.
func (n Number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	switch {
	case math.IsNaN(f):
		return []byte(`"nan"`), nil
	case math.IsInf(f, 1):
		return []byte(`"inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-inf"`), nil
	}
	return strconv.AppendFloat(nil, f, 'g', 6, 64), nil
}

// Summary is one tensor's accumulated error.
type Summary struct {
	// Tensor is the compared tensor.
	Tensor    string `json:"tensor"`
	SQNR      Number `json:"sqnr_db"`
	Cosine    Number `json:"cosine"`
	MaxAbs    Number `json:"max_abs_error"`
	MeanAbs   Number `json:"mean_abs_error"`
	NonFinite int64  `json:"non_finite"`
}

// Summarize is m's numbers for tensor name.
func (m *Metrics) Summarize(name string) Summary {
	return Summary{Tensor: name, SQNR: Number(m.SQNR()), Cosine: Number(m.Cosine()), MaxAbs: Number(m.MaxAbs()), MeanAbs: Number(m.MeanAbs()), NonFinite: m.NonFinite}
}

// LayerReport is one quantized layer's errors.
type LayerReport struct {
	Layer
	// Accumulated is the layer's output in the INT8 run with every
	// layer quantized: its own error and that of the layers before it.
	Accumulated Summary `json:"accumulated"`
	// Alone is the layer's output when it is the only layer quantized.
	Alone Summary `json:"alone"`
	// AloneOutputs are the model's outputs when it is the only layer
	// quantized: how much this layer alone costs the network.
	AloneOutputs []Summary `json:"alone_model_outputs"`
}

// Report is a comparison's result.
type Report struct {
	Batches int `json:"batches"`
	Samples int `json:"samples"`
	// Sort is the order of Layers (SortAlone or SortAccumulated).
	Sort string `json:"sort"`
	// Quantized is the number of layers INT8 quantizes; Layers may hold
	// fewer (Truncate).
	Quantized int `json:"quantized_layers"`
	// Outputs are the model's float outputs with every layer quantized.
	Outputs []Summary     `json:"model_outputs"`
	Layers  []LayerReport `json:"layers"`
}

// The orders of a Report's layers, worst SQNR first.
const (
	// SortAlone orders by the SQNR of the model's first output with the
	// layer quantized alone: the layers the network is most sensitive to.
	SortAlone = "alone"
	// SortAccumulated orders by the SQNR of the layer's output in the
	// full INT8 run: where the error has grown largest.
	SortAccumulated = "accumulated"
)

// Report returns the layers' errors so far, worst first by sort
// (SortAlone or SortAccumulated); NaN counts as worst, ties keep the
// graph's order.
func (c *Comparer) Report(sort string) (*Report, error) {
	if c.batches == 0 {
		return nil, fmt.Errorf("no batch compared")
	}
	r := &Report{Batches: c.batches, Samples: c.samples, Sort: sort, Quantized: len(c.layers)}
	for i, name := range c.outputs {
		r.Outputs = append(r.Outputs, c.model[i].Summarize(name))
	}
	for i, l := range c.layers {
		lr := LayerReport{Layer: l, Accumulated: c.acc[i].Summarize(l.Output), Alone: c.alone[i].Summarize(l.Output)}
		for j, name := range c.outputs {
			lr.AloneOutputs = append(lr.AloneOutputs, c.aloneModel[i][j].Summarize(name))
		}
		r.Layers = append(r.Layers, lr)
	}
	key := func(l LayerReport) float64 { return float64(l.Accumulated.SQNR) }
	switch sort {
	case SortAccumulated:
	case SortAlone:
		if len(c.outputs) == 0 {
			// No float output to judge the network by: the layer's own
			// output stands in.
			key = func(l LayerReport) float64 { return float64(l.Alone.SQNR) }
			break
		}
		key = func(l LayerReport) float64 { return float64(l.AloneOutputs[0].SQNR) }
	default:
		return nil, fmt.Errorf("sort order %q unknown: %s or %s", sort, SortAlone, SortAccumulated)
	}
	slices.SortStableFunc(r.Layers, func(a, b LayerReport) int { return cmp.Compare(key(a), key(b)) })
	return r, nil
}

// Truncate keeps the n worst layers (all when n ≤ 0).
func (r *Report) Truncate(n int) {
	if n > 0 && n < len(r.Layers) {
		r.Layers = r.Layers[:n]
	}
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r as a table, one layer a line, then the model's
// outputs with every layer quantized.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%d of %d quantized layers, worst first by %s SQNR; %d batches, %d samples\n", len(r.Layers), r.Quantized, r.Sort, r.Batches, r.Samples)
	fmt.Fprintln(w, "acc: every layer INT8, at the layer's tensor; alone: only this layer INT8, at its tensor and at the model's (first) output")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\top\ttensor\tSQNR acc dB\tSQNR alone dB\tSQNR alone out dB\tcosine acc\tmax abs acc\tmean abs acc\tnon-finite\t")
	for _, l := range r.Layers {
		out := "-"
		if len(l.AloneOutputs) > 0 {
			out = format(l.AloneOutputs[0].SQNR, 'f', 2)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", l.Node, l.Op, l.Output,
			format(l.Accumulated.SQNR, 'f', 2), format(l.Alone.SQNR, 'f', 2), out,
			format(l.Accumulated.Cosine, 'f', 5), format(l.Accumulated.MaxAbs, 'g', 4), format(l.Accumulated.MeanAbs, 'g', 4),
			l.Accumulated.NonFinite)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, o := range r.Outputs {
		if _, err := fmt.Fprintf(w, "model output %s, every layer INT8: SQNR %s dB, cosine %s, max abs %s, mean abs %s\n", o.Tensor,
			format(o.SQNR, 'f', 2), format(o.Cosine, 'f', 5), format(o.MaxAbs, 'g', 4), format(o.MeanAbs, 'g', 4)); err != nil {
			return err
		}
	}
	return nil
}

// format writes a metric for the text table ("inf", "nan" as JSON does).
func format(n Number, f byte, prec int) string {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		b, _ := n.MarshalJSON()
		return string(b[1 : len(b)-1])
	}
	return strconv.FormatFloat(float64(n), f, prec, 64)
}
