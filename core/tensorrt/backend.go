package tensorrt

import (
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/loader/cudadriver"
	trtlib "github.com/int8cal/int8cal/loader/tensorrt"
	"github.com/int8cal/int8cal/loader/tensorrt/abi"
)

// Options say where the libraries are and which GPU to use.
type Options struct {
	// Lib is libnvinfer's path ("": $INT8CAL_TENSORRT_LIB, then the
	// sonames of the supported major versions).
	Lib string
	// ParserLib is libnvonnxparser's path ("": $INT8CAL_NVONNXPARSER_LIB,
	// then the sonames).
	ParserLib string
	// CUDALib is the CUDA driver's path ("": $INT8CAL_CUDA_LIB, then
	// libcuda.so.1).
	CUDALib string
	// Device is the CUDA device ordinal.
	Device int
	// Log receives TensorRT's messages (nil: discarded).
	Log hclog.Logger
}

// Backend is an opened TensorRT with a CUDA context and stream. Close it
// after every Engine built with it.
type Backend struct {
	TRT    *trtlib.Library
	Parser *trtlib.Parser
	ABI    *abi.Lib
	Driver *cudadriver.Driver

	log    hclog.Logger
	logger *abi.Logger
	ctx    *cudadriver.Context
	stream cudadriver.Stream

	mu     sync.Mutex
	errors []string // messages of severity error or worse, since takeErrors

	engines map[*Engine]bool // open engines, closed by Close
}

// Open loads libnvinfer and libnvonnxparser, refuses a major version
// without slot tables, and opens the CUDA driver: its primary context on
// opts.Device and a stream.
func Open(opts Options) (_ *Backend, err error) {
	b := &Backend{log: opts.Log}
	if b.log == nil {
		b.log = hclog.NewNullLogger()
	}
	defer func() {
		if err != nil {
			b.release()
		}
	}()
	if b.TRT, err = trtlib.Open(opts.Lib); err != nil {
		return nil, err
	}
	if err = b.TRT.Supported(); err != nil {
		return nil, err
	}
	if !b.TRT.Builder {
		return nil, fmt.Errorf("tensorrt: %s exports no createInferBuilder_INTERNAL (a lean or dispatch runtime cannot build engines); give the full libnvinfer", b.TRT.Lib.File())
	}
	if b.Parser, err = trtlib.OpenParser(opts.ParserLib); err != nil {
		return nil, err
	}
	if b.ABI, err = abi.New(b.TRT.Lib, b.Parser.Lib, b.TRT.Major, b.TRT.Version); err != nil {
		return nil, err
	}
	if b.Driver, err = cudadriver.Open(opts.CUDALib); err != nil {
		return nil, err
	}
	if err = b.Driver.Init(); err != nil {
		return nil, err
	}
	dev, err := b.Driver.Device(opts.Device)
	if err != nil {
		return nil, err
	}
	if b.ctx, err = b.Driver.PrimaryContext(dev); err != nil {
		return nil, err
	}
	leave, err := b.ctx.Enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	if b.stream, err = b.Driver.NewStream(); err != nil {
		return nil, err
	}
	b.logger = b.ABI.NewLogger(b.logMessage)
	b.log.Debug("tensorrt backend", "version", b.TRT.VersionString(), "lib", b.TRT.Lib.File(), "parser", b.Parser.Lib.File())
	return b, nil
}

// logMessage is the ILogger's log: it forwards to the hclog.Logger, from
// whatever thread TensorRT logs on, and keeps the errors for the next
// failure's message.
func (b *Backend) logMessage(severity int32, msg string) {
	switch severity {
	case abi.SeverityInternalError, abi.SeverityError:
		b.log.Error("tensorrt", "msg", msg)
		b.mu.Lock()
		b.errors = append(b.errors, msg)
		b.mu.Unlock()
	case abi.SeverityWarning:
		b.log.Warn("tensorrt", "msg", msg)
	case abi.SeverityInfo:
		b.log.Debug("tensorrt", "msg", msg)
	default:
		b.log.Trace("tensorrt", "msg", msg)
	}
}

// takeErrors returns and forgets the errors TensorRT logged.
func (b *Backend) takeErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.errors
	b.errors = nil
	return e
}

// withLogged adds what TensorRT logged as errors to err.
func (b *Backend) withLogged(err error) error {
	if msgs := b.takeErrors(); len(msgs) > 0 {
		return fmt.Errorf("%w (TensorRT logged: %s)", err, strings.Join(msgs, "; "))
	}
	return err
}

// Version is the opened TensorRT's version, major.minor.patch.
func (b *Backend) Version() string { return b.TRT.VersionString() }

// Close closes the engines still open (TensorRT keeps the logger until
// its runtimes are deleted), then releases the stream, the context and
// the libraries.
func (b *Backend) Close() error {
	for e := range b.engines {
		e.Close()
	}
	b.release()
	return nil
}

func (b *Backend) release() {
	if b.ctx != nil {
		if leave, err := b.ctx.Enter(); err == nil {
			if b.stream != 0 {
				b.Driver.DestroyStream(b.stream)
				b.stream = 0
			}
			leave()
		}
		b.ctx.Release()
		b.ctx = nil
	}
	if b.logger != nil {
		b.logger.Close()
		b.logger = nil
	}
	if b.Driver != nil {
		b.Driver.Lib.Close()
		b.Driver = nil
	}
	if b.Parser != nil {
		b.Parser.Lib.Close()
		b.Parser = nil
	}
	if b.TRT != nil {
		b.TRT.Lib.Close()
		b.TRT = nil
	}
}

// Supported names the TensorRT versions the backend has slot tables for.
const Supported = "8.6, 10.x and 11.x"

// Checked says how far the backend has been checked against NVIDIA's
// libraries: what `int8cal doctor` and the README state.
const Checked = "engine building and running checked against int8cal's C++ ABI test double only (no full libnvinfer was at hand); runtime creation with the Go logger, deserializeCudaEngine and deletion confirmed on a GPU with NVIDIA's lean runtimes 10.16.1 and 11.4.0"

// Precisions says what the opened version builds: FP16 and implicit INT8
// (a calibrator) up to 10.x; from 11.0 strongly typed networks only, so
// FP32 and INT8 from Q/DQ models.
func (b *Backend) Precisions() string {
	if b.ABI.Major >= 11 {
		return "fp32; int8 from Q/DQ models"
	}
	return "fp32, fp16; int8 from a calibrator or Q/DQ models"
}
