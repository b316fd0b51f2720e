package tensorrt

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/loader/tensorrt/abi"
)

// BuildOptions say how to build an engine.
type BuildOptions struct {
	Precision precision.Precision
	// Workspace limits the builder's workspace memory pool, in bytes
	// (0: TensorRT's default, the device's memory).
	Workspace uint64
	// AvgTimingIterations is how many times the builder times each
	// tactic and averages (0: TensorRT's default, 1).
	AvgTimingIterations int
	// Calibrator serves calibration batches for implicit INT8 (TensorRT
	// 8.6 and 10.x; INT8 only). Nil for FP32, FP16 and for INT8 from a
	// Q/DQ model.
	Calibrator abi.CalibratorImpl
	// DLACore is the DLA core to build for, with GPU fallback; -1 for
	// none (the GPU only). DLA needs FP16 or INT8.
	DLACore int
	// Batch is the batch size of inputs whose first dimension is dynamic
	// (-1 in TensorRT, a symbolic or unknown dimension in the ONNX graph):
	// the optimization profile's min, opt and max (0 means 1). Inputs of
	// static shape ignore it.
	Batch int
	// Path is where the parser looks for the model's external weights
	// ("" for none).
	Path string
}

// TensorRT enum values, the same in 8.6, 10.x and 11.x where they exist
// (research notes §2.8).
const (
	flagFP16        = 0 // BuilderFlag::kFP16 (8.6, 10.x; removed in 11.0)
	flagINT8        = 1 // BuilderFlag::kINT8 (8.6, 10.x; removed in 11.0)
	flagGPUFallback = 3 // BuilderFlag::kGPU_FALLBACK
	poolWorkspace   = 0 // MemoryPoolType::kWORKSPACE
	deviceDLA       = 1 // DeviceType::kDLA
	explicitBatch   = 0 // NetworkDefinitionCreationFlag::kEXPLICIT_BATCH (8.6; deprecated and ignored in 10.x; gone in 11.x)
)

// networkFlags are createNetworkV2's flags: explicit batch in 8.6 (the
// ONNX parser needs it) and 10.x (where it is deprecated and ignored,
// networks being always explicit batch); none in 11.x, where
// kSTRONGLY_TYPED (0) is ignored and strong typing always on.
func networkFlags(major int) uint32 {
	if major >= 11 {
		return 0
	}
	return 1 << explicitBatch
}

// ErrImplicitINT8 is returned for INT8 with a calibrator on TensorRT 11.
var ErrImplicitINT8 = errors.New("TensorRT 11 removed implicit INT8 calibration (IInt8Calibrator, setInt8Calibrator, BuilderFlag::kINT8): build INT8 from a Q/DQ model (QuantizeLinear/DequantizeLinear) without a calibrator, or use TensorRT 8.6 or 10.x")

// check refuses what the opened version cannot build, before any call.
func (b *Backend) check(model []byte, o BuildOptions) error {
	major := b.ABI.Major
	switch o.Precision {
	case precision.FP32:
	case precision.FP16:
		if major >= 11 {
			return fmt.Errorf("tensorrt: FP16: TensorRT %s builds strongly typed networks only and has no BuilderFlag::kFP16; the precision comes from the model's types (export it in float16), or use TensorRT 8.6 or 10.x", b.Version())
		}
	case precision.INT8:
		if major >= 11 && o.Calibrator != nil {
			return fmt.Errorf("tensorrt: INT8 with TensorRT %s: %w", b.Version(), ErrImplicitINT8)
		}
		if o.Calibrator == nil && !isQDQ(model) {
			if major >= 11 {
				return fmt.Errorf("tensorrt: INT8 with TensorRT %s: the model has no QuantizeLinear/DequantizeLinear nodes; %w", b.Version(), ErrImplicitINT8)
			}
			return fmt.Errorf("tensorrt: INT8 needs a calibrator or a Q/DQ model (QuantizeLinear/DequantizeLinear nodes); the model has none")
		}
	default:
		return fmt.Errorf("tensorrt: unknown precision %d", int(o.Precision))
	}
	if o.DLACore >= 0 && o.Precision == precision.FP32 {
		return fmt.Errorf("tensorrt: DLA core %d: DLA runs FP16 or INT8 only, not FP32", o.DLACore)
	}
	if o.Batch < 0 {
		return fmt.Errorf("tensorrt: batch size %d: want 1 or more (0 for 1)", o.Batch)
	}
	if o.AvgTimingIterations < 0 {
		return fmt.Errorf("tensorrt: %d timing iterations: want 1 or more (0 for TensorRT's default)", o.AvgTimingIterations)
	}
	if o.DLACore < -1 {
		return fmt.Errorf("tensorrt: DLA core %d: want -1 (none) or a core number", o.DLACore)
	}
	return nil
}

