package tensorrt

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/loader/cudadriver"
	"github.com/int8cal/int8cal/loader/tensorrt/abi"
)

// Algorithms are the calibration algorithms TensorRT implements itself,
// by the names its calibration caches use, and their CalibrationAlgoType.
// TensorRT's name for the legacy algorithm is not known from any public
// cache: "LegacyCalibration" is what int8cal's legacy calibrator writes.
var Algorithms = map[string]int32{
	calibtable.EntropyCalibration2: abi.EntropyCalibration2,
	calibtable.EntropyCalibration:  abi.EntropyCalibration,
	calibtable.MinMaxCalibration:   abi.MinMaxCalibration,
	LegacyCalibration:              abi.LegacyCalibration,
}

// LegacyCalibration is the legacy algorithm's name in Algorithms.
const LegacyCalibration = "LegacyCalibration"

// DataCalibrator lets TensorRT calibrate with its own implementation of
// an algorithm (implicit INT8, TensorRT 8.6 and 10.x): getBatch copies the
// batches Next returns into device buffers, and Table is the calibration
// table TensorRT wrote at the end. It asks TensorRT to calibrate every
// time (readCalibrationCache returns nothing). Close it after the build.
type DataCalibrator struct {
	b    *Backend
	algo int32
	// Next returns the next batch of each named input (float32, in the
	// shape the engine is built for: the build's batch size), or nil when
	// there are no more.
	next func(names []string) ([][]float32, error)
	// Quantile and RegressionCutoff are the legacy algorithm's
	// parameters (getQuantile, getRegressionCutoff).
	quantile, cutoff float64

	mu      sync.Mutex
	buffers []deviceBuffer
	batches int
	err     error
	table   []byte
}

type deviceBuffer struct {
	ptr   cudadriver.Ptr
	bytes int
}

// LegacyParameters are the legacy algorithm's quantile and regression
// cutoff; TensorRT's BERT demo (the only published setting) uses 0.9999
// and 1.
type LegacyParameters struct{ Quantile, RegressionCutoff float64 }

// NewDataCalibrator makes a calibrator for algorithm (a name of
// Algorithms) reading batches from next; legacy is used by the legacy
// algorithm only.
func (b *Backend) NewDataCalibrator(algorithm string, legacy LegacyParameters, next func(names []string) ([][]float32, error)) (*DataCalibrator, error) {
	algo, ok := Algorithms[algorithm]
	if !ok {
		return nil, fmt.Errorf("tensorrt: calibration algorithm %q unknown; TensorRT implements %s, %s, %s and %s", algorithm, calibtable.EntropyCalibration2, calibtable.EntropyCalibration, calibtable.MinMaxCalibration, LegacyCalibration)
	}
	if algo == abi.LegacyCalibration {
		for _, v := range []struct {
			name string
			v    float64
		}{{"quantile", legacy.Quantile}, {"regression cutoff", legacy.RegressionCutoff}} {
			if !(v.v >= 0 && v.v <= 1) {
				return nil, fmt.Errorf("tensorrt: legacy calibration: the %s must be in [0, 1], got %v", v.name, v.v)
			}
		}
	}
	return &DataCalibrator{b: b, algo: algo, next: next, quantile: legacy.Quantile, cutoff: legacy.RegressionCutoff}, nil
}

// BatchSize is 1: the batch is in the inputs' shapes (explicit batch),
// and 1 is what NVIDIA's Polygraphy calibrator returns for them.
func (c *DataCalibrator) BatchSize() int { return 1 }

// Batch copies the next batch to the device, from TensorRT's builder
// thread: the backend's context is made current there first. An error
// ends the calibration (false) and is returned by Err.
func (c *DataCalibrator) Batch(names []string) ([]uintptr, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, false
	}
	ptrs, err := c.upload(names)
	if err != nil {
		c.err = fmt.Errorf("tensorrt: calibration batch %d: %w", c.batches, err)
		return nil, false
	}
	if ptrs == nil {
		return nil, false
	}
	c.batches++
	return ptrs, true
}

func (c *DataCalibrator) upload(names []string) ([]uintptr, error) {
	data, err := c.next(names)
	if err != nil || data == nil {
		return nil, err
	}
	if len(data) != len(names) {
		return nil, fmt.Errorf("%d arrays for the %d inputs %q", len(data), len(names), names)
	}
	leave, err := c.b.ctx.Enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	if c.buffers == nil {
		c.buffers = make([]deviceBuffer, len(names))
	}
	if len(c.buffers) != len(names) {
		return nil, fmt.Errorf("TensorRT asked for %d inputs %q, before for %d", len(names), names, len(c.buffers))
	}
	ptrs := make([]uintptr, len(names))
	for i, x := range data {
		if len(x) == 0 {
			return nil, fmt.Errorf("input %q: an empty batch", names[i])
		}
		buf := &c.buffers[i]
		if n := 4 * len(x); n != buf.bytes {
			if buf.bytes > 0 {
				return nil, fmt.Errorf("input %q: %d values, the first batch had %d (batches must all have the build's batch size)", names[i], len(x), buf.bytes/4)
			}
			if buf.ptr, err = c.b.Driver.Alloc(n); err != nil {
				return nil, err
			}
			buf.bytes = n
		}
		if err := c.b.Driver.CopyToDevice(buf.ptr, unsafe.Pointer(&x[0]), buf.bytes); err != nil {
			return nil, err
		}
		ptrs[i] = uintptr(buf.ptr)
	}
	return ptrs, nil
}

// ReadCache returns nothing: TensorRT calibrates.
func (c *DataCalibrator) ReadCache() []byte { return nil }

// WriteCache keeps the table TensorRT computed.
func (c *DataCalibrator) WriteCache(b []byte) {
	c.mu.Lock()
	c.table = append([]byte(nil), b...)
	c.mu.Unlock()
}

// Algorithm is the algorithm's CalibrationAlgoType.
func (c *DataCalibrator) Algorithm() int32 { return c.algo }

// Quantile is the legacy algorithm's quantile.
func (c *DataCalibrator) Quantile() float64 { return c.quantile }

// RegressionCutoff is the legacy algorithm's regression cutoff.
func (c *DataCalibrator) RegressionCutoff() float64 { return c.cutoff }

// ReadHistogramCache returns nothing: the legacy algorithm collects its
// histograms each time, as every other algorithm does here.
func (c *DataCalibrator) ReadHistogramCache() []byte { return nil }

// WriteHistogramCache drops the histograms (see ReadHistogramCache).
func (c *DataCalibrator) WriteHistogramCache([]byte) {}

// Err is the error that ended the calibration early, if any; Build
// returns it.
func (c *DataCalibrator) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Batches is the number of batches TensorRT took.
func (c *DataCalibrator) Batches() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.batches
}

// Table is the calibration table TensorRT wrote (nil if it wrote none).
func (c *DataCalibrator) Table() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.table
}

// Close frees the device buffers.
func (c *DataCalibrator) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.buffers) == 0 {
		return
	}
	if leave, err := c.b.ctx.Enter(); err == nil {
		for _, buf := range c.buffers {
			if buf.bytes > 0 {
				c.b.Driver.Free(buf.ptr)
			}
		}
		leave()
	}
	c.buffers = nil
}
