package cudadriver

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/int8cal/int8cal/loader"
)

// MinVersion is the oldest CUDA version (as cuDriverGetVersion reports it:
// 1000·major + 10·minor) the driver must support: the kernels are
// compiled by NVRTC 12 or newer.
const MinVersion = 12000

// Spec finds the driver: --cuda-lib, $INT8CAL_CUDA_LIB, then the sonames.
var Spec = &loader.Spec{
	Name:    "CUDA driver",
	Env:     "INT8CAL_CUDA_LIB",
	Sonames: []string{"libcuda.so.1", "libcuda.so"},
	Symbols: []string{"cuInit", "cuDriverGetVersion", "cuGetErrorName", "cuGetErrorString"},
}

// Error is a failed driver call.
type Error struct {
	Call    string
	Code    int32
	Name    string // CUDA_ERROR_..., from the driver
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (%d): %s", e.Call, e.Name, e.Code, e.Message)
}

// Result codes the backend tells apart.
const (
	errorNoDevice = 100 // CUDA_ERROR_NO_DEVICE
)

// IsNoDevice reports whether err says that the machine has no CUDA GPU
// (the driver is installed, a device is not).
func IsNoDevice(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Code == errorNoDevice
}

// Driver is the opened driver library.
type Driver struct {
	Lib     *loader.Library
	version int

	cuInit                    func(flags uint32) int32
	cuDriverGetVersion        func(v *int32) int32
	cuGetErrorName            func(code int32, s **byte) int32
	cuGetErrorString          func(code int32, s **byte) int32
	cuDeviceGetCount          func(n *int32) int32
	cuDeviceGet               func(d *int32, ordinal int32) int32
	cuDeviceGetName           func(name *byte, n int32, d int32) int32
	cuDeviceGetAttribute      func(v *int32, attr int32, d int32) int32
	cuDeviceTotalMem          func(bytes *uint64, d int32) int32
	cuDevicePrimaryCtxRetain  func(ctx *uintptr, d int32) int32
	cuDevicePrimaryCtxRelease func(d int32) int32
	cuCtxSetCurrent           func(ctx uintptr) int32
	cuCtxSynchronize          func() int32
	cuMemAlloc                func(p *uint64, bytes uint64) int32
	cuMemFree                 func(p uint64) int32
	cuMemcpyHtoD              func(dst uint64, src unsafe.Pointer, n uint64) int32
	cuMemcpyDtoH              func(dst unsafe.Pointer, src uint64, n uint64) int32
	cuMemcpyDtoD              func(dst, src uint64, n uint64) int32
	cuMemsetD8                func(dst uint64, v uint8, n uint64) int32
	cuMemAllocHost            func(p *unsafe.Pointer, bytes uint64) int32
	cuMemFreeHost             func(p unsafe.Pointer) int32
	cuMemcpyHtoDAsync         func(dst uint64, src unsafe.Pointer, n uint64, s uintptr) int32
	cuMemcpyDtoHAsync         func(dst unsafe.Pointer, src uint64, n uint64, s uintptr) int32
	cuModuleLoadData          func(m *uintptr, image unsafe.Pointer) int32
	cuModuleGetFunction       func(f *uintptr, m uintptr, name string) int32
	cuModuleUnload            func(m uintptr) int32
	cuLaunchKernel            func(f uintptr, gx, gy, gz, bx, by, bz, shared uint32, stream uintptr, params unsafe.Pointer, extra unsafe.Pointer) int32
	cuStreamCreate            func(s *uintptr, flags uint32) int32
	cuStreamDestroy           func(s uintptr) int32
	cuStreamSynchronize       func(s uintptr) int32
	cuStreamBeginCapture      func(s uintptr, mode int32) int32
	cuStreamEndCapture        func(s uintptr, g *uintptr) int32
	cuGraphInstantiate        func(exec *uintptr, g uintptr, flags uint64) int32
	cuGraphLaunch             func(exec uintptr, s uintptr) int32
	cuGraphExecDestroy        func(exec uintptr) int32
	cuGraphDestroy            func(g uintptr) int32
}

