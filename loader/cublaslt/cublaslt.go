package cublaslt

import (
	"fmt"
	"unsafe"

	"github.com/int8cal/int8cal/loader"
)

// MinVersion is the oldest cuBLASLt supported (11.0: INT8 with regular
// ordering and the 96-byte heuristic result).
const MinVersion = 110000

// Spec finds cuBLASLt: --cublaslt-lib, $INT8CAL_CUBLASLT_LIB, then the
// sonames of CUDA 13 and 12, then the CUDA toolkit's default directory.
var Spec = &loader.Spec{
	Name:    "cuBLASLt",
	Env:     "INT8CAL_CUBLASLT_LIB",
	Sonames: []string{"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so", "/usr/local/cuda/lib64/libcublasLt.so.13", "/usr/local/cuda/lib64/libcublasLt.so.12"},
	Symbols: []string{"cublasLtGetVersion", "cublasLtCreate", "cublasLtMatmul"},
}

// Data and compute types (library_types.h, cublas_api.h).
const (
	R32F = 0  // CUDA_R_32F
	R16F = 2  // CUDA_R_16F
	R8I  = 3  // CUDA_R_8I
	R32I = 10 // CUDA_R_32I

	Compute32F = 68 // CUBLAS_COMPUTE_32F
	Compute32I = 72 // CUBLAS_COMPUTE_32I

	OpN = 0 // CUBLAS_OP_N
	OpT = 1 // CUBLAS_OP_T
)

// Matmul descriptor, layout and preference attributes used here.
const (
	descTransA       = 3 // CUBLASLT_MATMUL_DESC_TRANSA
	descTransB       = 4 // CUBLASLT_MATMUL_DESC_TRANSB
	prefMaxWorkspace = 1 // CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES
)

// Lib is the opened library.
type Lib struct {
	Lib     *loader.Library
	version int

	cublasLtGetVersion                   func() uint64
	cublasLtGetStatusName                func(rc int32) *byte
	cublasLtCreate                       func(h *uintptr) int32
	cublasLtDestroy                      func(h uintptr) int32
	cublasLtMatmulDescCreate             func(d *uintptr, compute int32, scale int32) int32
	cublasLtMatmulDescDestroy            func(d uintptr) int32
	cublasLtMatmulDescSetAttribute       func(d uintptr, attr int32, buf unsafe.Pointer, size uint64) int32
	cublasLtMatrixLayoutCreate           func(l *uintptr, typ int32, rows, cols uint64, ld int64) int32
	cublasLtMatrixLayoutDestroy          func(l uintptr) int32
	cublasLtMatmulPreferenceCreate       func(p *uintptr) int32
	cublasLtMatmulPreferenceDestroy      func(p uintptr) int32
	cublasLtMatmulPreferenceSetAttribute func(p uintptr, attr int32, buf unsafe.Pointer, size uint64) int32
	cublasLtMatmulAlgoGetHeuristic       func(h, desc, a, b, c, d, pref uintptr, requested int32, results unsafe.Pointer, returned *int32) int32
	cublasLtMatmul                       func(h, desc uintptr, alpha unsafe.Pointer, a uint64, adesc uintptr, b uint64, bdesc uintptr, beta unsafe.Pointer, c uint64, cdesc uintptr, d uint64, ddesc uintptr, algo unsafe.Pointer, ws uint64, wsSize uint64, stream uintptr) int32
}

// Open loads cuBLASLt and checks its version.
func Open(explicit string) (*Lib, error) {
	l := &Lib{}
	spec := *Spec
	spec.Check = func(lib *loader.Library) error {
		if err := lib.Bind(&l.cublasLtGetVersion, "cublasLtGetVersion"); err != nil {
			return err
		}
		v := int(l.cublasLtGetVersion())
		if v < MinVersion {
			return &loader.VersionError{Library: spec.Name, Path: lib.Path, Got: VersionString(v), Want: VersionString(MinVersion) + " or newer"}
		}
		l.version = v
		return nil
	}
	lib, err := loader.Open(&spec, explicit)
	if err != nil {
		return nil, err
	}
	l.Lib = lib
	if err := lib.BindAll(
		loader.Binding{Fn: &l.cublasLtGetStatusName, Symbol: "cublasLtGetStatusName"},
		loader.Binding{Fn: &l.cublasLtCreate, Symbol: "cublasLtCreate"},
		loader.Binding{Fn: &l.cublasLtDestroy, Symbol: "cublasLtDestroy"},
		loader.Binding{Fn: &l.cublasLtMatmulDescCreate, Symbol: "cublasLtMatmulDescCreate"},
		loader.Binding{Fn: &l.cublasLtMatmulDescDestroy, Symbol: "cublasLtMatmulDescDestroy"},
		loader.Binding{Fn: &l.cublasLtMatmulDescSetAttribute, Symbol: "cublasLtMatmulDescSetAttribute"},
		loader.Binding{Fn: &l.cublasLtMatrixLayoutCreate, Symbol: "cublasLtMatrixLayoutCreate"},
		loader.Binding{Fn: &l.cublasLtMatrixLayoutDestroy, Symbol: "cublasLtMatrixLayoutDestroy"},
		loader.Binding{Fn: &l.cublasLtMatmulPreferenceCreate, Symbol: "cublasLtMatmulPreferenceCreate"},
		loader.Binding{Fn: &l.cublasLtMatmulPreferenceDestroy, Symbol: "cublasLtMatmulPreferenceDestroy"},
		loader.Binding{Fn: &l.cublasLtMatmulPreferenceSetAttribute, Symbol: "cublasLtMatmulPreferenceSetAttribute"},
		loader.Binding{Fn: &l.cublasLtMatmulAlgoGetHeuristic, Symbol: "cublasLtMatmulAlgoGetHeuristic"},
		loader.Binding{Fn: &l.cublasLtMatmul, Symbol: "cublasLtMatmul"},
	); err != nil {
		lib.Close()
		return nil, err
	}
	return l, nil
}

