package calibrate

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/stats"
)

// The histogram cache is a statistics file (core/stats) of the whole
// calibration: with it a user re-runs a calibrator with other options
// (the legacy calibrator's quantile, say) without running the network
// again, as TensorRT's legacy calibrator does with its histogram cache.
// It is the same file a merge of shards writes (int8cal merge
// --stats-out), so either serves as the other.

// keyOf is the statistics key of a run: its sidecar's model, data and
// batches, and the statistics need asks for.
func keyOf(side *calibtable.Sidecar, need calib.Info) (stats.Key, error) {
	statistics, bins, err := stats.KindKey(need)
	if err != nil {
		return stats.Key{}, err
	}
	return stats.Key{
		ModelSHA256: side.ModelSHA256, Dataset: side.Dataset,
		BatchSize: side.BatchSize, Batches: side.Batches, FirstSample: side.FirstSample,
		Statistics: statistics, Bins: bins,
	}, nil
}

// loadStats returns the cached statistics when the file at path holds
// every batch of the run (want: same model, data and batches) in
// statistics that serve need; otherwise nil and the reason.
func loadStats(path string, want stats.Key, need calib.Info) (*stats.File, string) {
	f, err := stats.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, "no histogram cache yet"
	case err != nil:
		return nil, err.Error()
	}
	switch {
	case !f.SameCalibration(want):
		return nil, fmt.Sprintf("%s was made from other inputs (model, data or batches)", path)
	case !f.Complete():
		return nil, fmt.Sprintf("%s holds batches %d to %d of %d only (a shard: merge the shards first)", path, f.From, f.To-1, f.Batches)
	}
	if why := f.Serves(need); why != "" {
		return nil, fmt.Sprintf("%s: %s", path, why)
	}
	return f, ""
}
