package abi

import (
	"fmt"
	"unsafe"

	"github.com/ebitengine/purego"
	"github.com/int8cal/int8cal/loader"
)

// Object is a pointer to a C++ object owned by TensorRT: for library
// classes the public wrapper ([0] vptr, [8] mImpl), which is what
// TensorRT's methods take and return.
type Object uintptr

// Impl reads the wrapper's mImpl, the apiv object whose vtable holds the
// methods.
func Impl(o Object) uintptr { return peek(uintptr(o) + 8) }

// Method reads the function pointer in slot of the vtable of the C++
// object at obj (an mImpl, or a plain abstract object such as the
// parser).
func Method(obj uintptr, slot int) uintptr { return peek(peek(obj) + 8*uintptr(slot)) }

// peek reads a pointer-sized word of C memory.
func peek(addr uintptr) uintptr { return *(*uintptr)(cptr(addr)) }

// cptr turns the address of C memory into an unsafe.Pointer.
func cptr(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }

// call calls the C function fn with integer or pointer arguments and
// returns RAX and RDX (x0 and x1 on arm64). Pointers to Go memory
// converted to uintptr in the call's argument list stay valid for the
// call.
//
//go:uintptrescapes
func call(fn uintptr, args ...uintptr) (uintptr, uintptr) {
	r1, r2, _ := purego.SyscallN(fn, args...)
	return r1, r2
}

// cbool reads a C++ bool result (AL).
func cbool(r uintptr) bool { return byte(r) != 0 }

// cstring makes a NUL-terminated copy of s for a call.
func cstring(s string) []byte { return append([]byte(s), 0) }

// gostring copies the NUL-terminated C string at p ("" for null).
func gostring(p uintptr) string { return loader.CString((*byte)(cptr(p))) }

// Dims is a tensor shape: Dims64 ({int32 nbDims; int32 pad; int64 d[8]},
// 72 bytes) in 10.x and 11.x, Dims32 ({int32 nbDims; int32 d[8]}, 36
// bytes) in 8.x, both returned through a hidden pointer. NbDims is -1
// for an unknown tensor.
type Dims struct {
	NbDims int32
	D      [8]int64
}

// Shape is the used part of D.
func (d Dims) Shape() []int64 {
	if d.NbDims < 0 || d.NbDims > 8 {
		return nil
	}
	return d.D[:d.NbDims]
}

// Error is a TensorRT method that failed: returned null or false, or
// does not exist in the opened major version.
type Error struct {
	Method string // e.g. IBuilder::createBuilderConfig
	Major  int
	Why    string
}

func (e *Error) Error() string { return fmt.Sprintf("TensorRT %d.x %s: %s", e.Major, e.Method, e.Why) }

// Lib is an opened TensorRT (libnvinfer and, optionally, libnvonnxparser)
// with the slot table of its major version.
type Lib struct {
	Slots   *Slots
	Major   int
	Version int // getInferLibVersion, passed to the create functions

	createBuilder, createRuntime, createParser uintptr
}

