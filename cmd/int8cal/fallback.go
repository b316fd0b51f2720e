package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/int8cal/int8cal/core/layererr"
	"github.com/int8cal/int8cal/core/pipeline"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/internal/atomicfile"
)

const fallbackSynopsis = `Finds a few layers to keep in FP32 so that INT8 from a calibration table
loses at most --max-drop of Top-1 against FP32 on the evaluation data. The
layers are ranked once by how much each alone, quantized, costs the model's
output (int8cal debug's "alone" order, on --sensitivity-batches batches);
then the most sensitive 0, 1, 2, 4, ... layers are kept in FP32 until the
target holds, and the number is bisected between the last failure and the
first success (about 2·log2(layers) INT8 evaluations). Prints the layers
chosen, FP32 and INT8 Top-1, the drop and the share of the INT8-capable
layers' multiply-accumulates still in INT8, and writes them to --out as an
exclusions file that run, eval, compare, export and debug read with
--exclude-file. Layers kept by --exclude-nodes, --exclude-op-types or
--exclude-file stay in FP32 throughout and are written too. The table is
read as given, never written. A target not met within --max-layers is an
error, after the best set tried is printed; nothing is written then.`

func fallbackCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fallback", fallbackSynopsis)
	var c commonFlags
	c.register(fs)
	c.registerExclude(fs)
	var table string
	fs.StringVar(&table, "table", "", "calibration table, TensorRT format, used as given (required)")
	maxDrop := fs.String("max-drop", "", "largest Top-1 drop from FP32 allowed: a fraction (0.003) or a percentage (0.3%) (required)")
	maxLayers := fs.Int("max-layers", 0, "most layers kept in FP32 (0: no bound)")
	out := fs.String("out", "", "exclusions file written with the layers chosen (default: none)")
	batch := fs.Int("batch", 32, "images per batch")
	start := fs.Int("start", 0, "first batch evaluated")
	score := fs.Int("score", 0, "number of batches evaluated (default: all that fit)")
	sensitivity := fs.Int("sensitivity-batches", 4, "batches (from --start) the layers are ranked on")
	format := fs.String("format", "text", formatUsage)
	split := fs.String("split", pipeline.Test, "MNIST split when no data set plugin is named: train or t10k")
	var d dataFlags
	d.register(fs, false, true)
	if err := parse(fs, sampleArgs(args, "batch", "start", "score"), stdout, stderr); err != nil {
		return err
	}
	drop, err := parseDrop(*maxDrop)
	switch {
	case table == "":
		return fmt.Errorf("--table is required: the calibration table to start from (int8cal calibrate writes one)")
	case err != nil:
		return err
	case *sensitivity <= 0:
		return fmt.Errorf("--sensitivity-batches %d: want 1 or more", *sensitivity)
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	p, _, err := c.open(stderr)
	if err != nil {
		return err
	}
	defer p.Close()
	if *out != "" {
		if err := pipeline.CheckOutputs([]pipeline.NamedPath{{What: "--model", Path: c.model}, {What: "--table", Path: table}}, []pipeline.NamedPath{{What: "--out", Path: *out}}); err != nil {
			return err
		}
	}
	src, err := p.OpenData(d.evaluation(*split))
	if err != nil {
		return err
	}
	defer src.Close()
	r, err := p.Fallback(src, pipeline.FallbackSearch{Table: table, MaxDrop: drop, MaxLayers: *maxLayers,
		Sensitivity: session.ScoreConfig{Batch: *batch, Start: *start, Batches: *sensitivity},
		ScoreConfig: session.ScoreConfig{Batch: *batch, Start: *start, Batches: *score}})
	if err != nil {
		return err
	}
	written := ""
	if *out != "" && r.Met {
		header := fmt.Sprintf("int8cal fallback: model %s, table %s, data %s, --max-drop %s\n"+
			"FP32 Top-1 %s, INT8 %s (drop %s) with these layers in FP32; %s of the INT8-capable MACs in INT8",
			c.model, table, src.Describe(), percent(drop), percent(r.FP32Top1), percent(r.Top1), percent(r.Drop), percent(r.INT8Share()))
		if err := atomicfile.WriteFile(*out, r.Exclude.Format(header)); err != nil {
			return err
		}
		written = *out
	}
	if *format == "json" {
		var m *metadata
		if m, err = newMetadata(p, &c, d.evaluation(*split), src, table); err != nil {
			return err
		}
		err = writeJSON(stdout, newFallbackJSON(m, src.Describe(), written, r))
	} else {
		err = writeFallback(stdout, c.model, src.Describe(), table, written, r)
	}
	if err != nil {
		return err
	}
	if !r.Met {
		bound := len(r.Ranked)
		if *maxLayers > 0 {
			bound = min(bound, *maxLayers)
		}
		return fmt.Errorf("cannot meet --max-drop %s with at most %d layer(s) in FP32: the best tried, %d layer(s), drops Top-1 by %s (raise --max-layers or --max-drop, or recalibrate)",
			percent(drop), bound, len(r.Chosen), percent(r.Drop))
	}
	return nil
}