// Open loads the driver (explicit, when set, is a path given by a flag)
// and checks that it supports CUDA MinVersion or newer.
func Open(explicit string) (*Driver, error) {
	d := &Driver{}
	spec := *Spec
	spec.Check = func(l *loader.Library) error {
		if err := l.BindAll(
			loader.Binding{Fn: &d.cuInit, Symbol: "cuInit"},
			loader.Binding{Fn: &d.cuDriverGetVersion, Symbol: "cuDriverGetVersion"},
			loader.Binding{Fn: &d.cuGetErrorName, Symbol: "cuGetErrorName"},
			loader.Binding{Fn: &d.cuGetErrorString, Symbol: "cuGetErrorString"},
		); err != nil {
			return err
		}
		var v int32
		if rc := d.cuDriverGetVersion(&v); rc != 0 {
			return &loader.VersionError{Library: spec.Name, Path: l.Path, Got: fmt.Sprintf("unknown (cuDriverGetVersion returned %d)", rc), Want: VersionString(MinVersion) + " or newer"}
		}
		if v < MinVersion {
			return &loader.VersionError{Library: spec.Name, Path: l.Path, Got: "CUDA " + VersionString(int(v)), Want: "CUDA " + VersionString(MinVersion) + " or newer"}
		}
		d.version = int(v)
		return nil
	}
	lib, err := loader.Open(&spec, explicit)
	if err != nil {
		return nil, err
	}
	d.Lib = lib
	if err := lib.BindAll(
		loader.Binding{Fn: &d.cuDeviceGetCount, Symbol: "cuDeviceGetCount"},
		loader.Binding{Fn: &d.cuDeviceGet, Symbol: "cuDeviceGet"},
		loader.Binding{Fn: &d.cuDeviceGetName, Symbol: "cuDeviceGetName"},
		loader.Binding{Fn: &d.cuDeviceGetAttribute, Symbol: "cuDeviceGetAttribute"},
		loader.Binding{Fn: &d.cuDeviceTotalMem, Symbol: "cuDeviceTotalMem_v2"},
		loader.Binding{Fn: &d.cuDevicePrimaryCtxRetain, Symbol: "cuDevicePrimaryCtxRetain"},
		loader.Binding{Fn: &d.cuDevicePrimaryCtxRelease, Symbol: "cuDevicePrimaryCtxRelease_v2"},
		loader.Binding{Fn: &d.cuCtxSetCurrent, Symbol: "cuCtxSetCurrent"},
		loader.Binding{Fn: &d.cuCtxSynchronize, Symbol: "cuCtxSynchronize"},
		loader.Binding{Fn: &d.cuMemAlloc, Symbol: "cuMemAlloc_v2"},
		loader.Binding{Fn: &d.cuMemFree, Symbol: "cuMemFree_v2"},
		loader.Binding{Fn: &d.cuMemcpyHtoD, Symbol: "cuMemcpyHtoD_v2"},
		loader.Binding{Fn: &d.cuMemcpyDtoH, Symbol: "cuMemcpyDtoH_v2"},
		loader.Binding{Fn: &d.cuMemcpyDtoD, Symbol: "cuMemcpyDtoD_v2"},
		loader.Binding{Fn: &d.cuMemsetD8, Symbol: "cuMemsetD8_v2"},
		loader.Binding{Fn: &d.cuMemAllocHost, Symbol: "cuMemAllocHost_v2"},
		loader.Binding{Fn: &d.cuMemFreeHost, Symbol: "cuMemFreeHost"},
		loader.Binding{Fn: &d.cuMemcpyHtoDAsync, Symbol: "cuMemcpyHtoDAsync_v2"},
		loader.Binding{Fn: &d.cuMemcpyDtoHAsync, Symbol: "cuMemcpyDtoHAsync_v2"},
		loader.Binding{Fn: &d.cuModuleLoadData, Symbol: "cuModuleLoadData"},
		loader.Binding{Fn: &d.cuModuleGetFunction, Symbol: "cuModuleGetFunction"},
		loader.Binding{Fn: &d.cuModuleUnload, Symbol: "cuModuleUnload"},
		loader.Binding{Fn: &d.cuLaunchKernel, Symbol: "cuLaunchKernel"},
		loader.Binding{Fn: &d.cuStreamCreate, Symbol: "cuStreamCreate"},
		loader.Binding{Fn: &d.cuStreamDestroy, Symbol: "cuStreamDestroy_v2"},
		loader.Binding{Fn: &d.cuStreamSynchronize, Symbol: "cuStreamSynchronize"},
		loader.Binding{Fn: &d.cuStreamBeginCapture, Symbol: "cuStreamBeginCapture_v2"},
		loader.Binding{Fn: &d.cuStreamEndCapture, Symbol: "cuStreamEndCapture"},
		loader.Binding{Fn: &d.cuGraphInstantiate, Symbol: "cuGraphInstantiateWithFlags"},
		loader.Binding{Fn: &d.cuGraphLaunch, Symbol: "cuGraphLaunch"},
		loader.Binding{Fn: &d.cuGraphExecDestroy, Symbol: "cuGraphExecDestroy"},
		loader.Binding{Fn: &d.cuGraphDestroy, Symbol: "cuGraphDestroy"},
	); err != nil {
		lib.Close()
		return nil, err
	}
	return d, nil
}

