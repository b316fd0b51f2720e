package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/int8cal/int8cal/core/pipeline"
	"github.com/int8cal/int8cal/core/report"
)

// calibFlags are the options of a calibration, shared by calibrate and run.
type calibFlags struct {
	calibrator string
	options    keyValues
	batch      int
	batches    int
	first      int
	cache      string
	table      string // --table (registerTable)
	trtVersion string
	jsonOut    string
	histCache  string
	shard      string // --shard (registerShard)
	statsOut   string // --stats-out (registerShard, registerMerge)
}

func (c *calibFlags) register(fs *flag.FlagSet, defaultCalibrator string) {
	c.registerCalibrator(fs, defaultCalibrator)
	fs.IntVar(&c.batch, "cal-batch", 50, "calibration batch size")
	fs.IntVar(&c.batches, "cal-batches", 10, "number of calibration batches")
	fs.IntVar(&c.first, "cal-first", 0, "first calibration sample")
	fs.StringVar(&c.histCache, "histogram-cache", "", "keep the collected statistics in this file and reuse them when model, data and batches match (explore calibrator options without running the network); "+
		"int8cal merge --stats-out writes such a file from shards")
}

// registerCalibrator adds the flags that say how a table is made from
// statistics and where it goes.
func (c *calibFlags) registerCalibrator(fs *flag.FlagSet, defaultCalibrator string) {
	fs.StringVar(&c.calibrator, "calibrator", defaultCalibrator, "calibrator plugin name (int8cal plugins lists them)")
	fs.Var(&c.options, "calibrator-opt", "calibrator option KEY=VALUE (repeatable)")
	fs.StringVar(&c.cache, "cache", "", "calibration cache file, read and written: a valid one made from the same inputs is reused, "+
		"otherwise it is recalibrated and replaced (default: CalibrationTable<model name> in the current directory)")
	fs.StringVar(&c.trtVersion, "trt-version", pipeline.DefaultTRTVersion, "TensorRT version written in the cache header (e.g. 8.6.1, 10.3)")
	fs.StringVar(&c.jsonOut, "json", "", "also write amax and scale per tensor as JSON to this file")
}

// registerShard adds calibrate's --shard and --stats-out.
func (c *calibFlags) registerShard(fs *flag.FlagSet) {
	fs.StringVar(&c.shard, "shard", "", shardUsage)
	fs.StringVar(&c.statsOut, "stats-out", "", "with --shard: the statistics file the shard writes (default: <cache>.shard-I-of-N.stats)")
}

// registerMerge adds merge's flags: a table from statistics, and
// --stats-out.
func (c *calibFlags) registerMerge(fs *flag.FlagSet) {
	c.registerCalibrator(fs, "entropy2")
	fs.StringVar(&c.statsOut, "stats-out", "", "also write the merged statistics to this file: of some shards, to merge again later, or of all, a --histogram-cache for calibrate")
}

// tableUsage is --table's help, wherever a table is used as given.
const tableUsage = "calibration table, TensorRT format, used as given for INT8: read, checked against the model " +
	"(usable scales, at least one name of its tensors) and never written"

// registerTable adds --table to a command that can also calibrate (run).
func (c *calibFlags) registerTable(fs *flag.FlagSet) {
	fs.StringVar(&c.table, "table", "", tableUsage+"; instead of calibrating, so not with --cache, which calibrates and rewrites its table when it is invalid")
}

// checkTable refuses --table with --cache: one is a table used as given,
// the other a table calibration may replace, and either alone is clear.
// The options of a calibration are refused with --table too, rather than
// ignored.
func (c *calibFlags) checkTable() error {
	switch {
	case c.table == "":
	case c.cache != "":
		return fmt.Errorf("--table %s and --cache %s: give one; --table uses a table as given and never writes it, --cache calibrates and rewrites its table when it is invalid", c.table, c.cache)
	case len(c.options) > 0 || c.jsonOut != "" || c.histCache != "":
		return fmt.Errorf("--table %s: nothing is calibrated, so --calibrator-opt, --json and --histogram-cache have nothing to do; leave them out, or calibrate with --cache", c.table)
	}
	return nil
}

