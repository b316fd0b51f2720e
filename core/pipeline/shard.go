package pipeline

import (
	"errors"
	"fmt"
	"io"

	"github.com/int8cal/int8cal/core/calibrate"
	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/stats"
)

// A calibration split over processes or machines: each shard runs the
// network over its part of the batches (CollectShard) and writes a
// statistics file; Merge merges the files, which is exact, and calibrates
// once on the result, writing the table one process would have written.

// ShardPath is where shard s of c writes its statistics unless told
// otherwise: beside c's table, named after the shard.
func (p *Pipeline) ShardPath(c Calibration, s calibrate.Shard) string {
	return fmt.Sprintf("%s.shard-%d-of-%d.stats", p.CachePath(c), s.Index, s.Count)
}

// CollectShard runs the FP32 network over shard s of c's batches on the
// backend and writes the statistics c's calibrator asks for to path (a
// stats.File); nothing is calibrated. A statistics file of one backend
// merges with those of another.
func (p *Pipeline) CollectShard(c Calibration, s calibrate.Shard, path string, out io.Writer) (*stats.File, error) {
	if p.tensorrtCalibrates() {
		return nil, errors.New("--tensorrt-int8 calibrate: TensorRT calibrates inside its engine build, which cannot be split into shards; shard int8cal's calibration instead (leave --tensorrt-int8 at its default)")
	}
	job, done, err := p.calibrationJob(c, out)
	if err != nil {
		return nil, err
	}
	defer done()
	return job.RunShard(s, path)
}

// Merged is what Merge did.
type Merged struct {
	// Statistics are the merged statistics.
	Statistics *stats.File
	// Calibrated is the table, nil when the files hold only some of the
	// batches (a partial merge, kept in statsOut to be merged again).
	Calibrated *Calibrated
}

// Merge reads the statistics files at paths, checks that they are shards
// of one calibration of this model (same data, options and batches, same
// statistics, every batch once) and merges them. statsOut, if set,
// receives the merged statistics (a partial merge, or the whole
// calibration's statistics, which serve as a histogram cache). When the
// files hold every batch, c's calibrator calibrates on them and c's table
// and sidecar are written, the same bytes as a one-process calibration
// of the same data; c's batches and data are taken from the files.
func (p *Pipeline) Merge(c Calibration, paths []string, statsOut string, out io.Writer) (*Merged, error) {
	if len(paths) == 0 {
		return nil, errors.New("no statistics files to merge: give the files the shards wrote")
	}
	files := make([]*stats.File, len(paths))
	for i, path := range paths {
		f, err := stats.ReadFile(path)
		if err != nil {
			return nil, err
		}
		files[i] = f
	}
	m, err := stats.Merge(files)
	if err != nil {
		return nil, err
	}
	hash, err := p.ModelSHA256()
	if err != nil {
		return nil, err
	}
	if m.ModelSHA256 != hash {
		return nil, fmt.Errorf("%s: the statistics are of a model of SHA-256 %s, and --model %s is %s: give the model the shards ran", m.Name(), m.ModelSHA256, p.opts.Model, hash)
	}
	if statsOut != "" {
		if err := stats.WriteFile(statsOut, m); err != nil {
			return nil, err
		}
	}
	if !m.Complete() {
		if statsOut != "" {
			return &Merged{Statistics: m}, nil
		}
		return nil, fmt.Errorf("the files hold batches %d to %d of the calibration's %d: the shards of the others are missing (to merge some shards now and the rest later, give --stats-out)", m.From, m.To-1, m.Batches)
	}
	if err := p.loadGraph(); err != nil {
		return nil, err
	}
	c.Batch, c.Batches, c.First = m.BatchSize, m.Batches, m.FirstSample
	job, done, err := p.newJob(c, out)
	if err != nil {
		return nil, err
	}
	defer done()
	job.Tensors = graphTensors(p.graph)
	job.Provenance = calibtable.Sidecar{ModelSHA256: m.ModelSHA256, Dataset: m.Dataset}
	job.Merged = m
	cal, err := p.runJob(c, job)
	if err != nil {
		return nil, err
	}
	return &Merged{Statistics: m, Calibrated: cal}, nil
}
