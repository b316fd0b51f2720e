package calibrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/internal/atomicfile"
)

// statsFile is the histogram cache: the statistics of one calibration
// pass and what they were computed from. With it a user re-runs a
// calibrator with other options (the legacy calibrator's quantile, say)
// without running the network again, as TensorRT's legacy calibrator does
// with its histogram cache.
type statsFile struct {
	statsKey
	Tensors []calib.TensorStats `json:"tensors"`
}

// statsKey is what the statistics were computed from.
type statsKey struct {
	Format      int    `json:"format"`
	ModelSHA256 string `json:"model_sha256"`
	Dataset     string `json:"dataset"`
	BatchSize   int    `json:"batch_size"`
	Batches     int    `json:"batches"`
	FirstSample int    `json:"first_sample"`
	Statistics  string `json:"statistics"`
	Bins        int    `json:"bins"`
}

const statsFormat = 1

func keyOf(side *calibtable.Sidecar, need calib.Info) statsKey {
	f := statsKey{
		Format: statsFormat, ModelSHA256: side.ModelSHA256, Dataset: side.Dataset,
		BatchSize: side.BatchSize, Batches: side.Batches, FirstSample: side.FirstSample,
		Statistics: need.Statistics.String(),
	}
	if need.Statistics == calib.AbsHistogram || need.Statistics == calib.SignedHistogram {
		f.Bins = need.Bins
	}
	return f
}

// loadStats returns the cached statistics when the cache at path was made
// from the same model, data and batches for the same kind of statistics;
// otherwise nil and the reason.
func loadStats(path string, want statsKey) ([]calib.TensorStats, string) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "no histogram cache yet"
	}
	if err != nil {
		return nil, err.Error()
	}
	var had statsFile
	if err := json.Unmarshal(data, &had); err != nil {
		return nil, fmt.Sprintf("%s is not a histogram cache: %v", path, err)
	}
	if had.statsKey != want {
		return nil, "the histogram cache was made from other inputs or for other statistics"
	}
	return had.Tensors, ""
}

func saveStats(path string, key statsKey, tensors []calib.TensorStats) error {
	data, err := json.Marshal(statsFile{statsKey: key, Tensors: tensors})
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("histogram cache %s: %w", path, err)
	}
	return nil
}
