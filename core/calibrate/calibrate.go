package calibrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/session"
)

// Calibrator is the running calibrator (a *pluginhost.Calibrator, or an
// in-process adapter).
type Calibrator interface {
	Configure(options map[string]string) error
	Calibrate(stats []calib.TensorStats) ([]calib.Range, error)
}

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
	Version   calibtable.TRTVersion
	// StatsCache, when set, keeps the collected statistics in this file
	// and reuses them when model, data and batches match (histogram and
	// min/max statistics only; raw values are never cached).
	StatsCache string
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

// Run performs the job.
func (j *Job) Run() (*Result, error) {
	side := j.Provenance
	side.Calibrator, side.CalibratorVersion, side.Algorithm = j.Info.Name, j.Info.Version, j.Info.Algorithm
	side.Options = j.Options
	side.BatchSize, side.Batches, side.FirstSample = j.Batches.Batch, j.Batches.Batches, j.Batches.First
	header := j.Version.HeaderVersion()

	if t, ok := j.reusable(header, &side); ok {
		return &Result{Table: t, Reused: true}, nil
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
	t := calibtable.New(j.Version, j.Info.Algorithm)
	for _, r := range ranges {
		t.Set(r.Name, r.Amax)
	}
	fmt.Fprintf(j.Out, "Calibration completed in %g seconds.\n", time.Since(began).Seconds())
	fmt.Fprintf(j.Out, "Writing Calibration Cache for calibrator: %s\n", t.Header())
	if err := calibtable.WriteFile(j.CachePath, t); err != nil {
		return nil, err
	}
	if err := calibtable.WriteSidecar(calibtable.SidecarPath(j.CachePath), &side); err != nil {
		return nil, err
	}
	return &Result{Table: t, Ranges: ranges, Collect: collected.Sub(began), Search: search}, nil
}

// statistics collects the statistics, or takes them from the histogram
// cache.
func (j *Job) statistics(side *calibtable.Sidecar) ([]calib.TensorStats, error) {
	cacheable := j.StatsCache != "" && j.Info.Statistics != calib.Raw
	key := keyOf(side, j.Info)
	if cacheable {
		stats, why := loadStats(j.StatsCache, key)
		if stats != nil {
			j.Log.Info("using histogram cache: the network is not run", "cache", j.StatsCache, "tensors", len(stats))
			return stats, nil
		}
		j.Log.Info("collecting statistics: "+why, "cache", j.StatsCache)
	}
	fmt.Fprintf(j.Out, "Starting Calibration with batch size %d.\n", j.Batches.Batch)
	stats, err := Collect(j.Runner, j.Source, j.Input, j.Batches, j.Info, func(batch int, took time.Duration) {
		fmt.Fprintf(j.Out, "Calibrated batch %d in %g seconds.\n", batch, took.Seconds())
	})
	if err != nil {
		return nil, err
	}
	if cacheable {
		if err := saveStats(j.StatsCache, key, stats); err != nil {
			return nil, err
		}
	}
	return stats, nil
}

// reusable reads the cache and decides whether it can be used as is,
// logging why not.
func (j *Job) reusable(header string, side *calibtable.Sidecar) (*calibtable.Table, bool) {
	t, err := calibtable.ReadFile(j.CachePath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		j.Log.Debug("no calibration cache yet; calibrating", "cache", j.CachePath)
		return nil, false
	case err != nil:
		j.Log.Warn("calibration cache unreadable; recalibrating", "cache", j.CachePath, "error", err)
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
		j.Log.Info("using calibration cache without a sidecar (made elsewhere, e.g. by TensorRT): header matches", "cache", j.CachePath)
		return t, true
	}
	if err != nil {
		j.Log.Warn("calibration sidecar unreadable; recalibrating", "sidecar", calibtable.SidecarPath(j.CachePath), "error", err)
		return nil, false
	}
	if why := had.Mismatch(side); why != "" {
		j.Log.Info("calibration cache is stale; recalibrating: "+why, "cache", j.CachePath)
		return nil, false
	}
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
