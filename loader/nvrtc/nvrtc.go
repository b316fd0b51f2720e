package nvrtc

import (
	"fmt"
	"path/filepath"
	"strings"
	"unsafe"

	"github.com/int8cal/int8cal/loader"
)

// MinMajor is the oldest NVRTC major version supported.
const MinMajor = 12

// Spec finds NVRTC: --nvrtc-lib, $INT8CAL_NVRTC_LIB, then the sonames of
// CUDA 13 and 12, then the CUDA toolkit's default directory.
var Spec = &loader.Spec{
	Name:    "NVRTC",
	Env:     "INT8CAL_NVRTC_LIB",
	Sonames: []string{"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so", "/usr/local/cuda/lib64/libnvrtc.so.13", "/usr/local/cuda/lib64/libnvrtc.so.12"},
	Symbols: []string{"nvrtcVersion", "nvrtcCreateProgram", "nvrtcCompileProgram", "nvrtcGetProgramLog"},
}

// Compiler is the opened library.
type Compiler struct {
	Lib          *loader.Library
	major, minor int

	nvrtcVersion           func(major, minor *int32) int32
	nvrtcGetErrorString    func(rc int32) *byte
	nvrtcCreateProgram     func(p *uintptr, src, name string, n int32, headers, names unsafe.Pointer) int32
	nvrtcCompileProgram    func(p uintptr, n int32, options unsafe.Pointer) int32
	nvrtcGetProgramLogSize func(p uintptr, n *uint64) int32
	nvrtcGetProgramLog     func(p uintptr, buf *byte) int32
	nvrtcGetPTXSize        func(p uintptr, n *uint64) int32
	nvrtcGetPTX            func(p uintptr, buf *byte) int32
	nvrtcGetCUBINSize      func(p uintptr, n *uint64) int32
	nvrtcGetCUBIN          func(p uintptr, buf *byte) int32
	nvrtcDestroyProgram    func(p *uintptr) int32
}

// Open loads NVRTC and checks its version.
func Open(explicit string) (*Compiler, error) {
	c := &Compiler{}
	spec := *Spec
	spec.Check = func(l *loader.Library) error {
		if err := l.Bind(&c.nvrtcVersion, "nvrtcVersion"); err != nil {
			return err
		}
		var major, minor int32
		if rc := c.nvrtcVersion(&major, &minor); rc != 0 {
			return fmt.Errorf("NVRTC library %s: nvrtcVersion failed (%d)", l.Path, rc)
		}
		if major < MinMajor {
			return &loader.VersionError{Library: spec.Name, Path: l.Path, Got: fmt.Sprintf("%d.%d", major, minor), Want: fmt.Sprintf("%d.0 or newer", MinMajor)}
		}
		// NVRTC loads libnvrtc-builtins.so.<major>.<minor> by name when it
		// compiles; a copy outside the loader's path (a pip wheel's) needs
		// its builtins loaded first from beside it.
		if dir := filepath.Dir(l.Path); strings.Contains(l.Path, "/") {
			_ = loader.Preload(filepath.Join(dir, fmt.Sprintf("libnvrtc-builtins.so.%d.%d", major, minor)))
		}
		c.major, c.minor = int(major), int(minor)
		return nil
	}
	lib, err := loader.Open(&spec, explicit)
	if err != nil {
		return nil, err
	}
	c.Lib = lib
	if err := lib.BindAll(
		loader.Binding{Fn: &c.nvrtcGetErrorString, Symbol: "nvrtcGetErrorString"},
		loader.Binding{Fn: &c.nvrtcCreateProgram, Symbol: "nvrtcCreateProgram"},
		loader.Binding{Fn: &c.nvrtcCompileProgram, Symbol: "nvrtcCompileProgram"},
		loader.Binding{Fn: &c.nvrtcGetProgramLogSize, Symbol: "nvrtcGetProgramLogSize"},
		loader.Binding{Fn: &c.nvrtcGetProgramLog, Symbol: "nvrtcGetProgramLog"},
		loader.Binding{Fn: &c.nvrtcGetPTXSize, Symbol: "nvrtcGetPTXSize"},
		loader.Binding{Fn: &c.nvrtcGetPTX, Symbol: "nvrtcGetPTX"},
		loader.Binding{Fn: &c.nvrtcGetCUBINSize, Symbol: "nvrtcGetCUBINSize"},
		loader.Binding{Fn: &c.nvrtcGetCUBIN, Symbol: "nvrtcGetCUBIN"},
		loader.Binding{Fn: &c.nvrtcDestroyProgram, Symbol: "nvrtcDestroyProgram"},
	); err != nil {
		lib.Close()
		return nil, err
	}
	return c, nil
}