// New binds TensorRT's entry points. infer is libnvinfer (the lean
// runtime, which has no builder, will do: CreateBuilder then fails);
// parser is libnvonnxparser, or nil. major and version are the library's
// (tensorrt.Library's Major and Version). For 8.x only 8.6 is accepted:
// the 8.x table was counted from 8.6.1's headers.
func New(infer, parser *loader.Library, major, version int) (*Lib, error) {
	s, err := ForMajor(major)
	if err != nil {
		return nil, err
	}
	if major == 8 && (version < 8600 || version >= 8700) {
		return nil, fmt.Errorf("abi: TensorRT 8.x slots are for 8.6; getInferLibVersion says %d", version)
	}
	l := &Lib{Slots: s, Major: major, Version: version}
	if l.createRuntime, err = infer.Symbol("createInferRuntime_INTERNAL"); err != nil {
		return nil, err
	}
	l.createBuilder, _ = infer.Symbol("createInferBuilder_INTERNAL")
	if parser != nil {
		if l.createParser, err = parser.Symbol("createNvOnnxParser_INTERNAL"); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (l *Lib) fail(method, why string) error { return &Error{Method: method, Major: l.Major, Why: why} }

func (l *Lib) null(method string) error { return l.fail(method, "returned null") }

func (l *Lib) absent(method string) error {
	return l.fail(method, "no such method in this major version")
}

// invoke calls slot of o's implementation with this = mImpl.
//
//go:uintptrescapes
func (l *Lib) invoke(o Object, slot int, args ...uintptr) (uintptr, uintptr) {
	impl := Impl(o)
	return call(Method(impl, slot), append([]uintptr{impl}, args...)...)
}

// deleteObject deletes a wrapper through its deleting destructor.
func (l *Lib) deleteObject(o Object) {
	if o != 0 {
		call(Method(uintptr(o), l.Slots.Delete), uintptr(o))
	}
}

// loggerPtr is the C++ address of lg, or 0.
func loggerPtr(lg *Logger) uintptr {
	if lg == nil {
		return 0
	}
	return lg.Ptr()
}

// CreateBuilder calls createInferBuilder_INTERNAL. TensorRT keeps lg until
// the builder is deleted.
func (l *Lib) CreateBuilder(lg *Logger) (Builder, error) {
	if l.createBuilder == 0 {
		return Builder{}, l.fail("createInferBuilder_INTERNAL", "not exported (a lean or dispatch runtime has no builder)")
	}
	r, _ := call(l.createBuilder, loggerPtr(lg), uintptr(l.Version))
	if r == 0 {
		return Builder{}, l.null("createInferBuilder_INTERNAL")
	}
	return Builder{l, Object(r)}, nil
}

// CreateRuntime calls createInferRuntime_INTERNAL. TensorRT keeps lg
// until the runtime is deleted.
func (l *Lib) CreateRuntime(lg *Logger) (Runtime, error) {
	r, _ := call(l.createRuntime, loggerPtr(lg), uintptr(l.Version))
	// Without CUDA, the real 10.16/11.4 return null moved by a base-class
	// offset (loader/tensorrt's wheel test): nothing below a page is an object.
	if r < 1<<16 {
		return Runtime{}, l.null("createInferRuntime_INTERNAL")
	}
	return Runtime{l, Object(r)}, nil
}

// ParserVersion is NV_ONNX_PARSER_VERSION, the version createNvOnnxParser_INTERNAL
// is passed (100 from TensorRT 8.6 to 11.1).
const ParserVersion = 100

// CreateParser calls createNvOnnxParser_INTERNAL for network.
func (l *Lib) CreateParser(network Network, lg *Logger) (Parser, error) {
	if l.createParser == 0 {
		return Parser{}, l.fail("createNvOnnxParser_INTERNAL", "no ONNX parser library was opened")
	}
	r, _ := call(l.createParser, uintptr(network.Obj), loggerPtr(lg), ParserVersion)
	if r == 0 {
		return Parser{}, l.null("createNvOnnxParser_INTERNAL")
	}
	return Parser{l, Object(r)}, nil
}

// Builder is an nvinfer1::IBuilder.
type Builder struct {
	Lib *Lib
	Obj Object
}

// PlatformHasFastInt8 is IBuilder::platformHasFastInt8 (gone in 11.x).
func (b Builder) PlatformHasFastInt8() (bool, error) {
	if b.Lib.Slots.Builder.PlatformHasFastInt8 == Absent {
		return false, b.Lib.absent("IBuilder::platformHasFastInt8")
	}
	r, _ := b.Lib.invoke(b.Obj, b.Lib.Slots.Builder.PlatformHasFastInt8)
	return cbool(r), nil
}

// NbDLACores is IBuilder::getNbDLACores.
func (b Builder) NbDLACores() int {
	r, _ := b.Lib.invoke(b.Obj, b.Lib.Slots.Builder.GetNbDLACores)
	return int(int32(r))
}

// CreateBuilderConfig is IBuilder::createBuilderConfig.
func (b Builder) CreateBuilderConfig() (Config, error) {
	r, _ := b.Lib.invoke(b.Obj, b.Lib.Slots.Builder.CreateBuilderConfig)
	if r == 0 {
		return Config{}, b.Lib.null("IBuilder::createBuilderConfig")
	}
	return Config{b.Lib, Object(r)}, nil
}

// CreateNetworkV2 is IBuilder::createNetworkV2(NetworkDefinitionCreationFlags).
func (b Builder) CreateNetworkV2(flags uint32) (Network, error) {
	r, _ := b.Lib.invoke(b.Obj, b.Lib.Slots.Builder.CreateNetworkV2, uintptr(flags))
	if r == 0 {
		return Network{}, b.Lib.null("IBuilder::createNetworkV2")
	}
	return Network{b.Lib, Object(r)}, nil
}

// BuildSerializedNetwork is IBuilder::buildSerializedNetwork(network,
// config): the engine, or an error (TensorRT says why through the
// logger).
func (b Builder) BuildSerializedNetwork(n Network, c Config) (HostMemory, error) {
	r, _ := b.Lib.invoke(b.Obj, b.Lib.Slots.Builder.BuildSerializedNetwork, uintptr(n.Obj), uintptr(c.Obj))
	if r == 0 {
		return HostMemory{}, b.Lib.null("IBuilder::buildSerializedNetwork")
	}
	return HostMemory{b.Lib, Object(r)}, nil
}

// Delete deletes the builder.
func (b Builder) Delete() { b.Lib.deleteObject(b.Obj) }

// Network is an nvinfer1::INetworkDefinition (filled by the ONNX parser).
type Network struct {
	Lib *Lib
	Obj Object
}

// Delete deletes the network.
func (n Network) Delete() { n.Lib.deleteObject(n.Obj) }

// Config is an nvinfer1::IBuilderConfig.
type Config struct {
	Lib *Lib
	Obj Object
}

// SetFlag is IBuilderConfig::setFlag(BuilderFlag).
func (c Config) SetFlag(flag int32) { c.Lib.invoke(c.Obj, c.Lib.Slots.Config.SetFlag, uintptr(flag)) }

// SetMemoryPoolLimit is IBuilderConfig::setMemoryPoolLimit(MemoryPoolType, size_t).
func (c Config) SetMemoryPoolLimit(pool int32, size uint64) {
	c.Lib.invoke(c.Obj, c.Lib.Slots.Config.SetMemoryPoolLimit, uintptr(pool), uintptr(size))
}

// SetAvgTimingIterations is IBuilderConfig::setAvgTimingIterations.
func (c Config) SetAvgTimingIterations(n int32) {
	c.Lib.invoke(c.Obj, c.Lib.Slots.Config.SetAvgTimingIterations, uintptr(n))
}

// SetDLACore is IBuilderConfig::setDLACore.
func (c Config) SetDLACore(core int32) {
	c.Lib.invoke(c.Obj, c.Lib.Slots.Config.SetDLACore, uintptr(core))
}

// SetDefaultDeviceType is IBuilderConfig::setDefaultDeviceType(DeviceType).
func (c Config) SetDefaultDeviceType(t int32) {
	c.Lib.invoke(c.Obj, c.Lib.Slots.Config.SetDefaultDeviceType, uintptr(t))
}

// SetInt8Calibrator is IBuilderConfig::setInt8Calibrator; nil detaches.
// TensorRT 11 has no such method (implicit INT8 was removed: use
// explicit Q/DQ): that is an *Error. The calibrator must stay open until
// the engine is built.
func (c Config) SetInt8Calibrator(cal *Calibrator) error {
	if c.Lib.Slots.Config.SetInt8Calibrator == Absent {
		return c.Lib.fail("IBuilderConfig::setInt8Calibrator", "no such method: implicit INT8 calibration was removed in TensorRT 11.0 (use explicit quantization, Q/DQ)")
	}
	var p uintptr
	if cal != nil {
		p = cal.Ptr()
	}
	c.Lib.invoke(c.Obj, c.Lib.Slots.Config.SetInt8Calibrator, p)
	return nil
}

// Delete deletes the config.
func (c Config) Delete() { c.Lib.deleteObject(c.Obj) }

// HostMemory is an nvinfer1::IHostMemory (a serialized engine).
type HostMemory struct {
	Lib *Lib
	Obj Object
}

// Data is IHostMemory::data.
func (h HostMemory) Data() uintptr {
	r, _ := h.Lib.invoke(h.Obj, h.Lib.Slots.HostMemory.Data)
	return r
}

// Size is IHostMemory::size.
func (h HostMemory) Size() uint64 {
	r, _ := h.Lib.invoke(h.Obj, h.Lib.Slots.HostMemory.Size)
	return uint64(r)
}

// Bytes copies the memory into Go.
func (h HostMemory) Bytes() []byte {
	p, n := h.Data(), h.Size()
	if p == 0 || n == 0 {
		return nil
	}
	return append([]byte(nil), unsafe.Slice((*byte)(cptr(p)), n)...)
}

// Delete deletes the memory.
func (h HostMemory) Delete() { h.Lib.deleteObject(h.Obj) }

// Runtime is an nvinfer1::IRuntime.
type Runtime struct {
	Lib *Lib
	Obj Object
}

// DeserializeCudaEngine is IRuntime::deserializeCudaEngine(blob, size).
func (r Runtime) DeserializeCudaEngine(blob []byte) (Engine, error) {
	if len(blob) == 0 {
		return Engine{}, r.Lib.fail("IRuntime::deserializeCudaEngine", "empty engine")
	}
	slot := r.Lib.Slots.Runtime.DeserializeCudaEngine
	var e uintptr
	if r.Lib.Slots.PluginFactoryArg {
		e, _ = r.Lib.invoke(r.Obj, slot, uintptr(unsafe.Pointer(&blob[0])), uintptr(len(blob)), 0)
	} else {
		e, _ = r.Lib.invoke(r.Obj, slot, uintptr(unsafe.Pointer(&blob[0])), uintptr(len(blob)))
	}
	if e == 0 {
		return Engine{}, r.Lib.null("IRuntime::deserializeCudaEngine")
	}
	return Engine{r.Lib, Object(e)}, nil
}

// Delete deletes the runtime (after its engines).
func (r Runtime) Delete() { r.Lib.deleteObject(r.Obj) }

// TensorIOMode values.
const (
	IONone   = 0
	IOInput  = 1
	IOOutput = 2
)

// Engine is an nvinfer1::ICudaEngine.
type Engine struct {
	Lib *Lib
	Obj Object
}

// CreateExecutionContext is ICudaEngine::createExecutionContext with
// ExecutionContextAllocationStrategy::kSTATIC (10/11; 8.6 takes none).
func (e Engine) CreateExecutionContext() (Context, error) {
	var r uintptr
	if e.Lib.Slots.ContextNoArgs {
		r, _ = e.Lib.invoke(e.Obj, e.Lib.Slots.Engine.CreateExecutionContext)
	} else {
		r, _ = e.Lib.invoke(e.Obj, e.Lib.Slots.Engine.CreateExecutionContext, 0)
	}
	if r == 0 {
		return Context{}, e.Lib.null("ICudaEngine::createExecutionContext")
	}
	return Context{e.Lib, Object(r)}, nil
}

// NbIOTensors is ICudaEngine::getNbIOTensors.
func (e Engine) NbIOTensors() int {
	r, _ := e.Lib.invoke(e.Obj, e.Lib.Slots.Engine.GetNbIOTensors)
	return int(int32(r))
}

// IOTensorName is ICudaEngine::getIOTensorName.
func (e Engine) IOTensorName(i int) (string, error) {
	r, _ := e.Lib.invoke(e.Obj, e.Lib.Slots.Engine.GetIOTensorName, uintptr(int32(i)))
	if r == 0 {
		return "", e.Lib.null(fmt.Sprintf("ICudaEngine::getIOTensorName(%d)", i))
	}
	return gostring(r), nil
}

// TensorShape is ICudaEngine::getTensorShape(name), a Dims returned
// through a hidden pointer passed before this.
func (e Engine) TensorShape(name string) Dims {
	var buf dimsBuf
	cname := cstring(name)
	impl := Impl(e.Obj)
	tensorShape(Method(impl, e.Lib.Slots.Engine.GetTensorShape), impl, &cname[0], &buf)
	return decodeDims(&buf, e.Lib.Slots.Dims32)
}

// dimsBuf receives a Dims64 (72 bytes) or a Dims32 (36 bytes), 8-byte
// aligned.
type dimsBuf [9]uint64

func decodeDims(buf *dimsBuf, dims32 bool) Dims {
	b := unsafe.Slice((*byte)(unsafe.Pointer(buf)), unsafe.Sizeof(*buf))
	var d Dims
	d.NbDims = *(*int32)(unsafe.Pointer(&b[0]))
	for i := range d.D {
		if dims32 {
			d.D[i] = int64(*(*int32)(unsafe.Pointer(&b[4+4*i])))
		} else {
			d.D[i] = int64(buf[1+i])
		}
	}
	return d
}

// TensorIOMode is ICudaEngine::getTensorIOMode (IONone, IOInput, IOOutput).
func (e Engine) TensorIOMode(name string) int32 {
	cname := cstring(name)
	r, _ := e.Lib.invoke(e.Obj, e.Lib.Slots.Engine.GetTensorIOMode, uintptr(unsafe.Pointer(&cname[0])))
	return int32(r)
}

// Delete deletes the engine (after its contexts).
func (e Engine) Delete() { e.Lib.deleteObject(e.Obj) }

// Context is an nvinfer1::IExecutionContext.
type Context struct {
	Lib *Lib
	Obj Object
}

// SetTensorAddress is IExecutionContext::setTensorAddress(name, device
// pointer).
func (c Context) SetTensorAddress(name string, p uintptr) error {
	cname := cstring(name)
	r, _ := c.Lib.invoke(c.Obj, c.Lib.Slots.Context.SetTensorAddress, uintptr(unsafe.Pointer(&cname[0])), p)
	if !cbool(r) {
		return c.Lib.fail(fmt.Sprintf("IExecutionContext::setTensorAddress(%q)", name), "returned false")
	}
	return nil
}

// EnqueueV3 is IExecutionContext::enqueueV3(stream).
func (c Context) EnqueueV3(stream uintptr) error {
	r, _ := c.Lib.invoke(c.Obj, c.Lib.Slots.Context.EnqueueV3, stream)
	if !cbool(r) {
		return c.Lib.fail("IExecutionContext::enqueueV3", "returned false")
	}
	return nil
}

// Delete deletes the context.
func (c Context) Delete() { c.Lib.deleteObject(c.Obj) }

// Parser is an nvonnxparser::IParser: a plain abstract class, called
// with this = the object itself.
type Parser struct {
	Lib *Lib
	Obj Object
}

// method calls slot with this = the parser.
//
//go:uintptrescapes
func (p Parser) method(slot int, args ...uintptr) uintptr {
	r, _ := call(Method(uintptr(p.Obj), slot), append([]uintptr{uintptr(p.Obj)}, args...)...)
	return r
}

// ParserError is one of the parser's errors.
type ParserError struct {
	Code int32
	Desc string
}

// ParseError is a failed IParser::parse with the parser's errors.
type ParseError struct{ Errors []ParserError }

func (e *ParseError) Error() string {
	s := "ONNX parser failed"
	for _, pe := range e.Errors {
		s += fmt.Sprintf("; %s (code %d)", pe.Desc, pe.Code)
	}
	return s
}

// Parse is IParser::parse(data, size, path): path, which may be "", is
// where the model's external weights are looked for. Keep model
// referenced (runtime.KeepAlive) until the engine is built, in case the
// parser's network refers to weights inside it (not checked against the
// real parser).
func (p Parser) Parse(model []byte, path string) error {
	if len(model) == 0 {
		return &ParseError{Errors: []ParserError{{Desc: "empty model"}}}
	}
	var r uintptr
	if path == "" {
		r = p.method(p.Lib.Slots.Parser.Parse, uintptr(unsafe.Pointer(&model[0])), uintptr(len(model)), 0)
	} else {
		cpath := cstring(path)
		r = p.method(p.Lib.Slots.Parser.Parse, uintptr(unsafe.Pointer(&model[0])), uintptr(len(model)), uintptr(unsafe.Pointer(&cpath[0])))
	}
	if cbool(r) {
		return nil
	}
	return &ParseError{Errors: p.Errors()}
}

// Errors reads IParser::getNbErrors and getError(i)'s code and desc.
func (p Parser) Errors() []ParserError {
	n := int(int32(p.method(p.Lib.Slots.Parser.GetNbErrors)))
	var out []ParserError
	for i := 0; i < n; i++ {
		e := p.method(p.Lib.Slots.Parser.GetError, uintptr(int32(i)))
		if e == 0 {
			continue
		}
		code, _ := call(Method(e, p.Lib.Slots.ParserError.Code), e)
		desc, _ := call(Method(e, p.Lib.Slots.ParserError.Desc), e)
		out = append(out, ParserError{Code: int32(code), Desc: gostring(desc)})
	}
	return out
}

// Delete deletes the parser through its own deleting destructor.
func (p Parser) Delete() {
	if p.Obj != 0 {
		p.method(p.Lib.Slots.Parser.Delete)
	}
}

// OptProfileSelector values (IOptimizationProfile::setDimensions).
const (
	ProfileMin = 0 // kMIN
	ProfileOpt = 1 // kOPT
	ProfileMax = 2 // kMAX
)

// DataType values (ICudaEngine::getTensorDataType), the same in 8.6, 10.x
// and 11.x where they exist.
const (
	TypeFloat = 0 // kFLOAT
	TypeHalf  = 1 // kHALF
	TypeInt8  = 2 // kINT8
	TypeInt32 = 3 // kINT32
	TypeBool  = 4 // kBOOL
	TypeUint8 = 5 // kUINT8
	TypeFP8   = 6 // kFP8
	TypeBF16  = 7 // kBF16 (10.x, 11.x)
	TypeInt64 = 8 // kINT64 (10.x, 11.x)
	TypeInt4  = 9 // kINT4 (10.x, 11.x)
)

// TypeName names a DataType value.
func TypeName(t int32) string {
	names := []string{"float32 (kFLOAT)", "float16 (kHALF)", "int8 (kINT8)", "int32 (kINT32)", "bool (kBOOL)",
		"uint8 (kUINT8)", "fp8 (kFP8)", "bfloat16 (kBF16)", "int64 (kINT64)", "int4 (kINT4)"}
	if t >= 0 && int(t) < len(names) {
		return names[t]
	}
	return fmt.Sprintf("DataType(%d)", t)
}

// MakeDims makes a Dims of shape (at most 8 dimensions).
func MakeDims(shape ...int64) Dims {
	var d Dims
	d.NbDims = int32(copy(d.D[:], shape))
	return d
}

// encodeDims lays d out as the opened version's Dims (Dims32 or Dims64),
// for a Dims const& argument.
func encodeDims(d Dims, dims32 bool) *dimsBuf {
	buf := new(dimsBuf)
	b := unsafe.Slice((*byte)(unsafe.Pointer(buf)), unsafe.Sizeof(*buf))
	*(*int32)(unsafe.Pointer(&b[0])) = d.NbDims
	for i, v := range d.D {
		if dims32 {
			*(*int32)(unsafe.Pointer(&b[4+4*i])) = int32(v)
		} else {
			buf[1+i] = uint64(v)
		}
	}
	return buf
}

// Profile is an nvinfer1::IOptimizationProfile. The builder owns it: it
// is not deleted.
type Profile struct {
	Lib *Lib
	Obj Object
}

// CreateOptimizationProfile is IBuilder::createOptimizationProfile.
func (b Builder) CreateOptimizationProfile() (Profile, error) {
	r, _ := b.Lib.invoke(b.Obj, b.Lib.Slots.Builder.CreateOptimizationProfile)
	if r == 0 {
		return Profile{}, b.Lib.null("IBuilder::createOptimizationProfile")
	}
	return Profile{b.Lib, Object(r)}, nil
}

// SetDimensions is IOptimizationProfile::setDimensions(inputName,
// OptProfileSelector, Dims const&); sel is ProfileMin, ProfileOpt or
// ProfileMax.
func (p Profile) SetDimensions(name string, sel int32, d Dims) error {
	cname := cstring(name)
	buf := encodeDims(d, p.Lib.Slots.Dims32)
	r, _ := p.Lib.invoke(p.Obj, p.Lib.Slots.Profile.SetDimensions, uintptr(unsafe.Pointer(&cname[0])), uintptr(sel), uintptr(unsafe.Pointer(buf)))
	if !cbool(r) {
		return p.Lib.fail(fmt.Sprintf("IOptimizationProfile::setDimensions(%q, %d, %v)", name, sel, d.Shape()), "returned false")
	}
	return nil
}

// AddOptimizationProfile is IBuilderConfig::addOptimizationProfile: the
// profile's index.
func (c Config) AddOptimizationProfile(p Profile) (int, error) {
	r, _ := c.Lib.invoke(c.Obj, c.Lib.Slots.Config.AddOptimizationProfile, uintptr(p.Obj))
	i := int(int32(r))
	if i < 0 {
		return -1, c.Lib.fail("IBuilderConfig::addOptimizationProfile", fmt.Sprintf("returned %d (the profile is not valid)", i))
	}
	return i, nil
}

// SetCalibrationProfile is IBuilderConfig::setCalibrationProfile: the
// shapes implicit INT8 calibration runs a network with runtime dimensions
// at (its kOPT). TensorRT 11 has no such method: that is an *Error.
func (c Config) SetCalibrationProfile(p Profile) error {
	const method = "IBuilderConfig::setCalibrationProfile"
	if c.Lib.Slots.Config.SetCalibrationProfile == Absent {
		return c.Lib.fail(method, "no such method: implicit INT8 calibration was removed in TensorRT 11.0")
	}
	r, _ := c.Lib.invoke(c.Obj, c.Lib.Slots.Config.SetCalibrationProfile, uintptr(p.Obj))
	if !cbool(r) {
		return c.Lib.fail(method, "returned false (the profile is not valid)")
	}
	return nil
}

// TensorDataType is ICudaEngine::getTensorDataType(name) (TypeFloat, …).
func (e Engine) TensorDataType(name string) int32 {
	cname := cstring(name)
	r, _ := e.Lib.invoke(e.Obj, e.Lib.Slots.Engine.GetTensorDataType, uintptr(unsafe.Pointer(&cname[0])))
	return int32(r)
}

// SetInputShape is IExecutionContext::setInputShape(name, Dims const&),
// for an input with dynamic dimensions, before enqueueV3.
func (c Context) SetInputShape(name string, d Dims) error {
	cname := cstring(name)
	buf := encodeDims(d, c.Lib.Slots.Dims32)
	r, _ := c.Lib.invoke(c.Obj, c.Lib.Slots.Context.SetInputShape, uintptr(unsafe.Pointer(&cname[0])), uintptr(unsafe.Pointer(buf)))
	if !cbool(r) {
		return c.Lib.fail(fmt.Sprintf("IExecutionContext::setInputShape(%q, %v)", name, d.Shape()), "returned false")
	}
	return nil
}
