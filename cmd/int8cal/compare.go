package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/int8cal/int8cal/core/layererr"
	"github.com/int8cal/int8cal/core/pipeline"
	"github.com/int8cal/int8cal/core/report"
	"github.com/int8cal/int8cal/core/session"
)

const compareSynopsis = `Calibrates the model with each calibrator and evaluates each INT8 result on
the same evaluation data beside FP32 (every whole batch, or --score batches
from batch --start), printing one table: Top-1, Top-5, the change against
FP32 and the calibration time. A calibrator may carry its own options,
NAME:KEY=VALUE[:KEY=VALUE...] (over --calibrator-opt), so that one plugin
with several settings is compared: --calibrators
entropy2,legacy:quantile=0.999,legacy:quantile=0.9999. Every calibrator and
its options are checked before anything runs. Each writes its own cache
(<--cache>.<name>[-KEY=VALUE...], so reruns reuse them). --exclude-nodes and
--exclude-op-types keep the layers they name in FP32 in every INT8 run.`

// compareRow is one line of the comparison, its numbers rounded as every
// JSON report's (layererr.Number): a delta of two Top-1s carries no float
// noise.
type compareRow struct {
	Name        string          `json:"name"`
	Top1        layererr.Number `json:"top1"`
	Top5        layererr.Number `json:"top5"`
	DeltaTop1   layererr.Number `json:"delta_top1"`
	CalibrateS  layererr.Number `json:"calibration_seconds"`
	CacheReused bool            `json:"cache_reused"`
	// NonFinite counts NaN and infinite scores; a row with any is no
	// result (its images counted as wrong) and the command fails.
	NonFinite int `json:"non_finite_scores"`
}

func compareCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", compareSynopsis)
	var c commonFlags
	c.register(fs)
	c.registerExclude(fs)
	calibrators := fs.String("calibrators", "entropy2,minmax,legacy", "calibrators to compare, comma-separated, each a plugin name with its own options if any: NAME[:KEY=VALUE...]")
	format := fs.String("format", "text", "output format: text, markdown, csv, json")
	batch := fs.Int("batch", 32, "evaluation batch size")
	start := fs.Int("start", 0, "first evaluation batch scored")
	score := fs.Int("score", 0, "number of evaluation batches scored (default: all that fit)")
	var cf calibFlags
	cf.register(fs, "")
	var d dataFlags
	d.register(fs, true, true)
	var rf reportFlag
	rf.register(fs)
	if err := parse(fs, sampleArgs(args, "batch", "start", "score"), stdout, stderr); err != nil {
		return err
	}
	cals, err := pipeline.ParseCalibrators(*calibrators)
	if err != nil {
		return err
	}
	p, _, err := c.open(stderr)
	if err != nil {
		return err
	}
	defer p.Close()
	switch *format {
	case "text", "markdown", "csv", "json":
	default:
		return fmt.Errorf("--format %q unknown (text, markdown, csv, json)", *format)
	}
	cal := cf.calibration(d.calibration())
	var caches []string
	for _, spec := range cals {
		caches = append(caches, p.ComparisonCache(cal, spec))
	}
	slices.Sort(caches) // a calibrator named twice writes one table
	caches = slices.Compact(caches)
	if err := p.CheckCalibrationOutputs(cal, caches, cal.Data, d.evaluation(pipeline.Test)); err != nil {
		return err
	}
	if err := p.CheckReport(rf.path, &cal, caches, cal.Data, d.evaluation(pipeline.Test)); err != nil {
		return err
	}
	if err := p.CheckCalibrators(cal, cals); err != nil {
		return err
	}
	src, err := p.OpenData(d.evaluation(pipeline.Test))
	if err != nil {
		return err
	}
	defer src.Close()
	e := pipeline.Evaluation{ScoreConfig: session.ScoreConfig{Batch: *batch, Start: *start, Batches: *score}}
	if e.ScoreConfig, err = p.Prepare(src, e.ScoreConfig); err != nil {
		return err
	}
	fp32, err := p.Evaluate(src, e)
	if err != nil {
		return err
	}
	rows := []compareRow{{Name: "FP32", Top1: layererr.Number(fp32.Top1), Top5: layererr.Number(fp32.Top5), NonFinite: fp32.NonFinite.Values}}
	var nonFinite []string
	if !fp32.Finite() {
		nonFinite = append(nonFinite, "FP32 "+fp32.NonFiniteReport())
	}
	results, err := p.Compare(src, e, cal, cals)
	if err != nil {
		return err
	}
	for _, r := range results {
		s := r.Score
		rows = append(rows, compareRow{Name: r.Calibrator, Top1: layererr.Number(s.Top1), Top5: layererr.Number(s.Top5), DeltaTop1: layererr.Number(s.Top1 - fp32.Top1),
			CalibrateS: layererr.Number(r.Calibration.Seconds()), CacheReused: r.Reused, NonFinite: s.NonFinite.Values})
		if !s.Finite() {
			nonFinite = append(nonFinite, "INT8 "+r.Calibrator+" "+s.NonFiniteReport())
		}
	}
	if err := printComparison(stdout, *format, rows); err != nil {
		return err
	}
	if err := rf.write(messages(*format, stdout, stderr), func() (*report.Report, error) {
		return p.CompareReport("int8cal compare", cal, fp32, results)
	}); err != nil {
		return err
	}
	if len(nonFinite) > 0 {
		return fmt.Errorf("scores were not all finite numbers, so these rows are no results: %s", strings.Join(nonFinite, "; "))
	}
	return nil
}

func printComparison(w io.Writer, format string, rows []compareRow) error {
	cell := func(r compareRow) []string {
		delta, secs := "", ""
		if r.Name != "FP32" {
			delta = fmt.Sprintf("%+.2f%%", 100*r.DeltaTop1)
			secs = fmt.Sprintf("%.3f", r.CalibrateS)
			if r.CacheReused {
				secs += " (cache)"
			}
		}
		return []string{r.Name, fmt.Sprintf("%.2f%%", 100*r.Top1), fmt.Sprintf("%.2f%%", 100*r.Top5), delta, secs}
	}
	header := []string{"calibrator", "Top-1", "Top-5", "Top-1 vs FP32", "calibration s"}
	switch format {
	case "json":
		return writeJSON(w, rows)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(header)
		for _, r := range rows {
			cw.Write(cell(r))
		}
		cw.Flush()
		return cw.Error()
	case "markdown":
		fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat(" --- |", len(header)))
		for _, r := range rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(cell(r), " | "))
		}
		return nil
	}
	width := len(header[0]) + 2 // as wide as the longest spec, options included
	for _, r := range rows {
		width = max(width, len(r.Name))
	}
	fmt.Fprintf(w, "%-*s %8s %8s %14s %14s\n", width, header[0], header[1], header[2], header[3], header[4])
	for _, r := range rows {
		c := cell(r)
		fmt.Fprintf(w, "%-*s %8s %8s %14s %14s\n", width, c[0], c[1], c[2], c[3], c[4])
	}
	return nil
}
