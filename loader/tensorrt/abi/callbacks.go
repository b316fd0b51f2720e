package abi

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// Application objects (ILogger, IInt8Calibrator) are laid out as C++
// objects: [0] vptr, nothing else TensorRT reads. The vtables are
// package-level arrays filled once with purego.NewCallback pointers;
// purego never frees a callback's memory and allows only about 2000 per
// process, so there is one callback per method, shared by every object,
// which finds its Go object by its this pointer in registry.

// appObject is the C++ object TensorRT sees; it is pinned while open.
type appObject struct {
	vptr uintptr
}

// registry maps an appObject's address to its *Logger or *Calibrator.
var registry sync.Map

func lookup(this uintptr) any {
	v, _ := registry.Load(this)
	return v
}

// interfaceInfo is nvinfer1::InterfaceInfo {char const* kind; int32
// major; int32 minor}: 16 bytes, returned in RAX:RDX (purego ≥ v0.11
// callbacks return structs on amd64 and arm64).
type interfaceInfo struct {
	Kind         uintptr
	Major, Minor int32
}

// Severity of a TensorRT log message (ILogger::Severity).
const (
	SeverityInternalError = 0
	SeverityError         = 1
	SeverityWarning       = 2
	SeverityInfo          = 3
	SeverityVerbose       = 4
)

// CalibrationAlgoType values (IInt8Calibrator::getAlgorithm).
const (
	LegacyCalibration   = 0 // IInt8LegacyCalibrator (amd64 only, see legacyDouble)
	EntropyCalibration  = 1
	EntropyCalibration2 = 2
	MinMaxCalibration   = 3
)

// kinds are the InterfaceInfo kind strings, NUL-terminated, pinned for
// good.
var (
	kindILogger     = []byte("ILogger\x00")
	kindCalibrators = map[int32][]byte{
		EntropyCalibration:  []byte("IInt8EntropyCalibrator\x00"),
		EntropyCalibration2: []byte("IInt8EntropyCalibrator2\x00"),
		MinMaxCalibration:   []byte("IInt8MinMaxCalibrator\x00"),
		// IInt8LegacyCalibrator's getInterfaceInfo says IInt8Calibrator
		// (NvInfer.h v10.16).
		LegacyCalibration: []byte("IInt8Calibrator\x00"),
	}
	kindPinner runtime.Pinner
)

// The shared vtables, filled by makeVtables.
var (
	vtablesOnce sync.Once
	// 8.6/10.x ILogger: [log, D1, D0].
	loggerVtable [3]uintptr
	// 11.x ILogger: [getAPILanguage, getInterfaceInfo, D1, D0, log].
	loggerVtable11 [5]uintptr
	// 8.6 IInt8Calibrator: [getBatchSize, getBatch, readCalibrationCache,
	// writeCalibrationCache, getAlgorithm, D1, D0].
	calibratorVtable8 [7]uintptr
	// 10.x IInt8Calibrator: [getAPILanguage, getInterfaceInfo, D1, D0,
	// getBatchSize, getBatch, readCalibrationCache,
	// writeCalibrationCache, getAlgorithm].
	calibratorVtable10 [9]uintptr
	// IInt8LegacyCalibrator appends [getQuantile, getRegressionCutoff,
	// readHistogramCache, writeHistogramCache] to each (NvInfer.h v8.6.1
	// and v10.16).
	legacyVtable8  [11]uintptr
	legacyVtable10 [13]uintptr
)

// legacyDouble is the double getQuantile and getRegressionCutoff return.
// purego callbacks cannot return float64, but a struct holding one
// float64 is classified SSE by the x86-64 psABI and comes back in XMM0,
// exactly where a C++ caller reads a double; only amd64 is relied on
// (NewCalibrator refuses the legacy algorithm elsewhere).
type legacyDouble struct{ V float64 }

// guard turns a panic in a callback, which would otherwise unwind into
// C++ on a thread Go does not own, into a message on stderr.
func guard(method string) {
	if r := recover(); r != nil {
		fmt.Fprintf(os.Stderr, "abi: panic in %s callback: %v\n", method, r)
	}
}