// VersionString formats a CUDA version number (13000 → "13.0").
func VersionString(v int) string { return fmt.Sprintf("%d.%d", v/1000, v%1000/10) }

// Version is the CUDA version the driver supports (1000·major + 10·minor).
func (d *Driver) Version() int { return d.version }

// check turns a CUresult into an *Error (nil for CUDA_SUCCESS).
func (d *Driver) check(call string, rc int32) error {
	if rc == 0 {
		return nil
	}
	e := &Error{Call: call, Code: rc, Name: "CUDA_ERROR_UNKNOWN", Message: "unknown error"}
	var s *byte
	if d.cuGetErrorName(rc, &s) == 0 {
		e.Name = loader.CString(s)
	}
	if d.cuGetErrorString(rc, &s) == 0 {
		e.Message = loader.CString(s)
	}
	return e
}

// Init initializes the driver; it must precede every other call.
func (d *Driver) Init() error { return d.check("cuInit", d.cuInit(0)) }

// DeviceCount is the number of CUDA devices.
func (d *Driver) DeviceCount() (int, error) {
	var n int32
	err := d.check("cuDeviceGetCount", d.cuDeviceGetCount(&n))
	return int(n), err
}

// Device is a GPU's driver handle.
type Device int32

// Device returns the device with the given ordinal.
func (d *Driver) Device(ordinal int) (Device, error) {
	var dev int32
	err := d.check("cuDeviceGet", d.cuDeviceGet(&dev, int32(ordinal)))
	return Device(dev), err
}

// Device attributes (CUdevice_attribute).
const (
	AttrMultiprocessorCount  = 16
	AttrComputeCapabilityMaj = 75
	AttrComputeCapabilityMin = 76
)

// Attribute reads a device attribute.
func (d *Driver) Attribute(dev Device, attr int) (int, error) {
	var v int32
	err := d.check("cuDeviceGetAttribute", d.cuDeviceGetAttribute(&v, int32(attr), int32(dev)))
	return int(v), err
}

// DeviceInfo describes a GPU.
type DeviceInfo struct {
	Ordinal      int
	Name         string
	Major, Minor int // compute capability
	SMs          int
	Memory       uint64 // bytes
}

// Describe reads a device's name, compute capability, SM count and memory.
func (d *Driver) Describe(dev Device) (DeviceInfo, error) {
	info := DeviceInfo{Ordinal: int(dev)}
	name := make([]byte, 256)
	if err := d.check("cuDeviceGetName", d.cuDeviceGetName(&name[0], int32(len(name)), int32(dev))); err != nil {
		return info, err
	}
	info.Name = loader.CString(&name[0])
	var err error
	if info.Major, err = d.Attribute(dev, AttrComputeCapabilityMaj); err != nil {
		return info, err
	}
	if info.Minor, err = d.Attribute(dev, AttrComputeCapabilityMin); err != nil {
		return info, err
	}
	if info.SMs, err = d.Attribute(dev, AttrMultiprocessorCount); err != nil {
		return info, err
	}
	err = d.check("cuDeviceTotalMem_v2", d.cuDeviceTotalMem(&info.Memory, int32(dev)))
	return info, err
}

// Context is a device's primary context (shared with the CUDA runtime,
// cuBLAS and TensorRT in the same process).
type Context struct {
	d      *Driver
	dev    Device
	handle uintptr
}

// PrimaryContext retains dev's primary context.
func (d *Driver) PrimaryContext(dev Device) (*Context, error) {
	c := &Context{d: d, dev: dev}
	if err := d.check("cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain(&c.handle, int32(dev))); err != nil {
		return nil, err
	}
	return c, nil
}

// Enter locks the calling goroutine to its OS thread and makes the
// context current there; call the returned function when done.
func (c *Context) Enter() (leave func(), err error) {
	runtime.LockOSThread()
	if err := c.d.check("cuCtxSetCurrent", c.d.cuCtxSetCurrent(c.handle)); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	return runtime.UnlockOSThread, nil
}

