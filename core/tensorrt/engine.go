package tensorrt

import (
	"fmt"
	"sort"
	"unsafe"

	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/loader/cudadriver"
	"github.com/int8cal/int8cal/loader/tensorrt/abi"
)

// Engine is a built TensorRT engine with its execution context. It runs
// on the backend's stream; it is not safe for concurrent use.
type Engine struct {
	// Plan is the serialized engine, as buildSerializedNetwork made it.
	Plan []byte

	b   *Backend
	rt  abi.Runtime
	eng abi.Engine
	ctx abi.Context
	io  []ioTensor
	// bound says the device buffers are allocated and their addresses
	// given to the context.
	bound bool
}

// ioTensor is one of the engine's inputs or outputs and its device
// buffer.
type ioTensor struct {
	Name  string
	Mode  int32 // abi.IOInput or abi.IOOutput
	Shape []int
	// Dynamic says the engine's shape has dynamic dimensions, which the
	// optimization profile fixed to Shape: setInputShape before the
	// first enqueueV3.
	Dynamic bool
	ptr     cudadriver.Ptr
}

func (t *ioTensor) bytes() int { return 4 * tensor.NumElements(t.Shape) }

// Tensor describes an I/O tensor: its name, shape and whether it is an
// input.
type Tensor struct {
	Name  string
	Shape []int
	Input bool
}

// IO lists the engine's I/O tensors in the engine's order.
func (e *Engine) IO() []Tensor {
	var out []Tensor
	for _, t := range e.io {
		out = append(out, Tensor{Name: t.Name, Shape: append([]int(nil), t.Shape...), Input: t.Mode == abi.IOInput})
	}
	return out
}

// Run copies the inputs (float32, of the engine's shapes) to the device,
// runs the engine on the backend's stream (enqueueV3), waits, and returns
// every output. It implements session.Runner. The device buffers are
// allocated, and their addresses set on the context, on the first run.
func (e *Engine) Run(inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	if e.ctx.Obj == 0 {
		return nil, fmt.Errorf("tensorrt: run on a closed engine")
	}
	for _, t := range e.io {
		if t.Mode != abi.IOInput {
			continue
		}
		in, ok := inputs[t.Name]
		if !ok {
			return nil, fmt.Errorf("tensorrt: input %q missing (the engine's inputs: %v)", t.Name, e.inputNames())
		}
		if in.DType != tensor.Float32 {
			return nil, fmt.Errorf("tensorrt: input %q is %s; the engine takes float32", t.Name, in.DType)
		}
		if !tensor.EqualShape(in.Shape, t.Shape) {
			return nil, fmt.Errorf("tensorrt: input %q has shape %s; the engine's is %s", t.Name, tensor.ShapeString(in.Shape), tensor.ShapeString(t.Shape))
		}
	}
	b := e.b
	leave, err := b.ctx.Enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	if !e.bound {
		if err := e.bind(); err != nil {
			return nil, err
		}
	}
	for _, t := range e.io {
		if t.Mode == abi.IOInput && t.bytes() > 0 {
			if err := b.Driver.CopyToDevice(t.ptr, unsafe.Pointer(&inputs[t.Name].F32[0]), t.bytes()); err != nil {
				return nil, err
			}
		}
	}
	b.takeErrors()
	if err := e.ctx.EnqueueV3(uintptr(b.stream)); err != nil {
		return nil, b.withLogged(err)
	}
	if err := b.Driver.SyncStream(b.stream); err != nil {
		return nil, err
	}
	out := map[string]*tensor.Tensor{}
	for _, t := range e.io {
		if t.Mode != abi.IOOutput {
			continue
		}
		o := tensor.New(tensor.Float32, t.Shape...)
		if t.bytes() > 0 {
			if err := b.Driver.CopyToHost(unsafe.Pointer(&o.F32[0]), t.ptr, t.bytes()); err != nil {
				return nil, err
			}
		}
		out[t.Name] = o
	}
	return out, nil
}

// bind allocates a device buffer for every I/O tensor and gives its
// address to the context, after the shape of each dynamic input
// (setInputShape). The caller is inside the context.
func (e *Engine) bind() error {
	for i := range e.io {
		t := &e.io[i]
		if t.ptr == 0 {
			p, err := e.b.Driver.Alloc(t.bytes())
			if err != nil {
				return fmt.Errorf("tensorrt: device buffer for %q: %w", t.Name, err)
			}
			t.ptr = p
		}
		if t.Dynamic {
			shape := make([]int64, len(t.Shape))
			for j, d := range t.Shape {
				shape[j] = int64(d)
			}
			if err := e.ctx.SetInputShape(t.Name, abi.MakeDims(shape...)); err != nil {
				return err
			}
		}
		if err := e.ctx.SetTensorAddress(t.Name, uintptr(t.ptr)); err != nil {
			return err
		}
	}
	e.bound = true
	return nil
}

func (e *Engine) inputNames() []string {
	var names []string
	for _, t := range e.io {
		if t.Mode == abi.IOInput {
			names = append(names, t.Name)
		}
	}
	sort.Strings(names)
	return names
}

// Close deletes the execution context, the engine and the runtime, and
// frees the device buffers. Closing twice does nothing.
func (e *Engine) Close() error {
	if e.rt.Obj == 0 {
		return nil
	}
	leave, err := e.b.ctx.Enter()
	if err != nil {
		return err
	}
	defer leave()
	e.destroy()
	delete(e.b.engines, e)
	return nil
}

// destroy deletes what exists, in reverse order of creation. The caller
// is inside the context.
func (e *Engine) destroy() {
	if e.ctx.Obj != 0 {
		e.ctx.Delete()
		e.ctx = abi.Context{}
	}
	if e.eng.Obj != 0 {
		e.eng.Delete()
		e.eng = abi.Engine{}
	}
	if e.rt.Obj != 0 {
		e.rt.Delete()
		e.rt = abi.Runtime{}
	}
	for i := range e.io {
		if e.io[i].ptr != 0 {
			e.b.Driver.Free(e.io[i].ptr)
			e.io[i].ptr = 0
		}
	}
	e.bound = false
}
