package calibrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/core/stats"
	"github.com/int8cal/int8cal/internal/atomicfile"
)

// Calibrator is the running calibrator (a *pluginhost.Calibrator, or an
// in-process adapter).
type Calibrator interface {
	Configure(options map[string]string) error
	Calibrate(stats []calib.TensorStats) ([]calib.Range, error)
}

// Use says what a job does with the table at its CachePath.
type Use int

const (
	// Reuse: the table is the job's own output, kept between runs. It is
	// used when valid (it parses, its scales are usable, it names tensors
	// of the model) and made from the same inputs (its header, and its
	// sidecar when it has one, match the run); otherwise the job logs why
	// and calibrates, replacing it.
	Reuse Use = iota
	// AsGiven: the table is the user's, to be used as it is: one that is
	// missing or invalid is an error. Nothing is calibrated or written;
	// header and sidecar are not consulted.
	AsGiven
)

// Job is one calibration as the sample does it: reuse a valid cache, or
// collect statistics, ask the calibrator and write the cache.
type Job struct {
	Runner  ObservedRunner
	Input   string
	Source  session.Source
	Batches Batches

	Calibrator Calibrator
	Info       calib.Info
	Options    map[string]string

	CachePath string
	Use       Use
	// Tensors are the model's tensor names; a table is checked against
	// them (calibtable.Table.Match), so none is reused or used as given
	// without them.
	Tensors []string
	Version calibtable.TRTVersion
	// StatsCache, when set, keeps the collected statistics in this file
	// and reuses them when model, data and batches match (histogram and
	// min/max statistics only; raw values are never cached).
	StatsCache string
	// Merged, when set, are the statistics to calibrate from, the merge
	// of a calibration's shards (stats.Merge, complete): the network is
	// not run. Provenance and Batches must be those of Merged's key.
	Merged *stats.File
	// Provenance is this run's sidecar (model hash, data set, ...); the
	// calibrator, options and batch fields are filled in by Run.
	Provenance calibtable.Sidecar

	// Out receives the sample's calibration lines; Log the reasons for
	// reusing or recalibrating.
	Out io.Writer
	Log hclog.Logger
}

// Result says what Run did.
type Result struct {
	Table  *calibtable.Table
	Reused bool
	Ranges []calib.Range // the calibrator's answers, with diagnostics (nil when reused)
	// Collect is the time spent running the network and gathering
	// statistics; Search the time in the calibrator.
	Collect, Search time.Duration
}

// Run performs the job. Before any calibration work it checks that the
// files it would write can be written. The sidecar is written before the
// table: were the table's write to fail (or the process to die in
// between), the sidecar would describe a table that is not there, which
// the table hash it records makes plain to the next run.
func (j *Job) Run() (*Result, error) {
	if j.Use == AsGiven {
		t, unknown, err := ReadTable(j.CachePath, j.Tensors)
		if err != nil {
			return nil, err
		}
		j.warnUnknown(unknown)
		j.Log.Info("using calibration table as given", "table", j.CachePath, "header", t.Header())
		return &Result{Table: t, Reused: true}, nil
	}
	side := j.Provenance
	side.Calibrator, side.CalibratorVersion, side.Algorithm = j.Info.Name, j.Info.Version, j.Info.Algorithm
	side.Options = j.Options
	side.BatchSize, side.Batches, side.FirstSample = j.Batches.Batch, j.Batches.Batches, j.Batches.First
	header := j.Version.HeaderVersion()

	if t, ok := j.reusable(header, &side); ok {
		return &Result{Table: t, Reused: true}, nil
	}
	if err := checkWritable(j.CachePath, j.StatsCache); err != nil {
		return nil, err
	}
	if err := j.Calibrator.Configure(j.Options); err != nil {
		return nil, err
	}
	began := time.Now()
	stats, err := j.statistics(&side)
	if err != nil {
		return nil, err
	}
	collected := time.Now()
	ranges, err := j.Calibrator.Calibrate(stats)
	if err != nil {
		return nil, err
	}
	search := time.Since(collected)
	fmt.Fprintf(j.Out, "Post Processing Calibration data in %g seconds.\n", search.Seconds())
	t, err := j.table(ranges)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(j.Out, "Calibration completed in %g seconds.\n", time.Since(began).Seconds())
	fmt.Fprintf(j.Out, "Writing Calibration Cache for calibrator: %s\n", t.Header())
	side.Format = calibtable.SidecarFormat
	if side.TableSHA256, err = t.SHA256(); err != nil {
		return nil, err
	}
	if err := calibtable.WriteSidecar(calibtable.SidecarPath(j.CachePath), &side); err != nil {
		return nil, err
	}
	if err := calibtable.WriteFile(j.CachePath, t); err != nil {
		return nil, err
	}
	return &Result{Table: t, Ranges: ranges, Collect: collected.Sub(began), Search: search}, nil
}

