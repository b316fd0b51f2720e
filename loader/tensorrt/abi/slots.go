package abi

import "fmt"

// Absent marks a method a major version does not have.
const Absent = -1

// Slots are the vtable slot numbers of the methods the TensorRT backend
// calls, for one major version. Slots of library objects index the apiv
// implementation's vtable (the object at mImpl): slots 0 and 1 are
// ~VRoot, the first method is slot 2. Parser slots index the parser's
// own vtable.
type Slots struct {
	Major  int
	Source string // where the numbers were counted from

	// Delete is the deleting destructor (D0) in the vtable of a public
	// wrapper (IBuilder, ICudaEngine, …): 1 in every version.
	Delete int

	Builder struct {
		CreateBuilderConfig, CreateNetworkV2, BuildSerializedNetwork int
		PlatformHasFastInt8                                          int // Absent in 11
		GetNbDLACores                                                int
		CreateOptimizationProfile                                    int
	}
	Config struct {
		SetFlag, SetMemoryPoolLimit, SetAvgTimingIterations int
		SetInt8Calibrator                                   int // Absent in 11
		SetDLACore, SetDefaultDeviceType                    int
		AddOptimizationProfile                              int
		SetCalibrationProfile                               int // Absent in 11
	}
	// Profile is the apiv VOptimizationProfile (IOptimizationProfile).
	Profile    struct{ SetDimensions int }
	HostMemory struct{ Data, Size int }
	Runtime    struct {
		// DeserializeCudaEngine is (blob, size) in 10/11; in 8.6 it takes a
		// third argument, IPluginFactory* (null), see PluginFactoryArg.
		DeserializeCudaEngine int
	}
	Engine struct {
		// CreateExecutionContext takes ExecutionContextAllocationStrategy
		// in 10/11, nothing in 8.6.
		CreateExecutionContext, GetNbIOTensors, GetIOTensorName int
		GetTensorShape, GetTensorIOMode                         int
		GetTensorDataType                                       int
	}
	Context struct{ SetInputShape, SetTensorAddress, EnqueueV3 int }
	Parser  struct {
		Parse, GetNbErrors, GetError int
		Delete                       int // D0 of nvonnxparser::IParser
	}
	ParserError struct{ Code, Desc int }

	// Layout facts that go with the slots.
	Dims32           bool // Dims is Dims32 {int32 nbDims; int32 d[8]} (8.x), else Dims64
	PluginFactoryArg bool // VRuntime::deserializeCudaEngine(blob, size, IPluginFactory*) (8.x)
	ContextNoArgs    bool // VCudaEngine::createExecutionContext() takes no strategy (8.x)
	VersionedLogger  bool // ILogger derives from IVersionedInterface (11.x)
	Calibrator       int  // IInt8Calibrator layout: 0 none (11.x), 8 not versioned, 10 versioned
}

// slots8 is TensorRT 8.6, counted from include/NvInferImpl.h at tag
// v8.6.1 and NvOnnxParser.h of onnx/onnx-tensorrt at 6ba67d34 (the
// parsers/onnx submodule of v8.6.1). The numbers in research notes §2.5
// (createBuilderConfig, createNetworkV2, buildSerializedNetwork,
// setInt8Calibrator, setFlag, setMemoryPoolLimit, deserializeCudaEngine,
// createExecutionContext, getNbIOTensors, getIOTensorName,
// setTensorAddress, enqueueV3) agree; the others were counted here.
var slots8 = func() *Slots {
	s := &Slots{Major: 8, Source: "NVIDIA/TensorRT v8.6.1 include/NvInferImpl.h; onnx/onnx-tensorrt@6ba67d34 NvOnnxParser.h", Delete: 1}
	s.Builder.PlatformHasFastInt8 = 5
	s.Builder.GetNbDLACores = 7
	s.Builder.CreateBuilderConfig = 9
	s.Builder.CreateNetworkV2 = 11
	s.Builder.BuildSerializedNetwork = 17
	s.Builder.CreateOptimizationProfile = 12
	s.Config.SetAvgTimingIterations = 4 // after set/getMinTimingIterations, which 10.0 removed
	s.Config.SetInt8Calibrator = 8
	s.Config.SetFlag = 15
	s.Config.SetDLACore = 22
	s.Config.SetDefaultDeviceType = 24
	s.Config.SetMemoryPoolLimit = 47
	s.Config.AddOptimizationProfile = 29
	s.Config.SetCalibrationProfile = 35
	s.Profile.SetDimensions = 2
	s.HostMemory.Data, s.HostMemory.Size = 2, 3
	s.Runtime.DeserializeCudaEngine = 2
	s.Engine.CreateExecutionContext = 11
	s.Engine.GetTensorShape = 34
	s.Engine.GetTensorDataType = 35
	s.Engine.GetTensorIOMode = 38
	s.Engine.GetNbIOTensors = 45
	s.Engine.GetIOTensorName = 46
	s.Context.SetInputShape = 29
	s.Context.SetTensorAddress = 32
	s.Context.EnqueueV3 = 44
	// IParser 8.6: parse 0, parseFromFile 1, supportsModel 2,
	// parseWithWeightDescriptors 3, supportsOperator 4, destroy 5,
	// getNbErrors 6, getError 7, clearErrors 8, ~IParser 9/10.
	s.Parser.Parse, s.Parser.GetNbErrors, s.Parser.GetError, s.Parser.Delete = 0, 6, 7, 10
	s.ParserError.Code, s.ParserError.Desc = 0, 1
	s.Dims32, s.PluginFactoryArg, s.ContextNoArgs = true, true, true
	s.Calibrator = 8
	return s
}()

