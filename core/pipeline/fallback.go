package pipeline

import (
	"fmt"
	"math"
	"slices"

	"github.com/int8cal/int8cal/core/layererr"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
)

// FallbackSearch says what Fallback searches for.
type FallbackSearch struct {
	// Table is the calibration table (--table), read as given and never
	// written.
	Table string
	// MaxDrop is the largest Top-1 drop from FP32 allowed, a fraction of
	// the images (0.003: 0.3 points).
	MaxDrop float64
	// Sensitivity are the batches the layers are ranked on (Debug's
	// "alone" order): a few suffice to order them.
	Sensitivity session.ScoreConfig
	// MaxLayers is the most layers kept in FP32 (0: every one may be);
	// with all of them FP32, INT8 is FP32, so a target can only be out
	// of reach under such a bound.
	MaxLayers int
	// ScoreConfig are the evaluation batches the target must hold on.
	session.ScoreConfig
}

// FallbackStep is one INT8 evaluation of the search.
type FallbackStep struct {
	// FP32Layers is how many of the most sensitive layers were kept in
	// FP32.
	FP32Layers int     `json:"fp32_layers"`
	Top1       float64 `json:"top1"`
	Drop       float64 `json:"drop"`
}

// FallbackResult is what Fallback found.
type FallbackResult struct {
	Images  int     `json:"images"`
	MaxDrop float64 `json:"max_drop"`
	// MaxLayers is FallbackSearch's (0: no bound).
	MaxLayers int     `json:"max_layers"`
	FP32Top1  float64 `json:"fp32_top1"`
	// Met says whether the target holds with Chosen in FP32; when it does
	// not within MaxLayers, Chosen is the best set tried (the highest
	// Top-1, then the fewest layers).
	Met bool `json:"met"`
	// Chosen are the layers kept in FP32, most sensitive first; Top1 and
	// Drop are INT8's with them.
	Chosen []layererr.Layer `json:"chosen"`
	Top1   float64          `json:"top1"`
	Drop   float64          `json:"drop"`
	// Exclude is what an INT8 run needs to reproduce Top1: the
	// pipeline's own exclusions and the chosen nodes (as escaped names),
	// for an exclusions file (precision.Exclusions.Format).
	Exclude precision.Exclusions `json:"-"`
	// Ranked are the layers INT8 quantizes, most sensitive first (the
	// order layers are added in).
	Ranked []layererr.Layer `json:"ranked"`
	// Steps are the INT8 evaluations made, by FP32Layers.
	Steps []FallbackStep `json:"steps"`
	// INT8MACs of TotalMACs per image are in layers still running INT8;
	// TotalMACs counts every Conv, ConvTranspose, Gemm and MatMul of the
	// model (layererr.MACs), excluded or not.
	INT8MACs  int64 `json:"int8_macs"`
	TotalMACs int64 `json:"total_macs"`
}

// INT8Share is the share of the compute of INT8-capable layers that
// still runs in INT8 (0 with no such layer).
func (r *FallbackResult) INT8Share() float64 {
	if r.TotalMACs == 0 {
		return 0
	}
	return float64(r.INT8MACs) / float64(r.TotalMACs)
}