// table turns the calibrator's ranges into the table. A range whose scale
// no reader could use (amax 0: the tensor was all zeros on the calibration
// data) is left out and logged: the layers reading that tensor run in
// FP32, as for any tensor without a range.
func (j *Job) table(ranges []calib.Range) (*calibtable.Table, error) {
	t := calibtable.New(j.Version, j.Info.Algorithm)
	var left []string
	for _, r := range ranges {
		scale := calibtable.ScaleFromAmax(r.Amax)
		if err := calibtable.CheckScale(scale); err != nil {
			left = append(left, fmt.Sprintf("%s (amax %v: %v)", r.Name, r.Amax, err))
			continue
		}
		t.SetScale(r.Name, scale)
	}
	if len(left) > 0 {
		j.Log.Warn("tensors without a usable INT8 range are left out of the table; layers reading them run in FP32", "tensors", left)
	}
	if len(t.Entries) == 0 {
		return nil, fmt.Errorf("calibrator %s gave no usable range for any of the %d tensors (%s); nothing to write to %s", j.Info.Name, len(ranges), strings.Join(left[:min(len(left), 3)], "; "), j.CachePath)
	}
	return t, nil
}

// checkWritable reports whether the files a calibration writes, the table
// at cache, its sidecar and the histogram cache (when not ""), can be
// written, so that the job fails before the work whose result it could
// not save.
func checkWritable(cache, statsCache string) error {
	for _, path := range []string{cache, calibtable.SidecarPath(cache), statsCache} {
		if path == "" {
			continue
		}
		if err := atomicfile.CheckWritable(path); err != nil {
			return err
		}
	}
	return nil
}

// ReadTable reads a table to be used as it is (AsGiven; a table given to
// export): it must parse, hold only usable scales and name at least one
// tensor of the model (tensors). The names the model does not have are
// returned. Errors name the file.
func ReadTable(path string, tensors []string) (t *calibtable.Table, unknown []string, err error) {
	t, _, unknown, err = readTable(path, tensors)
	return t, unknown, err
}

// readTable is ReadTable that also returns the SHA-256 of the file.
func readTable(path string, tensors []string) (t *calibtable.Table, sum string, unknown []string, err error) {
	t, sum, err = calibtable.ReadFileSHA256(path)
	if err != nil {
		return nil, "", nil, err
	}
	if unknown, err = t.Match(tensors); err != nil {
		return nil, "", nil, fmt.Errorf("calibration table %s: %w", path, err)
	}
	return t, sum, unknown, nil
}

// warnUnknown logs the table entries the model has no tensor for.
func (j *Job) warnUnknown(unknown []string) {
	if len(unknown) > 0 {
		j.Log.Warn("the calibration table names tensors the model does not have; they are ignored", "table", j.CachePath, "tensors", unknown)
	}
}

// statistics are the statistics to calibrate from: the job's Merged
// statistics, those of the histogram cache, or collected now.
func (j *Job) statistics(side *calibtable.Sidecar) ([]calib.TensorStats, error) {
	if j.Merged == nil && (j.StatsCache == "" || j.Info.Statistics == calib.Raw) {
		j.startLine()
		return Collect(j.Runner, j.Source, j.Input, j.Batches, j.Info, j.progress(0))
	}
	key, err := keyOf(side, j.Info)
	if err != nil {
		return nil, err
	}
	if m := j.Merged; m != nil {
		if !m.SameCalibration(key) || !m.Complete() {
			return nil, fmt.Errorf("%s: not the statistics of every batch of this calibration (its model, data and batches)", m.Name())
		}
		j.Log.Info("calibrating from merged statistics: the network is not run", "statistics", m.Name(), "tensors", len(m.Tensors))
		return m.Calib(j.Info)
	}
	f, why := loadStats(j.StatsCache, key, j.Info)
	if f != nil {
		j.Log.Info("using histogram cache: the network is not run", "cache", j.StatsCache, "tensors", len(f.Tensors))
		return f.Calib(j.Info)
	}
	j.Log.Info("collecting statistics: "+why, "cache", j.StatsCache)
	j.startLine()
	tensors, err := CollectTensors(j.Runner, j.Source, j.Input, j.Batches, j.Info, j.progress(0))
	if err != nil {
		return nil, err
	}
	f = &stats.File{Key: key, From: 0, To: j.Batches.Batches, Tensors: tensors}
	if err := stats.WriteFile(j.StatsCache, f); err != nil {
		return nil, err
	}
	return f.Calib(j.Info)
}

// startLine is the sample's line before calibrating.
func (j *Job) startLine() {
	fmt.Fprintf(j.Out, "Starting Calibration with batch size %d.\n", j.Batches.Batch)
}

// progress prints the sample's line per batch, numbering batches from
// first.
func (j *Job) progress(first int) Progress {
	return func(batch int, took time.Duration) {
		fmt.Fprintf(j.Out, "Calibrated batch %d in %g seconds.\n", first+batch, took.Seconds())
	}
}

