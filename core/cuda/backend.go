package cuda

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/loader/cublaslt"
	"github.com/int8cal/int8cal/loader/cudadriver"
	"github.com/int8cal/int8cal/loader/nvrtc"
)

// Libraries are explicit paths of the three libraries (command-line
// flags); empty ones are searched for (environment, then sonames).
type Libraries struct {
	Driver, NVRTC, CublasLt string
}

// Backend is an opened GPU: the libraries, the device's primary context,
// the compiled kernels and a cuBLASLt handle. Engines made from it share
// them. A Backend is not safe for concurrent use.
type Backend struct {
	Device   cudadriver.DeviceInfo
	Driver   *cudadriver.Driver
	Compiler *nvrtc.Compiler
	Lt       *cublaslt.Lib

	ctx    *cudadriver.Context
	module cudadriver.Module
	fns    map[string]cudadriver.Function
	lt     *cublaslt.Handle
	stream cudadriver.Stream // every launch and product goes here
	log    hclog.Logger
	// tensorCoresS8: the GPU has the int8 mma.sync shapes of sm_80 and
	// newer, which the conv_s8 kernels use.
	tensorCoresS8 bool
}

// ErrNoGPU is wrapped by Open's error when the driver is installed but
// finds no CUDA device.
var ErrNoGPU = errors.New("no CUDA GPU")

// Open loads the libraries, picks the device with the given ordinal,
// compiles the kernels for it and creates a cuBLASLt handle.
func Open(libs Libraries, ordinal int, log hclog.Logger) (b *Backend, err error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	b = &Backend{log: log}
	if b.Driver, err = cudadriver.Open(libs.Driver); err != nil {
		return nil, err
	}
	if err := b.Driver.Init(); err != nil {
		if cudadriver.IsNoDevice(err) {
			return nil, fmt.Errorf("%w: %v", ErrNoGPU, err)
		}
		return nil, err
	}
	n, err := b.Driver.DeviceCount()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: the CUDA driver %s finds no device", ErrNoGPU, b.Driver.Lib.Path)
	}
	if ordinal < 0 || ordinal >= n {
		return nil, fmt.Errorf("CUDA device %d does not exist: the driver finds %d (0 to %d)", ordinal, n, n-1)
	}
	dev, err := b.Driver.Device(ordinal)
	if err != nil {
		return nil, err
	}
	if b.Device, err = b.Driver.Describe(dev); err != nil {
		return nil, err
	}
	b.tensorCoresS8 = b.Device.Major >= 8
	if b.Compiler, err = nvrtc.Open(libs.NVRTC); err != nil {
		return nil, err
	}
	if b.Lt, err = cublaslt.Open(libs.CublasLt); err != nil {
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
	defer func() {
		if err != nil {
			b.release()
		}
	}()
	image, err := kernelImage(b.Compiler, b.Device.Major, b.Device.Minor, log)
	if err != nil {
		return nil, err
	}
	if b.module, err = b.Driver.LoadModule(image); err != nil {
		return nil, fmt.Errorf("loading the kernels for sm_%d%d: %w", b.Device.Major, b.Device.Minor, err)
	}
	b.fns = map[string]cudadriver.Function{}
	for _, name := range kernelNames {
		if b.fns[name], err = b.Driver.Function(b.module, name); err != nil {
			return nil, err
		}
	}
	if b.lt, err = b.Lt.Create(); err != nil {
		return nil, err
	}
	if b.stream, err = b.Driver.NewStream(); err != nil {
		return nil, err
	}
	log.Debug("CUDA backend", "device", b.Device.Name, "sm", fmt.Sprintf("%d.%d", b.Device.Major, b.Device.Minor),
		"cuda", cudadriver.VersionString(b.Driver.Version()), "driver", b.Driver.Lib.Path, "nvrtc", b.Compiler.Lib.Path, "cublaslt", b.Lt.Lib.Path)
	return b, nil
}

// Close releases the context's resources.
func (b *Backend) Close() error {
	leave, err := b.ctx.Enter()
	if err != nil {
		return err
	}
	defer leave()
	b.release()
	return nil
}

func (b *Backend) release() {
	if b.stream != 0 {
		b.Driver.DestroyStream(b.stream)
		b.stream = 0
	}
	if b.lt != nil {
		b.lt.Destroy()
		b.lt = nil
	}
	if b.module != 0 {
		b.Driver.Unload(b.module)
		b.module = 0
	}
	if b.ctx != nil {
		b.ctx.Release()
	}
}

// enter makes the backend's context current on a locked thread.
func (b *Backend) enter() (func(), error) { return b.ctx.Enter() }

// launch is one kernel launch with its arguments, prepared once and
// queued on every run.
type launch struct {
	fn          cudadriver.Function
	name        string
	grid, block [3]uint32
	shared      uint32
	params      []unsafe.Pointer
	keep        []reflect.Value // the argument values params point to
}

// threadsPerBlock is the block size of the one-dimensional kernels.
const threadsPerBlock = 256

// kernel prepares a launch of name over threads threads (one-dimensional
// grid). Each argument is copied: device pointers (cudadriver.Ptr),
// int32, float32, float64, uint64 and the geometry structs, laid out as
// their C counterparts in kernels.cu.
func (b *Backend) kernel(name string, threads int, args ...any) *launch {
	blocks := (threads + threadsPerBlock - 1) / threadsPerBlock
	return b.kernelGrid(name, max(blocks, 1), threadsPerBlock, 0, args...)
}

func (b *Backend) kernelGrid(name string, blocks, threads int, shared uint32, args ...any) *launch {
	l := &launch{fn: b.fns[name], name: name, grid: [3]uint32{uint32(blocks), 1, 1}, block: [3]uint32{uint32(threads), 1, 1}, shared: shared}
	for _, a := range args {
		v := reflect.New(reflect.TypeOf(a))
		v.Elem().Set(reflect.ValueOf(a))
		l.keep = append(l.keep, v)
		l.params = append(l.params, v.UnsafePointer())
	}
	return l
}

// kernelGrid2 prepares a launch over a two-dimensional grid of blocks of
// threadsPerBlock threads.
func (b *Backend) kernelGrid2(name string, grid [2]int, args ...any) *launch {
	l := b.kernelGrid(name, grid[0], threadsPerBlock, 0, args...)
	l.grid[1] = uint32(grid[1])
	return l
}

func (b *Backend) run(l *launch) error {
	if err := b.Driver.Launch(l.fn, l.grid, l.block, l.shared, b.stream, l.params); err != nil {
		return fmt.Errorf("kernel %s: %w", l.name, err)
	}
	return nil
}

// upload copies a host slice to new device memory.
func upload[T any](b *Backend, v []T) (cudadriver.Ptr, error) {
	n := len(v) * int(unsafe.Sizeof(*new(T)))
	p, err := b.Driver.Alloc(n)
	if err != nil || n == 0 {
		return p, err
	}
	if err := b.Driver.CopyToDevice(p, unsafe.Pointer(&v[0]), n); err != nil {
		b.Driver.Free(p)
		return 0, err
	}
	return p, nil
}

// download copies device memory into a host slice.
func download[T any](b *Backend, dst []T, src cudadriver.Ptr) error {
	if len(dst) == 0 {
		return nil
	}
	return b.Driver.CopyToHost(unsafe.Pointer(&dst[0]), src, len(dst)*int(unsafe.Sizeof(*new(T))))
}