func makeVtables() {
	vtablesOnce.Do(func() {
		kindPinner.Pin(&kindILogger[0])
		for _, k := range kindCalibrators {
			kindPinner.Pin(&k[0])
		}
		// The destructors do nothing: TensorRT does not own these
		// objects, and Close frees them.
		dtor := purego.NewCallback(func(this uintptr) {})
		apiLanguage := purego.NewCallback(func(this uintptr) int32 { return 0 }) // APILanguage::kCPP
		log := purego.NewCallback(func(this uintptr, severity int32, msg uintptr) {
			defer guard("ILogger::log")
			if l, ok := lookup(this).(*Logger); ok {
				l.fn(severity, gostring(msg))
			}
		})
		loggerInfo := purego.NewCallback(func(this uintptr) interfaceInfo {
			return interfaceInfo{Kind: uintptr(unsafe.Pointer(&kindILogger[0])), Major: 1, Minor: 0}
		})
		loggerVtable = [3]uintptr{log, dtor, dtor}
		loggerVtable11 = [5]uintptr{apiLanguage, loggerInfo, dtor, dtor, log}

		batchSize := purego.NewCallback(func(this uintptr) int32 {
			defer guard("IInt8Calibrator::getBatchSize")
			if c, ok := lookup(this).(*Calibrator); ok {
				return int32(c.impl.BatchSize())
			}
			return 0
		})
		getBatch := purego.NewCallback(func(this, bindings, names uintptr, nb int32) (ok bool) {
			defer guard("IInt8Calibrator::getBatch")
			if c, found := lookup(this).(*Calibrator); found {
				return c.getBatch(bindings, names, int(nb))
			}
			return false
		})
		readCache := purego.NewCallback(func(this, length uintptr) uintptr {
			defer guard("IInt8Calibrator::readCalibrationCache")
			if c, ok := lookup(this).(*Calibrator); ok {
				return c.cache.lend(c.impl.ReadCache(), length)
			}
			*(*uintptr)(cptr(length)) = 0
			return 0
		})
		writeCache := purego.NewCallback(func(this, data, length uintptr) {
			defer guard("IInt8Calibrator::writeCalibrationCache")
			if c, ok := lookup(this).(*Calibrator); ok {
				c.impl.WriteCache(copyOut(data, length))
			}
		})
		algorithm := purego.NewCallback(func(this uintptr) int32 {
			defer guard("IInt8Calibrator::getAlgorithm")
			if c, ok := lookup(this).(*Calibrator); ok {
				return c.algo
			}
			return EntropyCalibration2
		})
		calibratorInfo := purego.NewCallback(func(this uintptr) interfaceInfo {
			algo := int32(EntropyCalibration2)
			if c, ok := lookup(this).(*Calibrator); ok {
				algo = c.algo
			}
			return interfaceInfo{Kind: uintptr(unsafe.Pointer(&kindCalibrators[algo][0])), Major: 1, Minor: 0}
		})
		calibratorVtable8 = [7]uintptr{batchSize, getBatch, readCache, writeCache, algorithm, dtor, dtor}
		calibratorVtable10 = [9]uintptr{apiLanguage, calibratorInfo, dtor, dtor, batchSize, getBatch, readCache, writeCache, algorithm}

		quantile := purego.NewCallback(func(this uintptr) legacyDouble {
			defer guard("IInt8LegacyCalibrator::getQuantile")
			if c, ok := lookup(this).(*Calibrator); ok && c.legacy != nil {
				return legacyDouble{c.legacy.Quantile()}
			}
			return legacyDouble{}
		})
		cutoff := purego.NewCallback(func(this uintptr) legacyDouble {
			defer guard("IInt8LegacyCalibrator::getRegressionCutoff")
			if c, ok := lookup(this).(*Calibrator); ok && c.legacy != nil {
				return legacyDouble{c.legacy.RegressionCutoff()}
			}
			return legacyDouble{}
		})
		readHist := purego.NewCallback(func(this, length uintptr) uintptr {
			defer guard("IInt8LegacyCalibrator::readHistogramCache")
			if c, ok := lookup(this).(*Calibrator); ok && c.legacy != nil {
				return c.histogram.lend(c.legacy.ReadHistogramCache(), length)
			}
			*(*uintptr)(cptr(length)) = 0
			return 0
		})
		writeHist := purego.NewCallback(func(this, data, length uintptr) {
			defer guard("IInt8LegacyCalibrator::writeHistogramCache")
			if c, ok := lookup(this).(*Calibrator); ok && c.legacy != nil {
				c.legacy.WriteHistogramCache(copyOut(data, length))
			}
		})
		legacy := [4]uintptr{quantile, cutoff, readHist, writeHist}
		copy(legacyVtable8[:], calibratorVtable8[:])
		copy(legacyVtable8[7:], legacy[:])
		copy(legacyVtable10[:], calibratorVtable10[:])
		copy(legacyVtable10[9:], legacy[:])
	})
}

