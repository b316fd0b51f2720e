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
// and maps its algorithm: EntropyCalibration2 to 2, MinMaxCalibration to
// 3, EntropyCalibration to 1. Any other (the legacy calibrator's among
// them) is refused.
func NewCacheCalibrator(table []byte, name string) (*CacheCalibrator, error) {
	t, err := calibtable.Parse(bytes.NewReader(table), name)
	if err != nil {
		return nil, fmt.Errorf("tensorrt: INT8 calibration cache: %w", err)
	}
	var algo int32
	switch t.Algorithm {
	case calibtable.EntropyCalibration2:
		algo = abi.EntropyCalibration2
	case calibtable.MinMaxCalibration:
		algo = abi.MinMaxCalibration
	case calibtable.EntropyCalibration:
		algo = abi.EntropyCalibration
	default:
		return nil, fmt.Errorf("tensorrt: INT8 calibration cache %s: algorithm %q is not supported for a TensorRT build (want %s, %s or %s; the legacy calibrator is not)", name, t.Algorithm, calibtable.EntropyCalibration2, calibtable.MinMaxCalibration, calibtable.EntropyCalibration)
	}
	if len(t.Entries) == 0 {
		return nil, fmt.Errorf("tensorrt: INT8 calibration cache %s has no tensors", name)
	}
	return &CacheCalibrator{table: append([]byte(nil), table...), algo: algo}, nil
}

// BatchSize is 0: there are no batches.
func (c *CacheCalibrator) BatchSize() int { return 0 }

// Batch says there are no more batches.
func (c *CacheCalibrator) Batch([]string) ([]uintptr, bool) { return nil, false }

// ReadCache returns the cache's bytes.
func (c *CacheCalibrator) ReadCache() []byte { return c.table }

// WriteCache ignores what TensorRT writes back.
func (c *CacheCalibrator) WriteCache([]byte) {}

// Algorithm is the header's algorithm.
func (c *CacheCalibrator) Algorithm() int32 { return c.algo }