// Release releases the primary context.
func (c *Context) Release() error {
	return c.d.check("cuDevicePrimaryCtxRelease_v2", c.d.cuDevicePrimaryCtxRelease(int32(c.dev)))
}

// Synchronize waits for all work of the current context.
func (d *Driver) Synchronize() error { return d.check("cuCtxSynchronize", d.cuCtxSynchronize()) }

// Ptr is a device address (CUdeviceptr).
type Ptr uint64

// Alloc allocates device memory (256-byte aligned, as cuMemAlloc is).
func (d *Driver) Alloc(bytes int) (Ptr, error) {
	var p uint64
	if bytes == 0 {
		bytes = 1
	}
	err := d.check(fmt.Sprintf("cuMemAlloc_v2(%d bytes)", bytes), d.cuMemAlloc(&p, uint64(bytes)))
	return Ptr(p), err
}

// Free releases device memory.
func (d *Driver) Free(p Ptr) error { return d.check("cuMemFree_v2", d.cuMemFree(uint64(p))) }

// CopyToDevice copies n bytes from host memory at src.
func (d *Driver) CopyToDevice(dst Ptr, src unsafe.Pointer, n int) error {
	return d.check("cuMemcpyHtoD_v2", d.cuMemcpyHtoD(uint64(dst), src, uint64(n)))
}

// CopyToHost copies n bytes to host memory at dst.
func (d *Driver) CopyToHost(dst unsafe.Pointer, src Ptr, n int) error {
	return d.check("cuMemcpyDtoH_v2", d.cuMemcpyDtoH(dst, uint64(src), uint64(n)))
}

// CopyOnDevice copies n bytes between device buffers.
func (d *Driver) CopyOnDevice(dst, src Ptr, n int) error {
	return d.check("cuMemcpyDtoD_v2", d.cuMemcpyDtoD(uint64(dst), uint64(src), uint64(n)))
}

// Zero sets n bytes to zero.
func (d *Driver) Zero(dst Ptr, n int) error {
	return d.check("cuMemsetD8_v2", d.cuMemsetD8(uint64(dst), 0, uint64(n)))
}

// HostBuffer is page-locked host memory (cuMemAllocHost): the GPU's copy
// engines read and write it directly, so copies from and to it are
// asynchronous, run at the bus's speed and can be recorded into a graph,
// none of which holds for Go's pageable memory.
type HostBuffer struct {
	p unsafe.Pointer
	n int
}

// AllocHost allocates n bytes of page-locked host memory.
func (d *Driver) AllocHost(n int) (*HostBuffer, error) {
	var p unsafe.Pointer
	if err := d.check(fmt.Sprintf("cuMemAllocHost_v2(%d bytes)", n), d.cuMemAllocHost(&p, uint64(max(n, 1)))); err != nil {
		return nil, err
	}
	return &HostBuffer{p: p, n: n}, nil
}

// FreeHost releases a host buffer; it must not be used afterwards.
func (d *Driver) FreeHost(h *HostBuffer) error {
	if h == nil || h.p == nil {
		return nil
	}
	err := d.check("cuMemFreeHost", d.cuMemFreeHost(h.p))
	h.p, h.n = nil, 0
	return err
}

// Bytes is the buffer's memory as a byte slice (nil once freed).
func (h *HostBuffer) Bytes() []byte {
	if h.p == nil {
		return nil
	}
	return unsafe.Slice((*byte)(h.p), h.n)
}

// CopyToDeviceAsync queues a copy of n bytes of h, from its byte offset
// off, to dst on stream s.
func (d *Driver) CopyToDeviceAsync(dst Ptr, h *HostBuffer, off, n int, s Stream) error {
	if err := h.span(off, n); err != nil {
		return err
	}
	return d.check("cuMemcpyHtoDAsync_v2", d.cuMemcpyHtoDAsync(uint64(dst), unsafe.Add(h.p, off), uint64(n), uintptr(s)))
}

// CopyToHostAsync queues a copy of n bytes from src into h at its byte
// offset off on stream s.
func (d *Driver) CopyToHostAsync(h *HostBuffer, off int, src Ptr, n int, s Stream) error {
	if err := h.span(off, n); err != nil {
		return err
	}
	return d.check("cuMemcpyDtoHAsync_v2", d.cuMemcpyDtoHAsync(unsafe.Add(h.p, off), uint64(src), uint64(n), uintptr(s)))
}