// newAppObject allocates a pinned object with vtable vt and registers v
// under its address.
func newAppObject(vt unsafe.Pointer, v any) (*appObject, *runtime.Pinner) {
	makeVtables()
	o := &appObject{vptr: uintptr(vt)}
	p := new(runtime.Pinner)
	p.Pin(o)
	registry.Store(uintptr(unsafe.Pointer(o)), v)
	return o, p
}

// Logger is an nvinfer1::ILogger whose log calls a Go function, from
// whatever thread TensorRT logs on (builder threads included).
type Logger struct {
	obj *appObject
	pin *runtime.Pinner
	fn  func(severity int32, msg string)
}

// NewLogger makes an ILogger laid out for the library's major version.
// fn must be safe for concurrent use. Close it only after every builder,
// runtime and parser given it is deleted.
func (l *Lib) NewLogger(fn func(severity int32, msg string)) *Logger {
	lg := &Logger{fn: fn}
	vt := unsafe.Pointer(&loggerVtable)
	if l.Slots.VersionedLogger {
		vt = unsafe.Pointer(&loggerVtable11)
	}
	lg.obj, lg.pin = newAppObject(vt, lg)
	return lg
}

// Ptr is the ILogger* to pass to TensorRT.
func (lg *Logger) Ptr() uintptr { return uintptr(unsafe.Pointer(lg.obj)) }

// Close unregisters and unpins the logger; calls that still arrive are
// dropped. The callbacks themselves are never freed (purego cannot).
func (lg *Logger) Close() {
	if lg.obj == nil {
		return
	}
	registry.Delete(lg.Ptr())
	lg.pin.Unpin()
	lg.obj = nil
}

// CalibratorImpl serves calibration batches to TensorRT's implicit INT8
// calibration (8.6 and 10.x; removed in 11.0). TensorRT first asks for a
// cache (ReadCache); only without one does it take batches until Batch
// says there are no more, compute the ranges itself and hand its table to
// WriteCache.
type CalibratorImpl interface {
	// BatchSize is getBatchSize (ignored by 10.x, which has no implicit
	// batch).
	BatchSize() int
	// Batch returns one device pointer per input name (in that order)
	// holding the next batch, or false when there are no more.
	Batch(names []string) ([]uintptr, bool)
	// ReadCache returns a calibration table to use instead of
	// calibrating, or nil.
	ReadCache() []byte
	// WriteCache receives the table TensorRT computed.
	WriteCache([]byte)
	// Algorithm is the CalibrationAlgoType: EntropyCalibration,
	// EntropyCalibration2, MinMaxCalibration, or LegacyCalibration for a
	// LegacyCalibratorImpl.
	Algorithm() int32
}

// LegacyCalibratorImpl is a CalibratorImpl for TensorRT's legacy
// algorithm (IInt8LegacyCalibrator): the quantile and regression cutoff
// it calibrates with, and a cache of the histograms it collects.
type LegacyCalibratorImpl interface {
	CalibratorImpl
	// Quantile is getQuantile, in [0, 1].
	Quantile() float64
	// RegressionCutoff is getRegressionCutoff, in [0, 1].
	RegressionCutoff() float64
	// ReadHistogramCache returns histograms TensorRT saved before, or nil.
	ReadHistogramCache() []byte
	// WriteHistogramCache receives the histograms TensorRT collected.
	WriteHistogramCache([]byte)
}

// Calibrator is an nvinfer1::IInt8Calibrator (an IInt8EntropyCalibrator2,
// IInt8EntropyCalibrator, IInt8MinMaxCalibrator or IInt8LegacyCalibrator,
// as Algorithm says) calling a CalibratorImpl.
type Calibrator struct {
	obj    *appObject
	pin    *runtime.Pinner
	impl   CalibratorImpl
	legacy LegacyCalibratorImpl // impl, when the algorithm is legacy
	algo   int32

	cache, histogram lentBytes
}