// keyValues is a repeatable KEY=VALUE flag.
type keyValues map[string]string

func (kv *keyValues) String() string {
	var parts []string
	for k, v := range *kv {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (kv *keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", s)
	}
	if *kv == nil {
		*kv = keyValues{}
	}
	(*kv)[k] = v
	return nil
}

const calibrateSynopsis = `Calibrates a model for INT8 as TensorRT's sampleINT8 does: runs it in FP32
over the calibration batches (by default the first 500 MNIST training images
in 10 batches of 50), gathers activation statistics of every tensor, asks the
calibrator plugin for each tensor's dynamic range and writes a TensorRT
calibration cache. A cache whose header and sidecar match the run is reused.`

func calibrateCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("calibrate", calibrateSynopsis)
	var c commonFlags
	c.register(fs)
	var cf calibFlags
	cf.register(fs, "entropy2")
	cf.registerShard(fs)
	var d dataFlags
	d.register(fs, true, false)
	var rf reportFlag
	rf.register(fs)
	format := fs.String("format", "text", formatUsage+" (the result as JSON on stdout, the sample's lines on stderr)")
	if err := parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	switch {
	case cf.shard == "" && cf.statsOut != "":
		return errors.New("--stats-out is where a shard writes its statistics: give --shard too (to keep the statistics of a whole calibration, use --histogram-cache)")
	case cf.shard != "" && rf.path != "":
		return errors.New("--shard writes statistics, not a table: --report belongs to the calibration of the whole data (int8cal calibrate --histogram-cache FILE --report, with the file int8cal merge --stats-out wrote)")
	}
	p, _, err := c.open(stderr)
	if err != nil {
		return err
	}
	defer p.Close()
	cal := cf.calibration(d.calibration())
	if cf.shard != "" {
		return calibrateShard(p, &cf, cal, *format, stdout, stderr)
	}
	if err := p.CheckCalibrationOutputs(cal, []string{p.CachePath(cal)}, cal.Data); err != nil {
		return err
	}
	if err := p.CheckReport(rf.path, &cal, []string{p.CachePath(cal)}, cal.Data); err != nil {
		return err
	}
	msgs := messages(*format, stdout, stderr)
	res, err := p.WriteTable(cal, msgs)
	if err != nil {
		return err
	}
	if res.ByTensorRT() != "" {
		fmt.Fprintf(msgs, "wrote %s (TensorRT's %s)\n", res.Cache, res.ByTensorRT())
	}
	if err := rf.write(msgs, func() (*report.Report, error) {
		return p.CalibrationReport("int8cal calibrate", cal, []pipeline.Reported{{Name: cal.Calibrator, Calibrated: res}})
	}); err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(stdout, calibrateResultJSON(cal, res))
	}
	return nil
}

// calibrateJSON is calibrate's --format json.
type calibrateJSON struct {
	Table          string  `json:"table"`
	Header         string  `json:"header,omitempty"`
	Calibrator     string  `json:"calibrator"`
	Reused         bool    `json:"reused"`
	ByTensorRT     string  `json:"by_tensorrt,omitempty"`
	Tensors        int     `json:"tensors"`
	CollectSeconds float64 `json:"collect_seconds"`
	SearchSeconds  float64 `json:"search_seconds"`
}

func calibrateResultJSON(cal pipeline.Calibration, res *pipeline.Calibrated) calibrateJSON {
	out := calibrateJSON{Table: res.Cache, Calibrator: cal.Calibrator, Reused: res.Reused(), ByTensorRT: res.ByTensorRT()}
	if r := res.Result; r != nil {
		out.Header, out.Tensors = r.Table.Header(), len(r.Table.Entries)
		out.CollectSeconds, out.SearchSeconds = r.Collect.Seconds(), r.Search.Seconds()
	}
	return out
}

// calibration is the pipeline's calibration of the flags, on data.
func (c *calibFlags) calibration(data pipeline.Data) pipeline.Calibration {
	return pipeline.Calibration{Calibrator: c.calibrator, Options: c.options, Batch: c.batch, Batches: c.batches, First: c.first,
		Cache: c.cache, TRTVersion: c.trtVersion, JSON: c.jsonOut, HistogramCache: c.histCache, Data: data}
}