// Fallback finds a few layers to keep in FP32 so that INT8 from f.Table
// loses at most f.MaxDrop of Top-1 against FP32 on data's batches. The
// layers are ranked once by how much each alone, quantized, costs the
// model's output (Debug, sort "alone", on f.Sensitivity's batches); the
// k most sensitive are kept in FP32 for k = 0, 1, 2, 4, ... until the
// target holds, and k is then bisected between the last failure and the
// first success: about 2·log2(layers) INT8 evaluations instead of one per
// layer. This assumes that keeping more of the ranking in FP32 does not
// lose accuracy, which holds for the ranking's purpose but not exactly
// (a bisected k may be larger than the smallest that works). The
// pipeline's own exclusions (Options.Exclude) stay in every run.
func (p *Pipeline) Fallback(data *Dataset, f FallbackSearch) (*FallbackResult, error) {
	switch {
	case !(f.MaxDrop >= 0 && f.MaxDrop < 1):
		return nil, fmt.Errorf("--max-drop %g: want a Top-1 drop from 0 to 1 (0.003 or 0.3%%)", f.MaxDrop)
	case f.MaxLayers < 0:
		return nil, fmt.Errorf("--max-layers %d: want 0 (no bound) or more", f.MaxLayers)
	}
	rank, err := p.Debug(data, Debugging{Table: f.Table, Sort: layererr.SortAlone, ScoreConfig: f.Sensitivity})
	if err != nil {
		return nil, err
	}
	cfg, err := p.Prepare(data, f.ScoreConfig)
	if err != nil {
		return nil, err
	}
	cal, err := p.TableAsGiven(f.Table)
	if err != nil {
		return nil, err
	}
	r := &FallbackResult{MaxDrop: f.MaxDrop, MaxLayers: f.MaxLayers}
	for _, l := range rank.Layers {
		r.Ranked = append(r.Ranked, l.Layer)
	}
	macs, err := p.macs(data, cfg)
	if err != nil {
		return nil, err
	}
	for _, m := range macs {
		r.TotalMACs += m
	}
	fp32, err := p.Evaluate(data, Evaluation{Precision: precision.FP32, ScoreConfig: cfg})
	if err != nil {
		return nil, err
	}
	r.Images, r.FP32Top1 = fp32.Images, fp32.Top1
	fp32Correct := correct(fp32)

	base := p.opts.Exclude
	defer func() { p.opts.Exclude = base }()
	exclude := func(k int) precision.Exclusions {
		x := precision.Exclusions{Nodes: slices.Clone(base.Nodes), OpTypes: slices.Clone(base.OpTypes)}
		for _, l := range r.Ranked[:k] {
			x.Nodes = append(x.Nodes, precision.Escape(l.Node))
		}
		return x
	}
	met := map[int]bool{}
	try := func(k int) (bool, error) {
		if ok, done := met[k]; done {
			return ok, nil
		}
		p.opts.Exclude = exclude(k)
		s, err := p.Evaluate(data, Evaluation{Precision: precision.INT8, Calibration: cal, ScoreConfig: cfg,
			Label: fmt.Sprintf("INT8 with %d layer(s) in FP32", k)})
		if err != nil {
			return false, err
		}
		// In images, so that the drop is exact (0.003, not 0.0030000000000000027).
		drop := float64(fp32Correct-correct(s)) / float64(s.Images)
		met[k] = drop <= f.MaxDrop*(1+1e-9)
		r.Steps = append(r.Steps, FallbackStep{FP32Layers: k, Top1: s.Top1, Drop: drop})
		p.log.Info("fallback", "fp32_layers", k, "top1", s.Top1, "drop", drop, "max_drop", f.MaxDrop, "met", met[k])
		return met[k], nil
	}

	n := len(r.Ranked)
	if f.MaxLayers > 0 {
		n = min(n, f.MaxLayers)
	}
	failed, found := -1, -1 // the largest k known to fail, the smallest known to meet the target
	for k := 0; ; k = min(max(2*k, 1), n) {
		ok, err := try(k)
		if err != nil {
			return nil, err
		}
		if ok {
			found = k
			break
		}
		failed = k
		if k == n {
			break
		}
	}
	for found >= 0 && found-failed > 1 {
		mid := (failed + found) / 2
		ok, err := try(mid)
		if err != nil {
			return nil, err
		}
		if ok {
			found = mid
		} else {
			failed = mid
		}
	}
	slices.SortFunc(r.Steps, func(a, b FallbackStep) int { return a.FP32Layers - b.FP32Layers })
	best := r.Steps[0]
	if r.Met = found >= 0; r.Met {
		best = r.Steps[slices.IndexFunc(r.Steps, func(s FallbackStep) bool { return s.FP32Layers == found })]
	} else {
		for _, s := range r.Steps { // the fewest layers of the highest Top-1
			if s.Top1 > best.Top1 {
				best = s
			}
		}
	}
	r.Chosen, r.Top1, r.Drop = r.Ranked[:best.FP32Layers], best.Top1, best.Drop
	r.Exclude = exclude(best.FP32Layers)
	for _, l := range r.Ranked[best.FP32Layers:] {
		r.INT8MACs += macs[l.Node]
	}
	return r, nil
}

// macs is layererr.MACs per image for the shapes of data's first
// evaluation batch (a batch, not one image: the model may fix its size).
func (p *Pipeline) macs(data *Dataset, cfg session.ScoreConfig) (map[string]int64, error) {
	feed, err := session.NewFeed(data, p.graph.Inputs, cfg.Batch)
	if err != nil {
		return nil, data.errorf(err)
	}
	inputs, err := feed.Read(cfg.Start*cfg.Batch, make([]int, cfg.Batch))
	if err != nil {
		return nil, data.errorf(err)
	}
	shapes := map[string][]int{}
	for name, t := range inputs {
		shapes[name] = t.Shape
	}
	macs, err := layererr.MACs(p.graph, shapes)
	for name := range macs {
		macs[name] /= int64(cfg.Batch)
	}
	return macs, err
}

// correct is the number of images s scored right.
func correct(s *session.Score) int { return int(math.Round(s.Top1 * float64(s.Images))) }
