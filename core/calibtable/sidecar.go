package calibtable

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/int8cal/int8cal/internal/atomicfile"
)

// Sidecar records what a TensorRT cache does not say about how it was made:
// the model, the calibrator and its options, and the calibration data. It
// is stored as JSON next to the cache (SidecarPath), and a cache is reused
// only when the sidecar of the run at hand matches it.
type Sidecar struct {
	ModelSHA256       string            `json:"model_sha256"`
	Calibrator        string            `json:"calibrator"`
	CalibratorVersion string            `json:"calibrator_version"`
	Algorithm         string            `json:"algorithm"`
	Options           map[string]string `json:"options,omitempty"`
	Dataset           string            `json:"dataset"`
	BatchSize         int               `json:"batch_size"`
	Batches           int               `json:"batches"`
	FirstSample       int               `json:"first_sample"`
}

// SidecarPath is where the sidecar of the cache at path lives.
func SidecarPath(cachePath string) string { return cachePath + ".int8cal.json" }

// WriteSidecar writes s atomically, as WriteFile does tables.
func WriteSidecar(path string, s *Sidecar) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(data, '\n')); err != nil {
		return fmt.Errorf("calibtable: write %s: %w", path, err)
	}
	return nil
}

// ReadSidecar reads a sidecar; a missing file is reported with an error
// satisfying errors.Is(err, fs.ErrNotExist).
func ReadSidecar(path string) (*Sidecar, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Sidecar
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// Mismatch describes the first difference between the sidecar of a cache
// (s) and the run at hand (want), or returns "" when they agree.
func (s *Sidecar) Mismatch(want *Sidecar) string {
	diff := func(what, had, now string) string {
		return fmt.Sprintf("%s changed (cache made with %s, now %s)", what, had, now)
	}
	switch {
	case s.ModelSHA256 != want.ModelSHA256:
		return diff("the model", short(s.ModelSHA256), short(want.ModelSHA256))
	case s.Calibrator != want.Calibrator:
		return diff("the calibrator", s.Calibrator, want.Calibrator)
	case s.CalibratorVersion != want.CalibratorVersion:
		return diff("the calibrator version", s.CalibratorVersion, want.CalibratorVersion)
	case !maps.Equal(s.Options, want.Options):
		return diff("the calibrator options", optionString(s.Options), optionString(want.Options))
	case s.Dataset != want.Dataset:
		return diff("the calibration data", s.Dataset, want.Dataset)
	case s.BatchSize != want.BatchSize || s.Batches != want.Batches || s.FirstSample != want.FirstSample:
		return diff("the calibration batches", batchString(s), batchString(want))
	}
	return ""
}

func short(hash string) string {
	if len(hash) > 12 {
		return "sha256 " + hash[:12]
	}
	return "sha256 " + hash
}

func optionString(o map[string]string) string {
	if len(o) == 0 {
		return "defaults"
	}
	s := ""
	for _, k := range slices.Sorted(maps.Keys(o)) {
		if s != "" {
			s += ","
		}
		s += k + "=" + o[k]
	}
	return s
}

func batchString(s *Sidecar) string {
	return fmt.Sprintf("%d batches of %d from sample %d", s.Batches, s.BatchSize, s.FirstSample)
}
