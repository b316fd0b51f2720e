package tensorrt

import (
	trtlib "github.com/int8cal/int8cal/loader/tensorrt"
)

// Report is the TensorRT library Probe found, without opening the
// backend (its ONNX parser, a CUDA context).
type Report struct {
	// Err is why no library was found or loaded; the fields below are
	// set only without it.
	Err error
	// File is where the library was found; Version its version
	// ("10.16.0") and Major its major version.
	File    string
	Version string
	Major   int
	// Unsupported is why int8cal cannot drive this version (nil when it
	// can; see Supported).
	Unsupported error
	// Builder says whether the library can build engines: the lean and
	// dispatch runtimes cannot.
	Builder bool
}

// Probe looks for libnvinfer (lib, else the environment and the sonames)
// and reads its version.
func Probe(lib string) *Report {
	l, err := trtlib.Open(lib)
	if err != nil {
		return &Report{Err: err}
	}
	defer l.Lib.Close()
	return &Report{File: l.Lib.File(), Version: l.VersionString(), Major: l.Major, Unsupported: l.Supported(), Builder: l.Builder}
}

// Usable is why the backend cannot use the library: not found, or a
// version it does not drive; nil when it can (Open says for sure).
func (r *Report) Usable() error {
	if r.Err != nil {
		return r.Err
	}
	return r.Unsupported
}

// Check opens the backend — the proof that it runs here: the library, its
// ONNX parser and a CUDA context — and closes it again, returning the
// version and what it builds (Backend.Precisions).
func Check(opts Options) (version, precisions string, err error) {
	b, err := Open(opts)
	if err != nil {
		return "", "", err
	}
	defer b.Close()
	return b.Version(), b.Precisions(), nil
}
