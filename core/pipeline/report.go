package pipeline

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/core/calibrate"
	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/layererr"
	"github.com/int8cal/int8cal/core/report"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/internal/atomicfile"
)

// Reported is one calibration a report shows: its name (a calibrator's
// spec, or the table's file for debug) and its table.
type Reported struct {
	Name       string
	Calibrated *Calibrated
}

// reportStatistics is what a report's histograms are: |x| in the bins of
// TensorRT's entropy calibration, whatever statistics the calibrators
// asked for, so that every calibrator's threshold is drawn on one
// histogram and a min-max calibrator's too.
var reportStatistics = calib.Info{Statistics: calib.AbsHistogram, Bins: histogram.DefaultBins}

// CalibrationReport is the report of calibrate (one run) and compare
// (one run per calibrator): each tensor's histogram of |x| over c's
// calibration batches, and each run's threshold, with the calibrator's
// curve when it calibrated in this command (a reused table gives its
// amax only). The histograms are collected for the report by one more
// FP32 pass over those batches: the calibrations' own statistics are of
// the kind and bins each calibrator asked for, none at all when a table
// was reused.
func (p *Pipeline) CalibrationReport(title string, c Calibration, runs []Reported) (*report.Report, error) {
	src, err := p.OpenData(c.Data)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return p.newReport(title, src, calibrate.Batches{Batch: c.Batch, Batches: c.Batches, First: c.First}, runs)
}

// CompareReport is CalibrationReport for Compare's results, with its
// table: FP32's score (fp32) and each calibrator's.
func (p *Pipeline) CompareReport(title string, c Calibration, fp32 *session.Score, results []Comparison) (*report.Report, error) {
	var runs []Reported
	for _, r := range results {
		runs = append(runs, Reported{Name: r.Calibrator, Calibrated: r.Calibrated})
	}
	rep, err := p.CalibrationReport(title, c, runs)
	if err != nil {
		return nil, err
	}
	row := func(name string, s *session.Score) report.Row {
		return report.Row{Calibrator: name, Top1: layererr.Number(s.Top1), Top5: layererr.Number(s.Top5), MsPerImage: layererr.Number(s.MsPerImage())}
	}
	rep.Compare = []report.Row{row("FP32", fp32)}
	for _, r := range results {
		x := row(r.Calibrator, r.Score)
		x.DeltaTop1, x.DeltaTop5 = layererr.Number(r.Score.Top1-fp32.Top1), layererr.Number(r.Score.Top5-fp32.Top5)
		x.CalibrationSeconds, x.Reused = layererr.Number(r.Calibration.Seconds()), r.Reused
		rep.Compare = append(rep.Compare, x)
	}
	return rep, nil
}

// DebugReport is the report of Debug: the per-layer errors (layers, all
// of them, before any Truncate), the table's thresholds and each tensor's
// histogram over the batches Debug compared on.
func (p *Pipeline) DebugReport(title string, data *Dataset, d Debugging, layers *layererr.Report) (*report.Report, error) {
	t, _, err := calibrate.ReadTable(d.Table, graphTensors(p.graph))
	if err != nil {
		return nil, err
	}
	cfg := d.ScoreConfig
	if cfg.Batches == 0 && cfg.Batch > 0 {
		cfg.Batches = data.Len()/cfg.Batch - cfg.Start
	}
	table := &Calibrated{Result: &calibrate.Result{Table: t, Reused: true}, Cache: d.Table}
	rep, err := p.newReport(title, data, calibrate.Batches{Batch: cfg.Batch, Batches: cfg.Batches, First: cfg.Start * cfg.Batch},
		[]Reported{{Name: filepath.Base(d.Table), Calibrated: table}})
	if err != nil {
		return nil, err
	}
	rep.Layers = layers
	return rep, nil
}