// slots10 is TensorRT 10.x, from research notes §2.4 (tag v10.16) and
// recounted from include/NvInferImpl.h at v10.16 and v10.0.0, which agree
// for every slot here (10.x vtables only grow at the end). Parser: §2.7
// (v10.16 include/NvOnnxParser.h), recounted, and the same in
// onnx/onnx-tensorrt's 10.0-GA NvOnnxParser.h.
var slots10 = func() *Slots {
	s := &Slots{Major: 10, Source: "NVIDIA/TensorRT v10.16 (and v10.0.0) include/NvInferImpl.h, include/NvOnnxParser.h", Delete: 1}
	s.Builder.PlatformHasFastInt8 = 3
	s.Builder.GetNbDLACores = 5
	s.Builder.CreateBuilderConfig = 7
	s.Builder.CreateNetworkV2 = 8
	s.Builder.BuildSerializedNetwork = 14
	s.Builder.CreateOptimizationProfile = 9
	s.Config.SetAvgTimingIterations = 2
	s.Config.SetInt8Calibrator = 6
	s.Config.SetFlag = 11
	s.Config.SetDLACore = 18
	s.Config.SetDefaultDeviceType = 20
	s.Config.SetMemoryPoolLimit = 43
	s.Config.AddOptimizationProfile = 25
	s.Config.SetCalibrationProfile = 31
	s.Profile.SetDimensions = 2
	s.HostMemory.Data, s.HostMemory.Size = 2, 3
	s.Runtime.DeserializeCudaEngine = 3
	s.Engine.CreateExecutionContext = 5
	s.Engine.GetTensorShape = 19
	s.Engine.GetTensorDataType = 20
	s.Engine.GetTensorIOMode = 23
	s.Engine.GetNbIOTensors = 30
	s.Engine.GetIOTensorName = 31
	s.Context.SetInputShape = 21
	s.Context.SetTensorAddress = 24
	s.Context.EnqueueV3 = 37
	s.Parser.Parse, s.Parser.GetNbErrors, s.Parser.GetError, s.Parser.Delete = 0, 5, 6, 9
	s.ParserError.Code, s.ParserError.Desc = 0, 1
	s.Calibrator = 10
	return s
}()

// slots11 is TensorRT 11.x, counted from include/NvInferImpl.h and
// include/NvOnnxParser.h at tag v11.1 (v11.0's lists are a prefix of
// v11.1's for every class here). Research notes §2.5 give the same
// numbers where they give one.
var slots11 = func() *Slots {
	s := &Slots{Major: 11, Source: "NVIDIA/TensorRT v11.1 (and v11.0) include/NvInferImpl.h, include/NvOnnxParser.h", Delete: 1}
	s.Builder.PlatformHasFastInt8 = Absent // removed in 11.0
	s.Builder.GetNbDLACores = 3
	s.Builder.CreateBuilderConfig = 5
	s.Builder.CreateNetworkV2 = 6
	s.Builder.BuildSerializedNetwork = 11
	s.Builder.CreateOptimizationProfile = 7
	s.Config.SetAvgTimingIterations = 2
	s.Config.SetInt8Calibrator = Absent // removed in 11.0 with implicit quantization
	s.Config.SetFlag = 9
	s.Config.SetDLACore = 16
	s.Config.SetDefaultDeviceType = 18
	s.Config.SetMemoryPoolLimit = 32
	s.Config.AddOptimizationProfile = 23
	s.Config.SetCalibrationProfile = Absent // removed in 11.0 with implicit quantization
	s.Profile.SetDimensions = 2
	s.HostMemory.Data, s.HostMemory.Size = 2, 3
	s.Runtime.DeserializeCudaEngine = 3
	s.Engine.CreateExecutionContext = 5
	s.Engine.GetTensorShape = 15
	s.Engine.GetTensorDataType = 16
	s.Engine.GetTensorIOMode = 19
	s.Engine.GetNbIOTensors = 26
	s.Engine.GetIOTensorName = 27
	s.Context.SetInputShape = 20
	s.Context.SetTensorAddress = 23
	s.Context.EnqueueV3 = 36
	s.Parser.Parse, s.Parser.GetNbErrors, s.Parser.GetError, s.Parser.Delete = 0, 3, 4, 7
	s.ParserError.Code, s.ParserError.Desc = 0, 1
	s.VersionedLogger = true
	return s
}()

// The dynamic-shape slots (createOptimizationProfile,
// addOptimizationProfile, VOptimizationProfile::setDimensions,
// setInputShape, getTensorDataType) were counted with genvtables.py's
// parser from include/NvInferImpl.h at v8.6.1, v10.0.0 and v10.16 (which
// agree), v11.0 and v11.1 (which agree).

// Majors are the major versions ForMajor has tables for.
var Majors = []int{8, 10, 11}

// ForMajor returns the slot table for a TensorRT major version.
func ForMajor(major int) (*Slots, error) {
	switch major {
	case 8:
		return slots8, nil
	case 10:
		return slots10, nil
	case 11:
		return slots11, nil
	}
	return nil, fmt.Errorf("abi: no vtable slots for TensorRT %d.x; supported: 8.x (8.6), 10.x, 11.x", major)
}