// fallbackJSON is fallback's --format json: the run's inputs, then r's
// fields, its fractions rounded as every JSON report's (layererr.Number)
// by the fields that shadow r's.
type fallbackJSON struct {
	Metadata  *metadata          `json:"metadata"`
	Model     string             `json:"model"`
	Data      string             `json:"data"`
	Table     string             `json:"table"`
	Out       string             `json:"out,omitempty"`
	INT8Share float64            `json:"int8_share"`
	MaxDrop   layererr.Number    `json:"max_drop"`
	FP32Top1  layererr.Number    `json:"fp32_top1"`
	Top1      layererr.Number    `json:"top1"`
	Drop      layererr.Number    `json:"drop"`
	Steps     []fallbackStepJSON `json:"steps"`
	*pipeline.FallbackResult
}

type fallbackStepJSON struct {
	FP32Layers int             `json:"fp32_layers"`
	Top1       layererr.Number `json:"top1"`
	Drop       layererr.Number `json:"drop"`
}

func newFallbackJSON(m *metadata, data, written string, r *pipeline.FallbackResult) fallbackJSON {
	f := fallbackJSON{Metadata: m, Model: m.Model, Data: data, Table: m.Table, Out: written,
		INT8Share: math.Round(r.INT8Share()*1e4) / 1e4, // a share to 0.01%
		MaxDrop:   layererr.Number(r.MaxDrop), FP32Top1: layererr.Number(r.FP32Top1), Top1: layererr.Number(r.Top1), Drop: layererr.Number(r.Drop),
		Steps: []fallbackStepJSON{}, FallbackResult: r}
	for _, s := range r.Steps {
		f.Steps = append(f.Steps, fallbackStepJSON{s.FP32Layers, layererr.Number(s.Top1), layererr.Number(s.Drop)})
	}
	return f
}

// writeFallback prints r as text.
func writeFallback(w io.Writer, model, data, table, written string, r *pipeline.FallbackResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "model %s, data %s, table %s: %d images\n", model, data, table, r.Images)
	verdict := "met"
	if !r.Met {
		verdict = "NOT met (best tried)"
	}
	fmt.Fprintf(&b, "FP32 Top-1 %s; INT8 Top-1 %s with %d of %d layers in FP32: drop %s, target %s %s\n",
		percent(r.FP32Top1), percent(r.Top1), len(r.Chosen), len(r.Ranked), percent(r.Drop), percent(r.MaxDrop), verdict)
	if len(r.Chosen) > 0 {
		fmt.Fprintln(&b, "kept in FP32, most sensitive first:")
		for _, l := range r.Chosen {
			fmt.Fprintf(&b, "  %-40s %s\n", l.Node, l.Op)
		}
	}
	fmt.Fprintf(&b, "INT8 compute: %s of the INT8-capable layers' MACs (%d of %d per image)\n", percent(r.INT8Share()), r.INT8MACs, r.TotalMACs)
	fmt.Fprint(&b, "evaluations (layers in FP32: Top-1):")
	for _, s := range r.Steps {
		fmt.Fprintf(&b, " %d: %s", s.FP32Layers, percent(s.Top1))
	}
	fmt.Fprintln(&b)
	if written != "" {
		fmt.Fprintf(&b, "wrote %s (int8cal run, eval, export ... --exclude-file %s)\n", written, written)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// parseDrop reads --max-drop: a fraction ("0.003") or a percentage
// ("0.3%").
func parseDrop(s string) (float64, error) {
	if s == "" {
		return 0, fmt.Errorf("--max-drop is required: the Top-1 drop allowed, e.g. 0.3%% or 0.003")
	}
	num, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if pct {
		v /= 100
	}
	if err != nil || !(v >= 0 && v < 1) {
		return 0, fmt.Errorf("--max-drop %q: want a Top-1 drop as a fraction from 0 to 1 (0.003) or a percentage (0.3%%)", s)
	}
	return v, nil
}

// percent formats a fraction as a percentage of two decimals.
func percent(f float64) string { return strconv.FormatFloat(100*f, 'f', 2, 64) + "%" }
