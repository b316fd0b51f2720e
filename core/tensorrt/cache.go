package tensorrt

import (
	"bytes"
	"fmt"

	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/loader/tensorrt/abi"
)

// CacheCalibrator is an implicit-INT8 calibrator (TensorRT 8.6 and 10.x)
// that serves no batches: its ReadCache returns a calibration cache in
// TensorRT's format (as core/calibtable writes it), from which TensorRT
// takes every tensor's range instead of calibrating. Its algorithm is the
// cache header's.
type CacheCalibrator struct {
	table []byte
	algo  int32
}

// NewCacheCalibrator checks table's header ("TRT-<version>-<algorithm>")
// and maps its algorithm (Algorithms): EntropyCalibration2,
// MinMaxCalibration or EntropyCalibration. Any other (the legacy
// calibrator's among them) is refused.
func NewCacheCalibrator(table []byte, name string) (*CacheCalibrator, error) {
	t, err := calibtable.Parse(bytes.NewReader(table), name)
	if err != nil {
		return nil, fmt.Errorf("tensorrt: INT8 calibration cache: %w", err)
	}
	algo, ok := Algorithms[t.Algorithm]
	if !ok || algo == abi.LegacyCalibration {
		// TensorRT checks the header's algorithm against its calibrator's,
		// and its name for the legacy one is not known.
		return nil, fmt.Errorf("tensorrt: INT8 calibration cache %s: algorithm %q cannot be read by TensorRT's calibrators (they read %s, %s and %s); build from a Q/DQ model made from the table instead (int8cal export, or --tensorrt-int8 qdq)", name, t.Algorithm, calibtable.EntropyCalibration2, calibtable.MinMaxCalibration, calibtable.EntropyCalibration)
	}
	if len(t.Entries) == 0 {
		return nil, fmt.Errorf("tensorrt: INT8 calibration cache %s has no tensors", name)
	}
	return &CacheCalibrator{table: append([]byte(nil), table...), algo: algo}, nil
}

// BatchSize is 1, as DataCalibrator's: TensorRT asks even when it reads
// a cache.
func (c *CacheCalibrator) BatchSize() int { return 1 }

// Batch says there are no more batches.
func (c *CacheCalibrator) Batch([]string) ([]uintptr, bool) { return nil, false }

// ReadCache returns the cache's bytes.
func (c *CacheCalibrator) ReadCache() []byte { return c.table }

// WriteCache ignores what TensorRT writes back.
func (c *CacheCalibrator) WriteCache([]byte) {}

// Algorithm is the header's algorithm.
func (c *CacheCalibrator) Algorithm() int32 { return c.algo }