// newReport collects the histograms on src's batches b and puts each
// run's thresholds on them.
func (p *Pipeline) newReport(title string, src *Dataset, b calibrate.Batches, runs []Reported) (*report.Report, error) {
	if err := p.load(b.Batch, src); err != nil {
		return nil, err
	}
	hash, err := p.ModelSHA256()
	if err != nil {
		return nil, err
	}
	r, data, done, err := p.observing(src, b.Batch)
	if err != nil {
		return nil, err
	}
	defer done()
	p.log.Info("collecting histograms for the report", "batches", b.Batches, "batch", b.Batch)
	stats, err := calibrate.Collect(r, data, p.graph.Inputs[0].Name, b, reportStatistics, nil)
	if err != nil {
		return nil, err
	}
	rep := &report.Report{Title: title, Model: p.opts.Model,
		Metadata: []report.Field{{Name: "model SHA-256", Value: hash}, {Name: src.role + " data", Value: src.Describe()}, {Name: "backend", Value: p.opts.Backend.Name}},
		Statistics: fmt.Sprintf("Histograms of |x| in %d bins (shown in at most %d), collected for this report over %d batches of %d from sample %d of the %s data; clipped: the share of |x| above a threshold.",
			reportStatistics.Bins, report.MaxBins, b.Batches, b.Batch, b.First, src.role)}
	ranges := make([]map[string]calib.Range, len(runs))
	for i, run := range runs {
		rep.Calibrators = append(rep.Calibrators, run.Name)
		var why string
		if ranges[i], why, err = runRanges(run.Calibrated, graphTensors(p.graph)); err != nil {
			return nil, err
		}
		if why != "" {
			rep.Metadata = append(rep.Metadata, report.Field{Name: run.Name, Value: why})
		}
	}
	for _, s := range stats {
		t, err := report.NewTensor(s)
		if err != nil {
			return nil, err
		}
		for i, run := range runs {
			if rg, ok := ranges[i][s.Name]; ok {
				t.Thresholds = append(t.Thresholds, report.NewThreshold(run.Name, rg, s))
			}
		}
		rep.Tensors = append(rep.Tensors, t)
	}
	return rep, nil
}

// runRanges are a calibration's ranges by tensor: the calibrator's
// answers, curves included, when it calibrated in this command;
// otherwise the table's amax, and why there is no curve. When TensorRT
// calibrated, its table is read from the file it wrote.
func runRanges(c *Calibrated, tensors []string) (map[string]calib.Range, string, error) {
	out := map[string]calib.Range{}
	res := c.Result
	if res != nil && len(res.Ranges) > 0 {
		for _, r := range res.Ranges {
			out[r.Name] = r
		}
		return out, "", nil
	}
	why := fmt.Sprintf("table %s reused, so no curve: remove it to see the calibrator's", c.Cache)
	if res == nil {
		t, _, err := calibrate.ReadTable(c.Cache, tensors)
		if err != nil {
			return nil, "", err
		}
		res, why = &calibrate.Result{Table: t}, fmt.Sprintf("TensorRT's %s calibrated (table %s): thresholds only", c.ByTensorRT(), c.Cache)
	}
	for _, e := range res.Table.Entries {
		out[e.Name] = calib.Range{Name: e.Name, Amax: e.Amax()}
	}
	return out, why, nil
}

// CheckReport refuses, before any work, a --report file that would
// overwrite the model, the data's files or another file of the command
// (the tables and their sidecars, c's --json and histogram cache; c is
// nil for debug), or that cannot be written. An empty path is no report.
func (p *Pipeline) CheckReport(path string, c *Calibration, tables []string, data ...Data) error {
	if path == "" {
		return nil
	}
	inputs := []NamedPath{{"the model", p.opts.Model}}
	for _, d := range data {
		inputs = append(inputs, p.files(d)...)
	}
	for _, t := range tables {
		inputs = append(inputs, NamedPath{"a calibration table", t}, NamedPath{"a table's sidecar", calibtable.SidecarPath(t)})
	}
	if c != nil && c.JSON != "" {
		inputs = append(inputs, NamedPath{"--json", c.JSON})
	}
	if c != nil && c.HistogramCache != "" {
		inputs = append(inputs, NamedPath{"--histogram-cache", c.HistogramCache})
	}
	return CheckOutputs(inputs, []NamedPath{{"--report", path}})
}

// WriteReport writes r to path as one HTML page, atomically.
func WriteReport(path string, r *report.Report) error {
	var b bytes.Buffer
	if err := report.Write(&b, r); err != nil {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, b.Bytes()); err != nil {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	return nil
}