// profileShapes are, for each graph input of model with a dynamic
// dimension, the shape of its optimization profile (min = opt = max): the
// first dimension, if dynamic, is batch; any other dynamic dimension is
// refused. Initializers listed among the inputs (IR version 3 and below)
// are left out; so are inputs of unknown rank.
func profileShapes(model []byte, batch int) ([]namedShape, error) {
	m, err := onnx.Decode(model)
	if err != nil || m.Graph == nil {
		return nil, nil // the parser reports what is wrong with the model
	}
	inits := map[string]bool{}
	for _, in := range m.Graph.Initializers {
		inits[in.Name] = true
	}
	var out []namedShape
	for _, v := range m.Graph.Inputs {
		if inits[v.Name] || !v.HasShape {
			continue
		}
		dynamic := false
		shape := make([]int64, len(v.Dims))
		for i, d := range v.Dims {
			switch {
			case d.Known():
				shape[i] = d.Value
			case i == 0:
				shape[i] = int64(batch)
				dynamic = true
			default:
				return nil, fmt.Errorf("tensorrt: input %q has the dynamic dimension %d (%s) in its shape %v; only a dynamic batch (the first dimension) is supported: export the model with fixed sizes for the others", v.Name, i, d, v.Dims)
			}
		}
		if len(shape) > 8 {
			return nil, fmt.Errorf("tensorrt: input %q has %d dimensions; TensorRT takes at most 8", v.Name, len(shape))
		}
		if dynamic {
			out = append(out, namedShape{v.Name, shape})
		}
	}
	return out, nil
}

// namedShape is an input and the shape of its optimization profile.
type namedShape struct {
	Name  string
	Shape []int64
}

// batchOf is o.Batch, 1 for 0.
func (o BuildOptions) batchOf() int {
	if o.Batch <= 0 {
		return 1
	}
	return o.Batch
}

// isQDQ says whether model (ONNX bytes) has QuantizeLinear or
// DequantizeLinear nodes.
func isQDQ(model []byte) bool {
	m, err := onnx.Decode(model)
	if err != nil || m.Graph == nil {
		return false
	}
	for _, n := range m.Graph.Nodes {
		if n.Domain == "" && (n.OpType == "QuantizeLinear" || n.OpType == "DequantizeLinear") {
			return true
		}
	}
	return false
}

// Build builds an engine from an ONNX model's bytes: builder, network,
// parser, config, buildSerializedNetwork, then runtime, engine and
// execution context. The intermediate objects are deleted before it
// returns.
func (b *Backend) Build(model []byte, o BuildOptions) (*Engine, error) {
	if err := b.check(model, o); err != nil {
		return nil, err
	}
	profile, err := profileShapes(model, o.batchOf())
	if err != nil {
		return nil, err
	}
	leave, err := b.ctx.Enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	b.takeErrors()
	plan, err := b.serialize(model, o, profile)
	if err != nil {
		return nil, b.withLogged(err)
	}
	e, err := b.deserialize(plan, o.batchOf(), profile)
	if err != nil {
		return nil, b.withLogged(err)
	}
	if b.engines == nil {
		b.engines = map[*Engine]bool{}
	}
	b.engines[e] = true
	return e, nil
}

