package calibtable

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/int8cal/int8cal/internal/atomicfile"
)

// Sidecar records what a TensorRT cache does not say about how it was made:
// the model, the calibrator and its options, and the calibration data; and
// which table it describes, by the SHA-256 of the table's bytes. It is
// stored as JSON next to the cache (SidecarPath), and a cache is reused
// only when its bytes have that hash and the sidecar of the run at hand
// matches. The hash makes the two files one unit although they are
// written one after the other: a table written without its sidecar (a run
// killed between the two, a table edited by hand) never pairs with the
// sidecar of another table.
type Sidecar struct {
	// Format is SidecarFormat; sidecars of older int8cal versions have
	// none (0) and no table hash.
	Format            int               `json:"format"`
	TableSHA256       string            `json:"table_sha256"`
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

// SidecarFormat is the version of the sidecar's fields: 2 added Format and
// TableSHA256.
const SidecarFormat = 2

// maxSidecar bounds what ReadSidecar reads; a sidecar is a few hundred
// bytes.
const maxSidecar = 1 << 20

// SidecarPath is where the sidecar of the cache at path lives.
func SidecarPath(cachePath string) string { return cachePath + ".int8cal.json" }

// WriteSidecar writes s atomically, as WriteFile does tables.
func WriteSidecar(path string, s *Sidecar) error {
	data, err := s.encode()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("calibtable: write %s: %w", path, err)
	}
	return nil
}

// encode returns the bytes WriteSidecar writes.
func (s *Sidecar) encode() ([]byte, error) {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("calibtable: sidecar: %w", err)
	}
	return append(data, '\n'), nil
}

// ReadSidecar reads a sidecar; a missing file is reported with an error
// satisfying errors.Is(err, fs.ErrNotExist). Errors name the file.
func ReadSidecar(path string) (*Sidecar, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decodeSidecar(f, path)
}

// decodeSidecar reads one sidecar object of at most maxSidecar bytes.
func decodeSidecar(r io.Reader, name string) (*Sidecar, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSidecar+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxSidecar {
		return nil, fmt.Errorf("%s: larger than %d bytes; not an int8cal sidecar", name, maxSidecar)
	}
	var s Sidecar
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: not an int8cal sidecar: %w", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: not an int8cal sidecar: data after the JSON object", name)
	}
	return &s, nil
}

// Mismatch describes the first difference between the sidecar of a cache
// (s) and the run at hand (want, whose TableSHA256 is the hash of the
// cache as read), or returns "" when they agree.
func (s *Sidecar) Mismatch(want *Sidecar) string {
	diff := func(what, had, now string) string {
		return fmt.Sprintf("%s changed (cache made with %s, now %s)", what, had, now)
	}
	switch {
	case s.Format != SidecarFormat:
		return fmt.Sprintf("the sidecar is of format %d (another int8cal version; this one writes %d, which records the table's hash)", s.Format, SidecarFormat)
	case s.TableSHA256 != want.TableSHA256:
		return fmt.Sprintf("the cache is not the table its sidecar describes (%s, the file is %s): edited, or written by a run stopped before its sidecar", short(s.TableSHA256), short(want.TableSHA256))
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
