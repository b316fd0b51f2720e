package loader

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unsafe"
)

// Spec describes a library to open.
type Spec struct {
	// Name is the library as users know it, e.g. "CUDA driver".
	Name string
	// Env names an environment variable holding a path to the library,
	// e.g. INT8CAL_CUDA_LIB.
	Env string
	// Sonames are tried through the system loader, most specific first,
	// e.g. libcuda.so.1, then libcuda.so.
	Sonames []string
	// Symbols must all be present.
	Symbols []string
	// Check, when set, verifies the opened library (its version, say) and
	// returns a *VersionError, or another error, to refuse it.
	Check func(*Library) error
}

// Library is an opened library.
type Library struct {
	Spec   *Spec
	Path   string // the path or soname it was opened by
	handle uintptr
}

// Attempt is one place Open tried and why it failed.
type Attempt struct {
	Where, Why string
}

// NotFoundError says that no candidate could be opened.
type NotFoundError struct {
	Library  string
	Attempts []Attempt
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s library not found; tried", e.Library)
	for i, a := range e.Attempts {
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s (%s)", a.Where, a.Why)
	}
	return b.String()
}

// MissingSymbolError says that an opened library lacks a required symbol
// (it is too old, or not the library it claims to be).
type MissingSymbolError struct {
	Library, Path, Symbol string
}

func (e *MissingSymbolError) Error() string {
	return fmt.Sprintf("%s library %s has no symbol %s (too old, or another library of the same name)", e.Library, e.Path, e.Symbol)
}

// VersionError says that the opened library's version is not supported.
type VersionError struct {
	Library, Path, Got, Want string
}

func (e *VersionError) Error() string {
	if e.Path == "" { // a version refused before any library is opened
		return fmt.Sprintf("%s version %s is not supported; supported: %s", e.Library, e.Got, e.Want)
	}
	return fmt.Sprintf("%s library %s is version %s; supported: %s", e.Library, e.Path, e.Got, e.Want)
}

// Open finds and opens the library of spec. explicit, when not empty, is
// tried first (a command-line flag); an explicit path or a path in the
// environment variable that cannot be opened is reported, never silently
// passed over.
func Open(spec *Spec, explicit string) (*Library, error) {
	var tried []Attempt
	try := func(where, path string) (*Library, error) {
		h, err := dlopen(path)
		if err != nil {
			tried = append(tried, Attempt{Where: where, Why: firstLine(err.Error())})
			return nil, nil
		}
		lib := &Library{Spec: spec, Path: path, handle: h}
		for _, sym := range spec.Symbols {
			if _, err := dlsym(h, sym); err != nil {
				dlclose(h)
				return nil, &MissingSymbolError{Library: spec.Name, Path: path, Symbol: sym}
			}
		}
		if spec.Check != nil {
			if err := spec.Check(lib); err != nil {
				dlclose(h)
				return nil, err
			}
		}
		return lib, nil
	}
	if explicit != "" {
		lib, err := try(explicit, explicit)
		if lib != nil || err != nil {
			return lib, err
		}
		return nil, &NotFoundError{Library: spec.Name, Attempts: tried}
	}
	if spec.Env != "" {
		if p := os.Getenv(spec.Env); p != "" {
			lib, err := try("$"+spec.Env+"="+p, p)
			if lib != nil || err != nil {
				return lib, err
			}
			return nil, &NotFoundError{Library: spec.Name, Attempts: tried}
		}
	}
	for _, name := range spec.Sonames {
		lib, err := try(name, name)
		if lib != nil || err != nil {
			return lib, err
		}
	}
	return nil, &NotFoundError{Library: spec.Name, Attempts: tried}
}

// Symbol returns the address of name, or a *MissingSymbolError.
func (l *Library) Symbol(name string) (uintptr, error) {
	p, err := dlsym(l.handle, name)
	if err != nil || p == 0 {
		return 0, &MissingSymbolError{Library: l.Spec.Name, Path: l.Path, Symbol: name}
	}
	return p, nil
}

// Bind makes fptr (a pointer to a func variable) call the library's
// symbol name; the symbol is probed first, so a missing one is an error,
// not purego's panic.
func (l *Library) Bind(fptr any, name string) error {
	p, err := l.Symbol(name)
	if err != nil {
		return err
	}
	return bind(fptr, p)
}

// Close releases the library.
func (l *Library) Close() error { return dlclose(l.handle) }

// IsNotFound reports whether err says a library was not found.
func IsNotFound(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Binding pairs a pointer to a func variable with the symbol it calls.
type Binding struct {
	Fn     any
	Symbol string
}

// BindAll binds every pair, stopping at the first missing symbol.
func (l *Library) BindAll(bs ...Binding) error {
	for _, b := range bs {
		if err := l.Bind(b.Fn, b.Symbol); err != nil {
			return err
		}
	}
	return nil
}

// CString copies the NUL-terminated string at p (owned by the library),
// or "" for a null pointer.
func CString(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}

// Preload opens the library at path for good, so that a library opened
// later that loads it by soname (NVRTC its builtins, say) finds it even
// outside the system loader's search path.
func Preload(path string) error {
	_, err := dlopen(path)
	return err
}