// serialize builds the serialized engine (the plan).
func (b *Backend) serialize(model []byte, o BuildOptions, profile []namedShape) ([]byte, error) {
	defer runtime.KeepAlive(model)
	builder, err := b.ABI.CreateBuilder(b.logger)
	if err != nil {
		return nil, err
	}
	defer builder.Delete()
	if o.DLACore >= 0 {
		n := builder.NbDLACores()
		if n <= 0 {
			return nil, fmt.Errorf("tensorrt: DLA core %d asked for, but the builder reports no DLA cores on this device (DLA is on Jetson and DRIVE platforms); build without DLA", o.DLACore)
		}
		if o.DLACore >= n {
			return nil, fmt.Errorf("tensorrt: DLA core %d asked for, but the builder reports %d (cores 0 to %d)", o.DLACore, n, n-1)
		}
	}
	network, err := builder.CreateNetworkV2(networkFlags(b.ABI.Major))
	if err != nil {
		return nil, err
	}
	defer network.Delete()
	parser, err := b.ABI.CreateParser(network, b.logger)
	if err != nil {
		return nil, err
	}
	defer parser.Delete() // before the network (defers run last first)
	if err := parser.Parse(model, o.Path); err != nil {
		return nil, fmt.Errorf("tensorrt: parsing the ONNX model: %w", err)
	}
	config, err := builder.CreateBuilderConfig()
	if err != nil {
		return nil, err
	}
	defer config.Delete()
	var p abi.Profile
	if len(profile) > 0 {
		// One profile, min = opt = max for every dynamic input. The
		// builder owns the profile.
		if p, err = builder.CreateOptimizationProfile(); err != nil {
			return nil, err
		}
		for _, in := range profile {
			for _, sel := range []int32{abi.ProfileMin, abi.ProfileOpt, abi.ProfileMax} {
				if err := p.SetDimensions(in.Name, sel, abi.MakeDims(in.Shape...)); err != nil {
					return nil, err
				}
			}
		}
		if _, err := config.AddOptimizationProfile(p); err != nil {
			return nil, err
		}
	}
	if o.Workspace > 0 {
		config.SetMemoryPoolLimit(poolWorkspace, o.Workspace)
	}
	if o.AvgTimingIterations > 0 {
		config.SetAvgTimingIterations(int32(o.AvgTimingIterations))
	}
	switch o.Precision {
	case precision.FP16:
		config.SetFlag(flagFP16)
	case precision.INT8:
		if b.ABI.Major < 11 {
			config.SetFlag(flagINT8)
		}
		if o.Calibrator != nil {
			cal, err := b.ABI.NewCalibrator(o.Calibrator)
			if err != nil {
				return nil, err
			}
			defer cal.Close() // after the build
			if err := config.SetInt8Calibrator(cal); err != nil {
				return nil, err
			}
			// Calibrating a network with runtime dimensions needs a
			// calibration profile (NvInfer.h); the batches have its
			// shapes, the build's.
			if len(profile) > 0 {
				if err := config.SetCalibrationProfile(p); err != nil {
					return nil, err
				}
			}
		}
	}
	if o.DLACore >= 0 {
		config.SetDefaultDeviceType(deviceDLA)
		config.SetDLACore(int32(o.DLACore))
		config.SetFlag(flagGPUFallback)
	}
	mem, err := builder.BuildSerializedNetwork(network, config)
	// A calibrator whose data failed said "no more batches" to TensorRT,
	// which then calibrates on what it got: that engine is not wanted.
	if failed, ok := o.Calibrator.(interface{ Err() error }); ok && failed.Err() != nil {
		if err == nil {
			mem.Delete()
		}
		return nil, failed.Err()
	}
	if err != nil {
		return nil, err
	}
	defer mem.Delete()
	plan := mem.Bytes()
	if len(plan) == 0 {
		return nil, fmt.Errorf("tensorrt: buildSerializedNetwork returned an empty engine")
	}
	return plan, nil
}

// deserialize makes the runtime, engine and execution context of a plan
// and reads its I/O tensors.
// Dynamic dimensions (-1) of an input take its profile's shape, and
// dynamic first dimensions of an output the batch.
func (b *Backend) deserialize(plan []byte, batch int, profile []namedShape) (e *Engine, err error) {
	e = &Engine{b: b, Plan: plan}
	made := e // the error returns below set e to nil before the deferred call
	defer func() {
		if err != nil {
			made.destroy()
			e = nil
		}
	}()
	if e.rt, err = b.ABI.CreateRuntime(b.logger); err != nil {
		return nil, err
	}
	if e.eng, err = e.rt.DeserializeCudaEngine(plan); err != nil {
		return nil, err
	}
	if e.ctx, err = e.eng.CreateExecutionContext(); err != nil {
		return nil, err
	}
	n := e.eng.NbIOTensors()
	for i := 0; i < n; i++ {
		name, err := e.eng.IOTensorName(i)
		if err != nil {
			return nil, err
		}
		t := ioTensor{Name: name, Mode: e.eng.TensorIOMode(name)}
		if t.Mode != abi.IOInput && t.Mode != abi.IOOutput {
			return nil, fmt.Errorf("tensorrt: I/O tensor %q has mode %d, neither input nor output", name, t.Mode)
		}
		dims := e.eng.TensorShape(name)
		if dims.NbDims < 0 || dims.NbDims > 8 {
			return nil, fmt.Errorf("tensorrt: I/O tensor %q has no shape (nbDims %d)", name, dims.NbDims)
		}
		if ty := e.eng.TensorDataType(name); ty != abi.TypeFloat {
			return nil, fmt.Errorf("tensorrt: I/O tensor %q is %s; only float32 inputs and outputs are supported (export the model with float32 I/O)", name, abi.TypeName(ty))
		}
		var prof []int64
		for _, p := range profile {
			if p.Name == name {
				prof = p.Shape
			}
		}
		for i, d := range dims.Shape() {
			if d < 0 {
				switch {
				case t.Mode == abi.IOInput && len(prof) == len(dims.Shape()):
					d = prof[i]
					t.Dynamic = true
				case t.Mode == abi.IOOutput && i == 0:
					d = int64(batch)
				default:
					return nil, fmt.Errorf("tensorrt: I/O tensor %q has the dynamic shape %v, which the optimization profile does not fix; only a dynamic batch (the first dimension) of inputs declared in the ONNX graph is supported", name, dims.Shape())
				}
			}
			if d > 1<<31 {
				return nil, fmt.Errorf("tensorrt: I/O tensor %q has the shape %v, too large", name, dims.Shape())
			}
			t.Shape = append(t.Shape, int(d))
		}
		e.io = append(e.io, t)
	}
	return e, nil
}
