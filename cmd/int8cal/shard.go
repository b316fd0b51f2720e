package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/int8cal/int8cal/core/calibrate"
	"github.com/int8cal/int8cal/core/pipeline"
	"github.com/int8cal/int8cal/core/stats"
)

// shardUsage is calibrate's --shard.
const shardUsage = "run one shard of the calibration and write its statistics (--stats-out) instead of a table; int8cal merge makes the table from every shard's. " +
	"I/N: shard I (from 0) of N; env: a Slurm job array's task (SLURM_ARRAY_TASK_ID less SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT); " +
	"env/N: shard $SLURM_ARRAY_TASK_ID (less SLURM_ARRAY_TASK_MIN) or a Kubernetes Indexed Job's $JOB_COMPLETION_INDEX, of N"

// parseShard reads --shard's value, taking the index, and for "env" the
// count, from the scheduler's environment (getenv).
func parseShard(spec string, getenv func(string) string) (calibrate.Shard, error) {
	index, count, hasCount := strings.Cut(spec, "/")
	var s calibrate.Shard
	if hasCount {
		n, err := strconv.Atoi(count)
		if err != nil || n < 1 {
			return s, fmt.Errorf("--shard %s: the shard count %q is not a positive number", spec, count)
		}
		s.Count = n
	}
	if index != "env" {
		if !hasCount {
			return s, fmt.Errorf("--shard %s: give I/N (shard I, from 0, of N), env or env/N", spec)
		}
		i, err := strconv.Atoi(index)
		if err != nil || i < 0 || i >= s.Count {
			return s, fmt.Errorf("--shard %s: the index %q is not a number from 0 to %d", spec, index, s.Count-1)
		}
		s.Index = i
		return s, nil
	}
	slurm, err := slurmShard(getenv)
	switch {
	case err != nil:
		return s, fmt.Errorf("--shard %s: %w", spec, err)
	case slurm != nil && hasCount && slurm.Count != s.Count:
		return s, fmt.Errorf("--shard %s: the Slurm array has %d tasks (SLURM_ARRAY_TASK_COUNT), not %d", spec, slurm.Count, s.Count)
	case slurm != nil:
		s = *slurm
	case !hasCount:
		return s, fmt.Errorf("--shard env: SLURM_ARRAY_TASK_ID is not set, so this is no Slurm job array task; elsewhere give the count: --shard env/N (Kubernetes Indexed Jobs set JOB_COMPLETION_INDEX) or --shard I/N")
	default:
		v := getenv("JOB_COMPLETION_INDEX")
		if v == "" {
			return s, fmt.Errorf("--shard %s: neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set; give the index: --shard I/%d", spec, s.Count)
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 || i >= s.Count {
			return s, fmt.Errorf("--shard %s: JOB_COMPLETION_INDEX %q is not a number from 0 to %d (the Job's completions must be %d)", spec, v, s.Count-1, s.Count)
		}
		s.Index = i
	}
	return s, nil
}

// slurmShard is the shard of a Slurm job array's task, nil outside one.
// Tasks are numbered from SLURM_ARRAY_TASK_MIN (--array=1-4 starts at 1);
// an array with a step or gaps has no shard per task.
func slurmShard(getenv func(string) string) (*calibrate.Shard, error) {
	if getenv("SLURM_ARRAY_TASK_ID") == "" {
		return nil, nil
	}
	var v [4]int
	for i, name := range []string{"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_COUNT"} {
		n, err := strconv.Atoi(getenv(name))
		if err != nil {
			return nil, fmt.Errorf("%s is %q, not a number", name, getenv(name))
		}
		v[i] = n
	}
	id, lo, hi, count := v[0], v[1], v[2], v[3]
	if hi-lo+1 != count || id < lo || id > hi {
		return nil, fmt.Errorf("the Slurm array's tasks %d to %d are not %d consecutive numbers (a step or a list in --array?); number them 0-%d, or give --shard $SLURM_ARRAY_TASK_ID/N yourself", lo, hi, count, count-1)
	}
	return &calibrate.Shard{Index: id - lo, Count: count}, nil
}

// shardJSON is calibrate --shard's --format json.
type shardJSON struct {
	Shard      string `json:"shard"`
	Index      int    `json:"index"`
	Count      int    `json:"count"`
	Statistics string `json:"statistics_file"`
	fileJSON
}

// fileJSON describes a statistics file.
type fileJSON struct {
	ModelSHA256 string `json:"model_sha256"`
	Dataset     string `json:"dataset"`
	BatchSize   int    `json:"batch_size"`
	Batches     int    `json:"batches"`
	First       int    `json:"first_sample"`
	From        int    `json:"from_batch"`
	To          int    `json:"to_batch"` // exclusive
	Complete    bool   `json:"complete"`
	Kind        string `json:"kind"`
	Bins        int    `json:"bins,omitempty"`
	Tensors     int    `json:"tensors"`
}

func describeFile(f *stats.File) fileJSON {
	return fileJSON{ModelSHA256: f.ModelSHA256, Dataset: f.Dataset, BatchSize: f.BatchSize, Batches: f.Batches, First: f.FirstSample,
		From: f.From, To: f.To, Complete: f.Complete(), Kind: f.Statistics, Bins: f.Bins, Tensors: len(f.Tensors)}
}

// calibrateShard is calibrate --shard.
func calibrateShard(p *pipeline.Pipeline, cf *calibFlags, cal pipeline.Calibration, format string, stdout, stderr io.Writer) error {
	if cf.jsonOut != "" || cf.histCache != "" {
		return errors.New("--shard writes statistics, not a table: --json and --histogram-cache belong to int8cal merge, which makes the table")
	}
	s, err := parseShard(cf.shard, os.Getenv)
	if err != nil {
		return err
	}
	path := cf.statsOut
	if path == "" {
		path = p.ShardPath(cal, s)
	}
	if err := p.CheckShardOutputs(cal, path); err != nil {
		return err
	}
	f, err := p.CollectShard(cal, s, path, messages(format, stdout, stderr))
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(stdout, shardJSON{Shard: s.String(), Index: s.Index, Count: s.Count, Statistics: path, fileJSON: describeFile(f)})
	}
	_, err = fmt.Fprintf(stdout, "wrote %s: shard %s, batches %d to %d of %d, %d tensors (%s%s)\n", path, s, f.From, f.To-1, f.Batches, len(f.Tensors), f.Statistics, binsNote(f))
	return err
}

