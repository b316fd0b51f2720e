package calibrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"os"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/stats"
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

// maxStatsCache bounds what loadStats reads: a thousand tensors of 2^16
// bins, written as JSON numbers, fit many times over.
const maxStatsCache = 1 << 30

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
// from the same model, data and batches for the same kind of statistics
// (want, need) and holds what Collect would give; otherwise nil and the
// reason.
func loadStats(path string, want statsKey, need calib.Info) ([]calib.TensorStats, string) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "no histogram cache yet"
	}
	if err != nil {
		return nil, err.Error()
	}
	defer f.Close()
	stats, err := decodeStats(f, want, need)
	if err != nil {
		return nil, fmt.Sprintf("%s: %v", path, err)
	}
	return stats, ""
}

// errOtherInputs says a histogram cache is valid but for another run.
var errOtherInputs = errors.New("the histogram cache was made from other inputs or for other statistics")

// decodeStats reads a histogram cache of at most maxStatsCache bytes.
func decodeStats(r io.Reader, want statsKey, need calib.Info) ([]calib.TensorStats, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxStatsCache+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxStatsCache {
		return nil, fmt.Errorf("larger than %d bytes; not a histogram cache", maxStatsCache)
	}
	var had statsFile
	if err := json.Unmarshal(data, &had); err != nil {
		return nil, fmt.Errorf("not a histogram cache: %w", err)
	}
	if had.statsKey != want {
		return nil, errOtherInputs
	}
	if err := checkStats(had.Tensors, need); err != nil {
		return nil, fmt.Errorf("damaged histogram cache: %w", err)
	}
	return had.Tensors, nil
}

// checkStats reports what keeps statistics read from a file from being
// what Collect gives for need: each tensor once under a non-empty name,
// ordered extremes, and for the histogram kinds a histogram of need's
// layout whose bins add up to the count.
func checkStats(tensors []calib.TensorStats, need calib.Info) error {
	if len(tensors) == 0 {
		return errors.New("no tensors")
	}
	bins := 0 // none for MinMax
	if need.Statistics == calib.AbsHistogram || need.Statistics == calib.SignedHistogram {
		h, err := histogram.NewConfig(stats.HistogramConfig(need))
		if err != nil {
			return err
		}
		bins = h.NumBins()
	}
	seen := map[string]bool{}
	for i, s := range tensors {
		switch {
		case s.Name == "":
			return fmt.Errorf("tensor %d has no name", i)
		case seen[s.Name]:
			return fmt.Errorf("tensor %q appears twice", s.Name)
		case s.Values != nil:
			return fmt.Errorf("tensor %q: raw values, which are never cached", s.Name)
		case s.Count > 0 && s.Min > s.Max: // JSON numbers are finite
			return fmt.Errorf("tensor %q: min %v above max %v", s.Name, s.Min, s.Max)
		}
		seen[s.Name] = true
		h := s.Histogram
		if bins == 0 {
			if h != nil {
				return fmt.Errorf("tensor %q: a histogram, but the calibrator asks for %s statistics", s.Name, need.Statistics)
			}
			continue
		}
		switch {
		case h == nil:
			return fmt.Errorf("tensor %q: no histogram", s.Name)
		case len(h.Counts) != bins || h.Signed != stats.HistogramConfig(need).Signed:
			return fmt.Errorf("tensor %q: histogram of %d bins (signed %v), want %d (signed %v)", s.Name, len(h.Counts), h.Signed, bins, stats.HistogramConfig(need).Signed)
		case h.Range < 0:
			return fmt.Errorf("tensor %q: histogram range %v", s.Name, h.Range)
		}
		var sum, carry uint64
		for _, c := range h.Counts {
			var k uint64
			sum, k = bits.Add64(sum, c, 0)
			carry |= k
		}
		if carry != 0 || sum != s.Count {
			return fmt.Errorf("tensor %q: histogram bins add up to %d (overflow %v), not the count %d", s.Name, sum, carry != 0, s.Count)
		}
	}
	return nil
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