// NewCalibrator makes an IInt8Calibrator laid out for the library's
// major version. It is an error for TensorRT 11, which has none, for an
// unknown algorithm, and for the legacy algorithm unless impl is a
// LegacyCalibratorImpl (on amd64: see legacyDouble). Close it after the
// engine is built.
func (l *Lib) NewCalibrator(impl CalibratorImpl) (*Calibrator, error) {
	algo := impl.Algorithm()
	var vt unsafe.Pointer
	switch l.Slots.Calibrator {
	case 8:
		vt = unsafe.Pointer(&calibratorVtable8)
		if algo == LegacyCalibration {
			vt = unsafe.Pointer(&legacyVtable8)
		}
	case 10:
		vt = unsafe.Pointer(&calibratorVtable10)
		if algo == LegacyCalibration {
			vt = unsafe.Pointer(&legacyVtable10)
		}
	default:
		return nil, l.fail("IInt8Calibrator", "no such interface: implicit INT8 calibration was removed in TensorRT 11.0 (use explicit quantization, Q/DQ)")
	}
	if _, ok := kindCalibrators[algo]; !ok {
		return nil, fmt.Errorf("abi: calibration algorithm %d is not supported (want %d legacy, %d entropy, %d entropy 2 or %d min-max)", algo, LegacyCalibration, EntropyCalibration, EntropyCalibration2, MinMaxCalibration)
	}
	c := &Calibrator{impl: impl, algo: algo}
	if algo == LegacyCalibration {
		legacy, ok := impl.(LegacyCalibratorImpl)
		if !ok {
			return nil, fmt.Errorf("abi: the legacy calibration algorithm (%d) needs a LegacyCalibratorImpl (quantile, regression cutoff, histogram cache); %T is not one", algo, impl)
		}
		if runtime.GOARCH != "amd64" {
			return nil, fmt.Errorf("abi: IInt8LegacyCalibrator returns doubles from callbacks, which is relied on only on amd64, not %s; use another algorithm", runtime.GOARCH)
		}
		c.legacy = legacy
	}
	c.obj, c.pin = newAppObject(vt, c)
	return c, nil
}

// Ptr is the IInt8Calibrator* to pass to TensorRT.
func (c *Calibrator) Ptr() uintptr { return uintptr(unsafe.Pointer(c.obj)) }

// Close unregisters and unpins the calibrator and the caches it lent.
func (c *Calibrator) Close() {
	if c.obj == nil {
		return
	}
	registry.Delete(c.Ptr())
	c.pin.Unpin()
	c.cache.release()
	c.histogram.release()
	c.obj = nil
}

func (c *Calibrator) getBatch(bindings, names uintptr, nb int) bool {
	if nb < 0 || nb > 1<<16 {
		return false
	}
	ns := make([]string, nb)
	for i := range ns {
		ns[i] = gostring(peek(names + uintptr(8*i)))
	}
	ptrs, ok := c.impl.Batch(ns)
	if !ok {
		return false
	}
	if len(ptrs) != nb {
		fmt.Fprintf(os.Stderr, "abi: calibrator returned %d pointers for %d inputs %v\n", len(ptrs), nb, ns)
		return false
	}
	out := unsafe.Slice((*uintptr)(cptr(bindings)), nb)
	copy(out, ptrs)
	return true
}

// lentBytes are bytes handed to TensorRT (readCalibrationCache,
// readHistogramCache), kept in pinned Go memory until the next call or
// Close: TensorRT reads them after the call returns.
type lentBytes struct {
	mu  sync.Mutex
	b   []byte
	pin runtime.Pinner
}

// lend keeps a copy of b, stores its length at the size_t* length and
// returns its address (0 and length 0 for no bytes).
func (l *lentBytes) lend(b []byte, length uintptr) uintptr {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pin.Unpin()
	l.b = nil
	if len(b) == 0 {
		*(*uintptr)(cptr(length)) = 0
		return 0
	}
	l.b = append([]byte(nil), b...)
	l.pin.Pin(&l.b[0])
	*(*uintptr)(cptr(length)) = uintptr(len(l.b))
	return uintptr(unsafe.Pointer(&l.b[0]))
}

func (l *lentBytes) release() {
	l.mu.Lock()
	l.pin.Unpin()
	l.b = nil
	l.mu.Unlock()
}

// copyOut copies length bytes at data (C memory) into Go memory.
func copyOut(data, length uintptr) []byte {
	if data == 0 || length == 0 {
		return nil
	}
	return append([]byte(nil), unsafe.Slice((*byte)(cptr(data)), length)...)
}