// Version is NVRTC's version (its CUDA toolkit's).
func (c *Compiler) Version() (major, minor int) { return c.major, c.minor }

// Error is a failed NVRTC call other than a compilation error.
type Error struct {
	Call    string
	Code    int32
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s (%d)", e.Call, e.Message, e.Code) }

// CompileError is a program that did not compile, with NVRTC's log.
type CompileError struct {
	Program string
	Log     string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("NVRTC could not compile %s:\n%s", e.Program, strings.TrimSpace(e.Log))
}

// errCompilation is NVRTC_ERROR_COMPILATION.
const errCompilation = 6

func (c *Compiler) check(call string, rc int32) error {
	if rc == 0 {
		return nil
	}
	return &Error{Call: call, Code: rc, Message: loader.CString(c.nvrtcGetErrorString(rc))}
}

// Output is a compiled program.
type Output struct {
	// Image is what cuModuleLoadData takes: a CUBIN for a real
	// architecture (sm_XY), NUL-terminated PTX for a virtual one
	// (compute_XY).
	Image []byte
	// CUBIN says which of the two Image is.
	CUBIN bool
	// Log is the compiler's log (warnings), possibly empty.
	Log string
}

// Compile compiles CUDA C++ source named name with the given options
// (e.g. --gpu-architecture=sm_90). The image is a CUBIN when the
// architecture is a real one (sm_*), PTX otherwise.
func (c *Compiler) Compile(src, name string, options []string) (*Output, error) {
	var prog uintptr
	if err := c.check("nvrtcCreateProgram", c.nvrtcCreateProgram(&prog, src, name, 0, nil, nil)); err != nil {
		return nil, err
	}
	defer c.nvrtcDestroyProgram(&prog)
	// The option strings must stay in memory NVRTC can read for the call:
	// NUL-terminated byte slices, pointed to by a slice of pointers.
	bufs := make([][]byte, len(options))
	ptrs := make([]*byte, len(options))
	for i, o := range options {
		bufs[i] = append([]byte(o), 0)
		ptrs[i] = &bufs[i][0]
	}
	var opts unsafe.Pointer
	if len(ptrs) > 0 {
		opts = unsafe.Pointer(&ptrs[0])
	}
	rc := c.nvrtcCompileProgram(prog, int32(len(options)), opts)
	out := &Output{Log: c.log(prog)}
	if rc == errCompilation {
		return nil, &CompileError{Program: name, Log: out.Log}
	}
	if err := c.check("nvrtcCompileProgram", rc); err != nil {
		return nil, err
	}
	out.CUBIN = realArch(options)
	size, get, call := c.nvrtcGetPTXSize, c.nvrtcGetPTX, "nvrtcGetPTX"
	if out.CUBIN {
		size, get, call = c.nvrtcGetCUBINSize, c.nvrtcGetCUBIN, "nvrtcGetCUBIN"
	}
	var n uint64
	if err := c.check(call+"Size", size(prog, &n)); err != nil {
		return nil, err
	}
	out.Image = make([]byte, n+1) // PTX sizes include the NUL; one spare byte either way
	if err := c.check(call, get(prog, &out.Image[0])); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Compiler) log(prog uintptr) string {
	var n uint64
	if c.nvrtcGetProgramLogSize(prog, &n) != 0 || n <= 1 {
		return ""
	}
	buf := make([]byte, n)
	if c.nvrtcGetProgramLog(prog, &buf[0]) != 0 {
		return ""
	}
	return strings.TrimRight(string(buf), "\x00")
}

// realArch reports whether the options target a real architecture.
func realArch(options []string) bool {
	for _, o := range options {
		for _, p := range []string{"--gpu-architecture=", "-arch=", "-arch"} {
			if a, ok := strings.CutPrefix(o, p); ok {
				return strings.HasPrefix(a, "sm_")
			}
		}
	}
	return false
}