// VersionString formats cublasLtGetVersion's number (130001 → "13.0.1").
func VersionString(v int) string { return fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100) }

// Version is cublasLtGetVersion's number (10000·major + 100·minor + patch).
func (l *Lib) Version() int { return l.version }

// Error is a failed cuBLASLt call.
type Error struct {
	Call   string
	Status int32
	Name   string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s (%d)", e.Call, e.Name, e.Status) }

func (l *Lib) check(call string, rc int32) error {
	if rc == 0 {
		return nil
	}
	return &Error{Call: call, Status: rc, Name: loader.CString(l.cublasLtGetStatusName(rc))}
}

// Handle is a cuBLASLt context (cublasLtHandle_t); it uses the CUDA
// context current when it is created.
type Handle struct {
	l *Lib
	h uintptr
}

// Create makes a handle.
func (l *Lib) Create() (*Handle, error) {
	h := &Handle{l: l}
	if err := l.check("cublasLtCreate", l.cublasLtCreate(&h.h)); err != nil {
		return nil, err
	}
	return h, nil
}

// Destroy releases the handle.
func (h *Handle) Destroy() error { return h.l.check("cublasLtDestroy", h.l.cublasLtDestroy(h.h)) }

// Shape is one product D = op(A)·op(B) (column-major, as cuBLASLt): D is
// M×N, op(A) M×K, op(B) K×N; LDA, LDB, LDD are the leading dimensions of
// the stored matrices.
type Shape struct {
	M, N, K       int
	TransA        bool
	TransB        bool
	LDA, LDB, LDD int
}

// Types are the element types of A and B, of D (and C), the compute type
// and the type of alpha and beta.
type Types struct {
	AB, D, Compute, Scale int32
}

// The three type combinations the cuda backend uses.
var (
	FP32 = Types{AB: R32F, D: R32F, Compute: Compute32F, Scale: R32F}
	FP16 = Types{AB: R16F, D: R32F, Compute: Compute32F, Scale: R32F}
	INT8 = Types{AB: R8I, D: R32I, Compute: Compute32I, Scale: R32I}
)

// Matmul is a prepared product: descriptors, layouts and the algorithm
// cuBLASLt's heuristic chose.
type Matmul struct {
	h                   *Handle
	shape               Shape
	types               Types
	desc, a, b, d, pref uintptr
	algos               [][heuristicSize]byte // cublasLtMatmulHeuristicResult_t each; algo is its first 64 bytes
	chosen              int
	Workspace           int // bytes the chosen algorithm needs
	oneF, zeroF         float32
	oneI, zeroI         int32
}

// heuristicSize is sizeof(cublasLtMatmulHeuristicResult_t): algo
// (8×uint64), workspaceSize, state, wavesCount, reserved[4].
const heuristicSize = 96

// New prepares D = op(A)·op(B) with the given types, letting the
// algorithm use up to maxWorkspace bytes of workspace.
func (h *Handle) New(s Shape, t Types, maxWorkspace int) (*Matmul, error) {
	if t.AB == R8I {
		if err := checkIMMA(s); err != nil {
			return nil, err
		}
	}
	l := h.l
	m := &Matmul{h: h, shape: s, types: t, oneF: 1, oneI: 1}
	fail := func(err error) (*Matmul, error) { m.Destroy(); return nil, err }
	if err := l.check("cublasLtMatmulDescCreate", l.cublasLtMatmulDescCreate(&m.desc, t.Compute, t.Scale)); err != nil {
		return fail(err)
	}
	for _, a := range []struct {
		attr  int32
		trans bool
	}{{descTransA, s.TransA}, {descTransB, s.TransB}} {
		op := int32(OpN)
		if a.trans {
			op = OpT
		}
		if err := l.check("cublasLtMatmulDescSetAttribute", l.cublasLtMatmulDescSetAttribute(m.desc, a.attr, unsafe.Pointer(&op), 4)); err != nil {
			return fail(err)
		}
	}
	rowsA, colsA := s.M, s.K
	if s.TransA {
		rowsA, colsA = s.K, s.M
	}
	rowsB, colsB := s.K, s.N
	if s.TransB {
		rowsB, colsB = s.N, s.K
	}
	for _, lay := range []struct {
		dst        *uintptr
		typ        int32
		rows, cols int
		ld         int
	}{{&m.a, t.AB, rowsA, colsA, s.LDA}, {&m.b, t.AB, rowsB, colsB, s.LDB}, {&m.d, t.D, s.M, s.N, s.LDD}} {
		if err := l.check("cublasLtMatrixLayoutCreate", l.cublasLtMatrixLayoutCreate(lay.dst, lay.typ, uint64(lay.rows), uint64(lay.cols), int64(lay.ld))); err != nil {
			return fail(err)
		}
	}
	if err := l.check("cublasLtMatmulPreferenceCreate", l.cublasLtMatmulPreferenceCreate(&m.pref)); err != nil {
		return fail(err)
	}
	ws := uint64(maxWorkspace)
	if err := l.check("cublasLtMatmulPreferenceSetAttribute", l.cublasLtMatmulPreferenceSetAttribute(m.pref, prefMaxWorkspace, unsafe.Pointer(&ws), 8)); err != nil {
		return fail(err)
	}
	results := make([][heuristicSize]byte, maxCandidates)
	var found int32
	if err := l.check("cublasLtMatmulAlgoGetHeuristic", l.cublasLtMatmulAlgoGetHeuristic(h.h, m.desc, m.a, m.b, m.d, m.d, m.pref, maxCandidates, unsafe.Pointer(&results[0]), &found)); err != nil {
		return fail(fmt.Errorf("%w (product %s)", err, m))
	}
	if found == 0 {
		return fail(fmt.Errorf("cuBLASLt has no algorithm for the product %s", m))
	}
	m.algos = results[:found]
	m.Choose(0)
	return m, nil
}

// maxCandidates is how many algorithms New asks cuBLASLt's heuristic for,
// best guess first; callers may time them and Choose.
const maxCandidates = 8

// Candidates is the number of algorithms the heuristic offered.
func (m *Matmul) Candidates() int { return len(m.algos) }

// Choose makes Run use candidate i (0, the heuristic's first choice, by
// default) and sets Workspace to what it needs.
func (m *Matmul) Choose(i int) {
	m.chosen = i
	m.Workspace = int(*(*uint64)(unsafe.Pointer(&m.algos[i][64])))
}

// checkIMMA enforces the regular-ordering INT8 rules (cuBLAS docs,
// cublasLtMatmul: "TN" only, m and k and every leading dimension
// multiples of 4).
func checkIMMA(s Shape) error {
	switch {
	case !s.TransA || s.TransB:
		return fmt.Errorf("cuBLASLt INT8 needs A transposed and B not (TN)")
	case s.M%4 != 0 || s.K%4 != 0:
		return fmt.Errorf("cuBLASLt INT8 needs m (%d) and k (%d) to be multiples of 4", s.M, s.K)
	case s.LDA%4 != 0 || s.LDB%4 != 0 || s.LDD%4 != 0:
		return fmt.Errorf("cuBLASLt INT8 needs leading dimensions (%d, %d, %d) that are multiples of 4", s.LDA, s.LDB, s.LDD)
	}
	return nil
}

func (m *Matmul) String() string {
	s := m.shape
	return fmt.Sprintf("%dx%dx%d (trans %v/%v, ld %d/%d/%d, types %d→%d compute %d)", s.M, s.N, s.K, s.TransA, s.TransB, s.LDA, s.LDB, s.LDD, m.types.AB, m.types.D, m.types.Compute)
}

// Run queues D = op(A)·op(B) on stream (a CUstream, 0 for the default
// one); ws is a device buffer of at least Workspace bytes (may be 0 when
// Workspace is 0).
func (m *Matmul) Run(a, b, d, ws uint64, stream uintptr) error {
	alpha, beta := unsafe.Pointer(&m.oneF), unsafe.Pointer(&m.zeroF)
	if m.types.Scale == R32I {
		alpha, beta = unsafe.Pointer(&m.oneI), unsafe.Pointer(&m.zeroI)
	}
	l := m.h.l
	return l.check("cublasLtMatmul", l.cublasLtMatmul(m.h.h, m.desc, alpha, a, m.a, b, m.b, beta, d, m.d, d, m.d, unsafe.Pointer(&m.algos[m.chosen][0]), ws, uint64(m.Workspace), stream))
}

// Destroy releases the descriptors.
func (m *Matmul) Destroy() {
	l := m.h.l
	if m.pref != 0 {
		l.cublasLtMatmulPreferenceDestroy(m.pref)
	}
	for _, lay := range []uintptr{m.a, m.b, m.d} {
		if lay != 0 {
			l.cublasLtMatrixLayoutDestroy(lay)
		}
	}
	if m.desc != 0 {
		l.cublasLtMatmulDescDestroy(m.desc)
	}
	*m = Matmul{h: m.h}
}