// span refuses a copy outside the buffer (the driver would not notice).
func (h *HostBuffer) span(off, n int) error {
	if h == nil || h.p == nil {
		return fmt.Errorf("host buffer freed or nil")
	}
	if off < 0 || n < 0 || off+n > h.n {
		return fmt.Errorf("%d bytes at offset %d outside a host buffer of %d", n, off, h.n)
	}
	return nil
}

// Module is a loaded PTX or CUBIN image.
type Module uintptr

// LoadModule loads a CUBIN, or NUL-terminated PTX that the driver
// compiles for the device.
func (d *Driver) LoadModule(image []byte) (Module, error) {
	var m uintptr
	err := d.check("cuModuleLoadData", d.cuModuleLoadData(&m, unsafe.Pointer(&image[0])))
	return Module(m), err
}

// Unload releases a module.
func (d *Driver) Unload(m Module) error {
	return d.check("cuModuleUnload", d.cuModuleUnload(uintptr(m)))
}

// Function is a kernel of a loaded module.
type Function uintptr

// Function looks a kernel up by its (extern "C") name.
func (d *Driver) Function(m Module, name string) (Function, error) {
	var f uintptr
	err := d.check("cuModuleGetFunction("+name+")", d.cuModuleGetFunction(&f, uintptr(m), name))
	return Function(f), err
}

// Stream is a CUDA stream (CUstream); 0 is the default stream.
type Stream uintptr

// NewStream creates a stream that synchronizes with the default stream
// (so that the synchronous copies order with its work).
func (d *Driver) NewStream() (Stream, error) {
	var s uintptr
	err := d.check("cuStreamCreate", d.cuStreamCreate(&s, 0))
	return Stream(s), err
}

// DestroyStream releases a stream.
func (d *Driver) DestroyStream(s Stream) error {
	return d.check("cuStreamDestroy_v2", d.cuStreamDestroy(uintptr(s)))
}

// SyncStream waits for a stream's work.
func (d *Driver) SyncStream(s Stream) error {
	return d.check("cuStreamSynchronize", d.cuStreamSynchronize(uintptr(s)))
}

// Launch queues f on stream s. params holds one pointer per kernel
// parameter, to that parameter's value; the values are copied when the
// launch is queued, so they may change afterwards.
func (d *Driver) Launch(f Function, grid, block [3]uint32, shared uint32, s Stream, params []unsafe.Pointer) error {
	var pp unsafe.Pointer
	if len(params) > 0 {
		pp = unsafe.Pointer(&params[0])
	}
	rc := d.cuLaunchKernel(uintptr(f), grid[0], grid[1], grid[2], block[0], block[1], block[2], shared, uintptr(s), pp, nil)
	runtime.KeepAlive(params)
	return d.check("cuLaunchKernel", rc)
}

// Graph is an instantiated CUDA graph (CUgraphExec): a recorded sequence
// of launches replayed with one call.
type Graph struct {
	graph, exec uintptr
}

// captureGlobal is CU_STREAM_CAPTURE_MODE_GLOBAL: any unsafe call during
// the capture (a synchronous copy, say) fails instead of being recorded.
const captureGlobal = 0

// Capture records the work record queues on stream s into a graph.
func (d *Driver) Capture(s Stream, record func() error) (*Graph, error) {
	if err := d.check("cuStreamBeginCapture_v2", d.cuStreamBeginCapture(uintptr(s), captureGlobal)); err != nil {
		return nil, err
	}
	recErr := record()
	g := &Graph{}
	endErr := d.check("cuStreamEndCapture", d.cuStreamEndCapture(uintptr(s), &g.graph))
	if recErr != nil || endErr != nil {
		if g.graph != 0 {
			d.cuGraphDestroy(g.graph)
		}
		if recErr != nil {
			return nil, recErr
		}
		return nil, endErr
	}
	if err := d.check("cuGraphInstantiateWithFlags", d.cuGraphInstantiate(&g.exec, g.graph, 0)); err != nil {
		d.cuGraphDestroy(g.graph)
		return nil, err
	}
	return g, nil
}

// LaunchGraph queues the graph's work on stream s.
func (d *Driver) LaunchGraph(g *Graph, s Stream) error {
	return d.check("cuGraphLaunch", d.cuGraphLaunch(g.exec, uintptr(s)))
}

// DestroyGraph releases a graph.
func (d *Driver) DestroyGraph(g *Graph) {
	d.cuGraphExecDestroy(g.exec)
	d.cuGraphDestroy(g.graph)
}