func binsNote(f *stats.File) string {
	if f.Bins == 0 {
		return ""
	}
	return fmt.Sprintf(", %d bins", f.Bins)
}

const mergeSynopsis = `Merges the statistics files that the shards of a calibration wrote
(int8cal calibrate --shard) and calibrates on the result: the table and
sidecar are those one process calibrating on all the data writes, byte for
byte. The files must be of this model, one data set with the same options,
batches and statistics, and hold every batch once; a shard missing or
given twice is an error naming the files.

  int8cal merge [options] STATS...

With --stats-out the merged statistics are kept too: those of some shards,
to be merged again with the rest (no table yet), or of all of them, which
also serve as calibrate's --histogram-cache.`

// mergeJSON is merge's --format json.
type mergeJSON struct {
	Files      []string `json:"files"`
	StatsOut   string   `json:"stats_out,omitempty"`
	Table      string   `json:"table,omitempty"`
	Header     string   `json:"header,omitempty"`
	Reused     bool     `json:"reused"`
	Calibrator string   `json:"calibrator,omitempty"`
	fileJSON
}

func mergeCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("merge", mergeSynopsis)
	var c commonFlags
	c.register(fs)
	var cf calibFlags
	cf.registerMerge(fs)
	format := fs.String("format", "text", formatUsage)
	files, err := parseWithArgs(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if len(files) == 0 {
		return errors.New("no statistics files: give the files the shards wrote, e.g. int8cal merge CalibrationTablelenet.shard-*-of-4.stats")
	}
	p, _, err := c.open(stderr)
	if err != nil {
		return err
	}
	defer p.Close()
	cal := cf.calibration(pipeline.Data{})
	if err := p.CheckMergeOutputs(cal, files, cf.statsOut); err != nil {
		return err
	}
	m, err := p.Merge(cal, files, cf.statsOut, messages(*format, stdout, stderr))
	if err != nil {
		return err
	}
	out := mergeJSON{Files: files, StatsOut: cf.statsOut, fileJSON: describeFile(m.Statistics)}
	if res := m.Calibrated; res != nil {
		out.Table, out.Header, out.Reused, out.Calibrator = res.Cache, res.Result.Table.Header(), res.Reused(), cal.Calibrator
	}
	if *format == "json" {
		return writeJSON(stdout, out)
	}
	fmt.Fprintf(stdout, "merged %d statistics files: batches %d to %d of %d, %d tensors\n", len(files), out.From, out.To-1, out.Batches, out.Tensors)
	if cf.statsOut != "" {
		fmt.Fprintf(stdout, "wrote %s\n", cf.statsOut)
	}
	switch {
	case m.Calibrated == nil:
		fmt.Fprintf(stdout, "no table yet: the other batches of the %d are in other shards; merge %s with them\n", out.Batches, cf.statsOut)
	case out.Reused:
		fmt.Fprintf(stdout, "%s is already this calibration's table; kept\n", out.Table)
	default:
		fmt.Fprintf(stdout, "wrote %s\n", out.Table)
	}
	return nil
}

// parseWithArgs is parse for a command that takes arguments (merge's
// files): flags may come before, between and after them.
func parseWithArgs(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) ([]string, error) {
	var rest []string
	for {
		if err := parseFlags(fs, args, stdout, stderr); err != nil || fs.NArg() == 0 {
			return rest, err
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
