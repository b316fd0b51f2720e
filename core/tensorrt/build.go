package tensorrt

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/loader/tensorrt/abi"
)

// Precision is the precision an engine is built in.
type Precision int

// The precisions.
const (
	FP32 Precision = iota
	FP16
	INT8
)

func (p Precision) String() string {
	switch p {
	case FP32:
		return "fp32"
	case FP16:
		return "fp16"
	case INT8:
		return "int8"
	}
	return fmt.Sprintf("precision(%d)", int(p))
}

// BuildOptions say how to build an engine.
type BuildOptions struct {
	Precision Precision
	// Workspace limits the builder's workspace memory pool, in bytes
	// (0: TensorRT's default, the device's memory).
	Workspace uint64
	// Calibrator serves calibration batches for implicit INT8 (TensorRT
	// 8.6 and 10.x; INT8 only). Nil for FP32, FP16 and for INT8 from a
	// Q/DQ model.
	Calibrator abi.CalibratorImpl
	// DLACore is the DLA core to build for, with GPU fallback; -1 for
	// none (the GPU only). DLA needs FP16 or INT8.
	DLACore int
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
	case FP32:
	case FP16:
		if major >= 11 {
			return fmt.Errorf("tensorrt: FP16: TensorRT %s builds strongly typed networks only and has no BuilderFlag::kFP16; the precision comes from the model's types (export it in float16), or use TensorRT 8.6 or 10.x", b.Version())
		}
	case INT8:
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
	if o.DLACore >= 0 && o.Precision == FP32 {
		return fmt.Errorf("tensorrt: DLA core %d: DLA runs FP16 or INT8 only, not FP32", o.DLACore)
	}
	if o.DLACore < -1 {
		return fmt.Errorf("tensorrt: DLA core %d: want -1 (none) or a core number", o.DLACore)
	}
	return nil
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
	leave, err := b.ctx.Enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	b.takeErrors()
	plan, err := b.serialize(model, o)
	if err != nil {
		return nil, b.withLogged(err)
	}
	e, err := b.deserialize(plan)
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
func (b *Backend) serialize(model []byte, o BuildOptions) ([]byte, error) {
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
	if o.Workspace > 0 {
		config.SetMemoryPoolLimit(poolWorkspace, o.Workspace)
	}
	switch o.Precision {
	case FP16:
		config.SetFlag(flagFP16)
	case INT8:
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
		}
	}
	if o.DLACore >= 0 {
		config.SetDefaultDeviceType(deviceDLA)
		config.SetDLACore(int32(o.DLACore))
		config.SetFlag(flagGPUFallback)
	}
	mem, err := builder.BuildSerializedNetwork(network, config)
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
func (b *Backend) deserialize(plan []byte) (e *Engine, err error) {
	e = &Engine{b: b, Plan: plan}
	defer func() {
		if err != nil {
			e.destroy()
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
		for _, d := range dims.Shape() {
			if d < 0 {
				return nil, fmt.Errorf("tensorrt: I/O tensor %q has the dynamic shape %v; only static shapes are supported yet (export the model with a fixed batch)", name, dims.Shape())
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