// reusable reads the cache and decides whether it can be used as is,
// logging why not.
func (j *Job) reusable(header string, side *calibtable.Sidecar) (*calibtable.Table, bool) {
	t, sum, unknown, err := readTable(j.CachePath, j.Tensors)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		j.Log.Debug("no calibration cache yet; calibrating", "cache", j.CachePath)
		return nil, false
	case err != nil:
		j.Log.Warn("calibration cache cannot be used; recalibrating", "cache", j.CachePath, "error", err)
		return nil, false
	case t.Version != header:
		j.Log.Info("calibration cache is for another TensorRT version; recalibrating", "cache", j.CachePath, "cache_version", t.Version, "want", header)
		return nil, false
	case t.Algorithm != j.Info.Algorithm:
		j.Log.Info("calibration cache was made by another algorithm; recalibrating", "cache", j.CachePath, "cache_algorithm", t.Algorithm, "want", j.Info.Algorithm)
		return nil, false
	}
	had, err := calibtable.ReadSidecar(calibtable.SidecarPath(j.CachePath))
	if errors.Is(err, fs.ErrNotExist) {
		j.warnUnknown(unknown)
		j.Log.Info("using calibration cache without a sidecar (made elsewhere, e.g. by TensorRT): header matches", "cache", j.CachePath)
		return t, true
	}
	if err != nil {
		j.Log.Warn("calibration sidecar unreadable; recalibrating", "sidecar", calibtable.SidecarPath(j.CachePath), "error", err)
		return nil, false
	}
	want := *side
	want.TableSHA256 = sum
	if why := had.Mismatch(&want); why != "" {
		j.Log.Info("calibration cache is stale; recalibrating: "+why, "cache", j.CachePath)
		return nil, false
	}
	j.warnUnknown(unknown)
	j.Log.Info("using calibration cache", "cache", j.CachePath, "header", t.Header())
	return t, true
}

// InProcess runs a calib.Calibrator inside the host process. Users reach
// calibrators through plugins; this serves benchmarks (plugin overhead is
// measured against it) and tests.
type InProcess struct{ C calib.Calibrator }

// Configure passes the options through.
func (p InProcess) Configure(options map[string]string) error { return p.C.Configure(options) }

// Calibrate calls the calibrator directly.
func (p InProcess) Calibrate(stats []calib.TensorStats) ([]calib.Range, error) {
	return p.C.Calibrate(context.Background(), stats)
}

// Shard is part Index (from 0) of Count parts of a calibration's batches:
// the batches split in order, as evenly as they go (10 batches in 3
// shards: 3, 3 and 4).
type Shard struct{ Index, Count int }

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Batches returns the shard's batches [from, to) of total.
func (s Shard) Batches(total int) (from, to int, err error) {
	switch {
	case s.Count < 1 || s.Index < 0 || s.Index >= s.Count:
		return 0, 0, fmt.Errorf("shard %s: the index must be from 0 to the count less one", s)
	case s.Count > total:
		return 0, 0, fmt.Errorf("shard %s: %d shards of %d calibration batches would leave shards without a batch; use at most %d shards, or more batches", s, s.Count, total, total)
	}
	return s.Index * total / s.Count, (s.Index + 1) * total / s.Count, nil
}

// RunShard collects the statistics of shard s of the job's batches and
// writes them to path as a statistics file (stats.File), which int8cal
// merge turns, with the other shards', into the table the whole job
// would write. Nothing is calibrated: the job's calibrator only says
// which statistics to collect. Run again, a shard writes the same bytes,
// atomically.
func (j *Job) RunShard(s Shard, path string) (*stats.File, error) {
	side := j.Provenance
	side.BatchSize, side.Batches, side.FirstSample = j.Batches.Batch, j.Batches.Batches, j.Batches.First
	key, err := keyOf(&side, j.Info)
	if err != nil {
		return nil, fmt.Errorf("calibrator %s: %w: it cannot be sharded", j.Info.Name, err)
	}
	from, to, err := s.Batches(j.Batches.Batches)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.CheckWritable(path); err != nil {
		return nil, err
	}
	b := Batches{Batch: j.Batches.Batch, Batches: to - from, First: j.Batches.First + from*j.Batches.Batch}
	fmt.Fprintf(j.Out, "Collecting shard %s: batches %d to %d of %d, batch size %d.\n", s, from, to-1, j.Batches.Batches, b.Batch)
	tensors, err := CollectTensors(j.Runner, j.Source, j.Input, b, j.Info, j.progress(from))
	if err != nil {
		return nil, err
	}
	f := &stats.File{Key: key, From: from, To: to, Tensors: tensors}
	if err := stats.WriteFile(path, f); err != nil {
		return nil, err
	}
	return f, nil
}
