// trtdouble is the ABI test double for package abi: a stand-in for
// libnvinfer and libnvonnxparser that lays its objects out as TensorRT
// does, so that the Go side's vtable slot numbers, argument passing and
// struct returns can be checked without TensorRT or CUDA.
//
// Built by abi_test.go with g++ -std=c++17 -shared -fPIC -fvisibility=hidden
// -DTRT_MAJOR=8|10|11: only the C entry points are exported, so that the
// doubles of several major versions loaded into one process (RTLD_GLOBAL)
// do not interpose each other's vtables.
//
// - Every library object is a wrapper, [0] vptr (INoCopy's virtual
//   destructor), [8] mImpl, whose implementation class derives from
//   VRoot (two destructor slots) and declares its virtual methods in the
//   order of include/NvInferImpl.h for that major version
//   (trtdouble_vtables.h), so the compiler gives each method its real slot.
// - The ONNX parser is a plain abstract class, as in NvOnnxParser.h.
// - The application's ILogger and IInt8Calibrator are declared as the
//   public headers declare them for that major version.
// - Every call received and every object created or destroyed is
//   recorded, one line each, and read back with trtdouble_log.
// - For core/tensorrt's tests: a network parsed from a real ONNX model
//   (bytes starting 0x08, a ModelProto's ir_version) builds an engine with
//   LeNet's static I/O, data [1,1,28,28] in and prob [1,10] out, whose
//   enqueueV3 writes prob[j] = sum(data) + j into the output buffer (host
//   memory under the fake libcuda) and records it; the "ONNX..." model of
//   abi's tests keeps the input/aux/output engine. With an optimization
//   profile added to the config, the real model's engine has LeNet's
//   dynamic batch instead (data [-1,1,28,28], prob [-1,10]):
//   setInputShape sets the batch, which enqueueV3 needs, and it writes
//   prob[i][j] = sum(data[i]) + j. Profiles and setInputShape are recorded
//   with their dims; TRTDOUBLE_INT32_OUTPUT, read at deserialization,
//   makes getTensorDataType say kINT32 for outputs. TRTDOUBLE_DLA_CORES,
//   read at each call, is what getNbDLACores returns (default 2).
// - Building with kINT8 and a calibrator calls it from another thread as
//   TensorRT's builder does (calibrate below): algorithm, a legacy
//   calibrator's doubles and histogram cache, readCalibrationCache; with
//   no cache, getBatch until false (reading a real model's "data"
//   batches, whose sums are recorded) and writeCalibrationCache with a
//   table "computed" from them. The plan holds the cache read or the
//   table written, and for a model with Q/DQ nodes the number of
//   QuantizeLinear and DequantizeLinear names in its bytes ("qdq=N").
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#ifndef TRT_MAJOR
#error "define TRT_MAJOR to 8, 10 or 11"
#endif

namespace {

std::mutex mu;
std::string record;
std::set<void const*> live;

void rec(char const* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    std::lock_guard<std::mutex> g(mu);
    record += buf;
    record += '\n';
}

unsigned long p(void const* x) { return (unsigned long)(uintptr_t)x; }

void created(char const* kind, void const* obj, void const* impl) {
    {
        std::lock_guard<std::mutex> g(mu);
        live.insert(obj);
    }
    rec("new %s 0x%lx impl=0x%lx", kind, p(obj), p(impl));
}

void destroyed(char const* kind, void const* obj) {
    bool was;
    {
        std::lock_guard<std::mutex> g(mu);
        was = live.erase(obj) == 1;
    }
    rec("%s %s 0x%lx", was ? "delete" : "DOUBLE-DELETE", kind, p(obj));
}

void unexpected(char const* cls, char const* name, int slot, void const* self) {
    rec("UNEXPECTED %s::%s slot=%d this=0x%lx", cls, name, slot, p(self));
}

} // namespace

// ---- types shared with the application, as the headers declare them ----

#if TRT_MAJOR == 8
struct Dims { // Dims32 (NvInferRuntimeBase.h v8.6.1): 36 bytes
    int32_t nbDims;
    int32_t d[8];
};
#else
struct Dims { // Dims64 (NvInferRuntimeBase.h v10.x, v11.x): 72 bytes
    int32_t nbDims;
    int64_t d[8];
};
#endif

struct InterfaceInfo {
    char const* kind;
    int32_t major;
    int32_t minor;
};

#if TRT_MAJOR >= 10
class IVersionedInterface {
public:
    virtual int32_t getAPILanguage() const noexcept { return 0; }
    virtual InterfaceInfo getInterfaceInfo() const noexcept = 0;
    virtual ~IVersionedInterface() noexcept = default;
};
#endif

#if TRT_MAJOR == 11
class ILogger : public IVersionedInterface { // [getAPILanguage, getInterfaceInfo, D1, D0, log]
public:
    virtual void log(int32_t severity, char const* msg) noexcept = 0;
};
#else
class ILogger { // [log, D1, D0]
public:
    virtual void log(int32_t severity, char const* msg) noexcept = 0;
    virtual ~ILogger() = default;
};
#endif

#if TRT_MAJOR == 8
class IInt8Calibrator { // not versioned: [5 methods, D1, D0]
public:
    virtual int32_t getBatchSize() const noexcept = 0;
    virtual bool getBatch(void* bindings[], char const* names[], int32_t nbBindings) noexcept = 0;
    virtual void const* readCalibrationCache(std::size_t& length) noexcept = 0;
    virtual void writeCalibrationCache(void const* ptr, std::size_t length) noexcept = 0;
    virtual int32_t getAlgorithm() noexcept = 0;
    virtual ~IInt8Calibrator() noexcept = default;
};
#elif TRT_MAJOR == 10
class IInt8Calibrator : public IVersionedInterface { // [getAPILanguage, getInterfaceInfo, D1, D0, 5 methods]
public:
    virtual int32_t getBatchSize() const noexcept = 0;
    virtual bool getBatch(void* bindings[], char const* names[], int32_t nbBindings) noexcept = 0;
    virtual void const* readCalibrationCache(std::size_t& length) noexcept = 0;
    virtual void writeCalibrationCache(void const* ptr, std::size_t length) noexcept = 0;
    virtual int32_t getAlgorithm() noexcept = 0;
};
#endif
#if TRT_MAJOR == 8 || TRT_MAJOR == 10
// NvInfer.h v8.6.1 and v10.16: four methods after IInt8Calibrator's; the
// 10.x class's getInterfaceInfo says "IInt8Calibrator".
class IInt8LegacyCalibrator : public IInt8Calibrator {
public:
    virtual double getQuantile() const noexcept = 0;
    virtual double getRegressionCutoff() const noexcept = 0;
    virtual void const* readHistogramCache(std::size_t& length) noexcept = 0;
    virtual void writeHistogramCache(void const* ptr, std::size_t length) noexcept = 0;
};
#else
class IInt8Calibrator; // removed in 11.0
#endif

// ---- library objects: wrapper [vptr, mImpl] over an apiv-ordered class ----

class INoCopy {
public:
    virtual ~INoCopy() = default;
};

class VRoot {
public:
    virtual ~VRoot() noexcept = default;
};

template <class V>
class Wrapper : public INoCopy {
public:
    V* mImpl;
    char const* kind;
    Wrapper(char const* k, V* impl) : mImpl(impl), kind(k) { created(kind, this, impl); }
    ~Wrapper() override {
        destroyed(kind, this);
        delete mImpl;
    }
};

class VHostMemory;
class VBuilder;
class VBuilderConfig;
class VNetworkDefinition;
class VRuntime;
class VCudaEngine;
class VExecutionContext;
class VOptimizationProfile;
using IOptimizationProfile = Wrapper<VOptimizationProfile>;
using IHostMemory = Wrapper<VHostMemory>;
using IBuilder = Wrapper<VBuilder>;
using IBuilderConfig = Wrapper<VBuilderConfig>;
using INetworkDefinition = Wrapper<VNetworkDefinition>;
using IRuntime = Wrapper<VRuntime>;
using ICudaEngine = Wrapper<VCudaEngine>;
using IExecutionContext = Wrapper<VExecutionContext>;
class IParserError;

#define TRTD_STUB(cls, name, slot) \
    virtual void name##_##slot() { unexpected(#cls, #name, slot, this); }
#define TRTD_DTOR(cls) virtual ~cls() noexcept;

// The implemented methods, with their signatures for this major version.
#define TRTD_VHostMemory_data virtual void* data() const noexcept;
#define TRTD_VHostMemory_size virtual std::size_t size() const noexcept;
#define TRTD_VBuilder_platformHasFastInt8 virtual bool platformHasFastInt8() const noexcept;
#define TRTD_VBuilder_getNbDLACores virtual int32_t getNbDLACores() const noexcept;
#define TRTD_VBuilder_createBuilderConfig virtual IBuilderConfig* createBuilderConfig() noexcept;
#define TRTD_VBuilder_createNetworkV2 virtual INetworkDefinition* createNetworkV2(uint32_t flags) noexcept;
#define TRTD_VBuilder_createOptimizationProfile virtual IOptimizationProfile* createOptimizationProfile() noexcept;
#define TRTD_VBuilderConfig_addOptimizationProfile virtual int32_t addOptimizationProfile(IOptimizationProfile const* profile) noexcept;
#define TRTD_VOptimizationProfile_setDimensions virtual bool setDimensions(char const* inputName, int32_t select, Dims const& dims) noexcept;
#define TRTD_VCudaEngine_getTensorDataType virtual int32_t getTensorDataType(char const* name) const noexcept;
#define TRTD_VExecutionContext_setInputShape virtual bool setInputShape(char const* name, Dims const& dims) noexcept;
#define TRTD_VBuilder_buildSerializedNetwork virtual IHostMemory* buildSerializedNetwork(INetworkDefinition& network, IBuilderConfig& config) noexcept;
#define TRTD_VBuilderConfig_setAvgTimingIterations virtual void setAvgTimingIterations(int32_t avgTiming) noexcept;
#define TRTD_VBuilderConfig_setInt8Calibrator virtual void setInt8Calibrator(IInt8Calibrator* calibrator) noexcept;
#define TRTD_VBuilderConfig_setFlag virtual void setFlag(int32_t flag) noexcept;
#define TRTD_VBuilderConfig_setDLACore virtual void setDLACore(int32_t core) noexcept;
#define TRTD_VBuilderConfig_setDefaultDeviceType virtual void setDefaultDeviceType(int32_t type) noexcept;
#define TRTD_VBuilderConfig_setCalibrationProfile virtual bool setCalibrationProfile(IOptimizationProfile const* profile) noexcept;
#define TRTD_VBuilderConfig_setMemoryPoolLimit virtual void setMemoryPoolLimit(int32_t pool, std::size_t size) noexcept;
#if TRT_MAJOR == 8
#define TRTD_VRuntime_deserializeCudaEngine virtual ICudaEngine* deserializeCudaEngine(void const* blob, std::size_t size, void* pluginFactory) noexcept;
#define TRTD_VCudaEngine_createExecutionContext virtual IExecutionContext* createExecutionContext() noexcept;
#else
#define TRTD_VRuntime_deserializeCudaEngine virtual ICudaEngine* deserializeCudaEngine(void const* blob, std::size_t size) noexcept;
#define TRTD_VCudaEngine_createExecutionContext virtual IExecutionContext* createExecutionContext(int32_t strategy) noexcept;
#endif
#define TRTD_VCudaEngine_getTensorShape virtual Dims getTensorShape(char const* name) const noexcept;
#define TRTD_VCudaEngine_getTensorIOMode virtual int32_t getTensorIOMode(char const* name) const noexcept;
#define TRTD_VCudaEngine_getNbIOTensors virtual int32_t getNbIOTensors() const noexcept;
#define TRTD_VCudaEngine_getIOTensorName virtual char const* getIOTensorName(int32_t index) const noexcept;
#define TRTD_VExecutionContext_setTensorAddress virtual bool setTensorAddress(char const* name, void* data) noexcept;
#define TRTD_VExecutionContext_enqueueV3 virtual bool enqueueV3(void* stream) noexcept;
#define TRTD_IParser_parse virtual bool parse(void const* data, std::size_t size, char const* path) noexcept;
#define TRTD_IParser_getNbErrors virtual int getNbErrors() const noexcept;
#define TRTD_IParser_getError virtual IParserError const* getError(int index) const noexcept;
#define TRTD_IParserError_code virtual int code() const noexcept;
#define TRTD_IParserError_desc virtual char const* desc() const noexcept;

#include "trtdouble_vtables.h"

// The engine's I/O tensors.
struct Tensor {
    char const* name;
    int32_t mode; // TensorIOMode: 1 input, 2 output
    Dims dims;
    int32_t type; // DataType: 0 kFLOAT (the default), 3 kINT32, …
};
#if TRT_MAJOR == 8
static int32_t const kBig = 9;
#else
static int64_t const kBig = int64_t(1) << 33; // needs the 64-bit d[]
#endif
static Tensor const kTensors[] = {
    {"input", 1, {4, {-1, 1, 28, 28}}},
    {"aux", 1, {2, {7, kBig}}},
    {"output", 2, {2, {-1, 10}}},
};
static int const kNbTensors = 3;
// An engine built from a real ONNX model (a ModelProto's bytes, which
// start with field 1, ir_version: 0x08) has LeNet's static I/O instead:
// data [1,1,28,28] in, prob [1,10] out, and enqueueV3 writes
// prob[j] = sum(data) + j into the output buffer, reading the input
// (host memory under the fake libcuda).
static Tensor const kStaticTensors[] = {
    {"data", 1, {4, {1, 1, 28, 28}}},
    {"prob", 2, {2, {1, 10}}},
};
static int const kNbStaticTensors = 2;
static char const kStaticMark[] = "\nio=static";
// Built from a real ONNX model with an optimization profile added, the
// engine has LeNet's dynamic batch: data [-1,1,28,28] in, prob [-1,10]
// out; setInputShape("data", [n,1,28,28]) sets the batch, and enqueueV3
// refuses to run before it, then writes prob[i][j] = sum(data[i]) + j.
static Tensor const kDynamicTensors[] = {
    {"data", 1, {4, {-1, 1, 28, 28}}},
    {"prob", 2, {2, {-1, 10}}},
};
static char const kDynamicMark[] = "\nio=dynamic";
// TRTDOUBLE_INT32_OUTPUT set at deserialization makes the output int32
// (DataType::kINT32), for the refusal of non-float32 I/O.

static void logTo(ILogger* logger, int32_t sev, char const* msg) {
    if (logger) logger->log(sev, msg);
}

#if TRT_MAJOR == 11
static void checkLogger(ILogger* logger) {
    if (!logger) return;
    InterfaceInfo info = logger->getInterfaceInfo();
    rec("ILogger.getInterfaceInfo -> kind=%s major=%d minor=%d api=%d", info.kind ? info.kind : "(null)", info.major, info.minor,
        logger->getAPILanguage());
}
#else
static void checkLogger(ILogger*) {}
#endif

static std::string dimsString(Dims const& d) {
    std::string s = "[";
    for (int i = 0; i < d.nbDims && i < 8; i++) {
        if (i) s += ",";
        s += std::to_string((long long)d.d[i]);
    }
    return s + "]";
}

class VOptimizationProfile : public VRoot {
public:
    int64_t batch = 0; // the first dimension set, the batch calibration uses
    TRTD_VOptimizationProfile_VTABLE
};
bool VOptimizationProfile::setDimensions(char const* name, int32_t select, Dims const& dims) noexcept {
    rec("VOptimizationProfile.setDimensions this=0x%lx name=%s select=%d dims=%s", p(this), name ? name : "(null)", select,
        dimsString(dims).c_str());
    if (dims.nbDims > 0) batch = dims.d[0];
    return name != nullptr && select >= 0 && select <= 2 && dims.nbDims >= 0 && dims.nbDims <= 8;
}

class VHostMemory : public VRoot {
public:
    std::string bytes;
    TRTD_VHostMemory_VTABLE
};
void* VHostMemory::data() const noexcept {
    rec("VHostMemory.data this=0x%lx", p(this));
    return (void*)bytes.data();
}
std::size_t VHostMemory::size() const noexcept {
    rec("VHostMemory.size this=0x%lx", p(this));
    return bytes.size();
}

class VNetworkDefinition : public VRoot {
public:
    uint32_t flags = 0;
    bool parsed = false;
    bool staticIO = false; // parsed from a real ONNX model
    int qdq = 0;           // QuantizeLinear and DequantizeLinear names in the model's bytes
};

class VBuilderConfig : public VRoot {
public:
    uint32_t flags = 0;
    IInt8Calibrator* calibrator = nullptr;
    int32_t nbProfiles = 0;
    // The calibration profile's batch; -1 while none is set, which a
    // network with runtime dimensions does not calibrate without
    // (NvInfer.h: "must be set"). 1 for static shapes.
    int64_t calibrationBatch = -1;
    TRTD_VBuilderConfig_VTABLE
};
void VBuilderConfig::setAvgTimingIterations(int32_t n) noexcept { rec("VBuilderConfig.setAvgTimingIterations this=0x%lx n=%d", p(this), n); }
#if TRT_MAJOR != 11
void VBuilderConfig::setInt8Calibrator(IInt8Calibrator* c) noexcept {
    rec("VBuilderConfig.setInt8Calibrator this=0x%lx calibrator=0x%lx", p(this), p(c));
    calibrator = c;
}
#endif
void VBuilderConfig::setFlag(int32_t f) noexcept {
    rec("VBuilderConfig.setFlag this=0x%lx flag=%d", p(this), f);
    if (f >= 0 && f < 32) flags |= 1u << f;
}
int32_t VBuilderConfig::addOptimizationProfile(IOptimizationProfile const* profile) noexcept {
    int32_t i = profile ? nbProfiles++ : -1;
    rec("VBuilderConfig.addOptimizationProfile this=0x%lx profile=0x%lx -> %d", p(this), p(profile), i);
    return i;
}
#if TRT_MAJOR != 11
bool VBuilderConfig::setCalibrationProfile(IOptimizationProfile const* profile) noexcept {
    rec("VBuilderConfig.setCalibrationProfile this=0x%lx profile=0x%lx", p(this), p(profile));
    if (!profile || profile->mImpl->batch <= 0) return false;
    calibrationBatch = profile->mImpl->batch;
    return true;
}
#endif
void VBuilderConfig::setDLACore(int32_t c) noexcept { rec("VBuilderConfig.setDLACore this=0x%lx core=%d", p(this), c); }
void VBuilderConfig::setDefaultDeviceType(int32_t t) noexcept { rec("VBuilderConfig.setDefaultDeviceType this=0x%lx type=%d", p(this), t); }
void VBuilderConfig::setMemoryPoolLimit(int32_t pool, std::size_t size) noexcept {
    rec("VBuilderConfig.setMemoryPoolLimit this=0x%lx pool=%d size=%zu", p(this), pool, size);
}

class VBuilder : public VRoot {
public:
    ILogger* logger = nullptr;
    std::vector<IOptimizationProfile*> profiles; // owned by the builder, as in TensorRT
    ~VBuilder() noexcept override {
        for (auto* q : profiles) delete q;
    }
    TRTD_VBuilder_VTABLE
};
IOptimizationProfile* VBuilder::createOptimizationProfile() noexcept {
    auto* q = new IOptimizationProfile("IOptimizationProfile", new VOptimizationProfile);
    profiles.push_back(q);
    rec("VBuilder.createOptimizationProfile this=0x%lx -> 0x%lx", p(this), p(q));
    return q;
}
#if TRT_MAJOR != 11
bool VBuilder::platformHasFastInt8() const noexcept {
    rec("VBuilder.platformHasFastInt8 this=0x%lx", p(this));
    return true;
}
#endif
int32_t VBuilder::getNbDLACores() const noexcept {
    rec("VBuilder.getNbDLACores this=0x%lx", p(this));
    // TRTDOUBLE_DLA_CORES, read at each call, changes the default 2.
    char const* s = getenv("TRTDOUBLE_DLA_CORES");
    return s && *s ? atoi(s) : 2;
}
IBuilderConfig* VBuilder::createBuilderConfig() noexcept {
    auto* c = new IBuilderConfig("IBuilderConfig", new VBuilderConfig);
    rec("VBuilder.createBuilderConfig this=0x%lx -> 0x%lx", p(this), p(c));
    return c;
}
INetworkDefinition* VBuilder::createNetworkV2(uint32_t flags) noexcept {
    auto* impl = new VNetworkDefinition;
    impl->flags = flags;
    auto* n = new INetworkDefinition("INetworkDefinition", impl);
    rec("VBuilder.createNetworkV2 this=0x%lx flags=%u -> 0x%lx", p(this), flags, p(n));
    return n;
}

// count is the number of times name occurs in the model's bytes.
static int count(void const* data, std::size_t size, char const* name) {
    std::string bytes((char const*)data, size);
    int n = 0;
    for (std::size_t at = bytes.find(name); at != std::string::npos; at = bytes.find(name, at + 1)) n++;
    return n;
}

#if TRT_MAJOR != 11
// oneLine escapes the newlines of a table for the record's one-line entries.
static std::string oneLine(std::string s) {
    for (std::size_t at = s.find('\n'); at != std::string::npos; at = s.find('\n', at + 2)) s.replace(at, 1, "\\n");
    return s;
}

static char const* algorithmName(int32_t algo) {
    switch (algo) {
    case 0: return "LegacyCalibration";
    case 1: return "EntropyCalibration";
    case 2: return "EntropyCalibration2";
    case 3: return "MinMaxCalibration";
    }
    return "Unknown";
}

static std::string hexFloat(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    char b[16];
    snprintf(b, sizeof b, "%08x", u);
    return b;
}

// calibrate calls the calibrator as TensorRT's builder does, from its own
// thread: the algorithm (and a legacy calibrator's parameters and
// histogram cache), then readCalibrationCache; a cache is used as it is,
// otherwise getBatch is called until it returns false and the table
// "computed" from the batches goes to writeCalibrationCache. The network
// of a real ONNX model has LeNet's input "data", whose batches (batch x
// 784 floats, host memory under the fake libcuda) are read: each one's
// sum is recorded, and the table's data scale is max|x|/127. The "ONNX"
// model of abi's tests has the inputs "input" and "aux", whose pointers
// are only recorded. It returns the cache read or the table written.
static std::string calibrate(IInt8Calibrator* cal, VNetworkDefinition const* net, int64_t batch) {
#if TRT_MAJOR == 10
    InterfaceInfo info = cal->getInterfaceInfo();
    rec("IInt8Calibrator.getInterfaceInfo -> kind=%s major=%d minor=%d api=%d", info.kind ? info.kind : "(null)", info.major,
        info.minor, cal->getAPILanguage());
#endif
    rec("IInt8Calibrator.getBatchSize -> %d", cal->getBatchSize());
    int32_t algo = cal->getAlgorithm();
    rec("IInt8Calibrator.getAlgorithm -> %d", algo);
    IInt8LegacyCalibrator* legacy = algo == 0 ? static_cast<IInt8LegacyCalibrator*>(cal) : nullptr;
    if (legacy) {
        rec("IInt8LegacyCalibrator.getQuantile -> %.17g", legacy->getQuantile());
        rec("IInt8LegacyCalibrator.getRegressionCutoff -> %.17g", legacy->getRegressionCutoff());
        std::size_t hlen = 777;
        void const* hist = legacy->readHistogramCache(hlen);
        if (hist == nullptr) hlen = 0;
        rec("IInt8LegacyCalibrator.readHistogramCache -> null=%d len=%zu data=%s", hist == nullptr, hlen,
            oneLine(std::string((char const*)hist, hlen)).c_str());
    }
    std::size_t len = 12345;
    void const* data = cal->readCalibrationCache(len);
    if (data == nullptr) len = 0;
    std::string cache((char const*)data, len);
    rec("IInt8Calibrator.readCalibrationCache -> null=%d len=%zu data=%s", data == nullptr, len, oneLine(cache).c_str());
    if (len > 0) return cache;

    char const* names[2] = {"input", "aux"};
    int nb = 2;
    if (net->staticIO) {
        names[0] = "data";
        nb = 1;
    }
    float amax = 0;
    for (int i = 0; i < 1000; i++) {
        void* bindings[2] = {(void*)0xdeadbeef, (void*)0xdeadbeef};
        if (!cal->getBatch(bindings, names, nb)) {
            rec("IInt8Calibrator.getBatch #%d -> false", i);
            break;
        }
        if (!net->staticIO) {
            rec("IInt8Calibrator.getBatch #%d -> true input=0x%lx aux=0x%lx", i, p(bindings[0]), p(bindings[1]));
            continue;
        }
        float const* x = (float const*)bindings[0];
        double sum = 0;
        for (int64_t j = 0; j < batch * 784; j++) {
            sum += x[j];
            if (x[j] > amax) amax = x[j];
            if (-x[j] > amax) amax = -x[j];
        }
        rec("IInt8Calibrator.getBatch #%d -> true data sum=%.9g", i, sum);
    }
    char version[16];
    snprintf(version, sizeof version, "%d", TRT_MAJOR == 8 ? 8601 : 101601);
    std::string table = std::string("TRT-") + version + "-" + algorithmName(algo) + "\n";
    if (net->staticIO)
        table += "data: " + hexFloat(amax / 127) + "\nprob: 3c010a14\n";
    else
        table += "input: 3c010a14\naux: 3d4ccccd\n";
    if (legacy) {
        static char const kHistogram[] = "HISTOGRAMS";
        legacy->writeHistogramCache(kHistogram, sizeof kHistogram - 1);
        rec("IInt8LegacyCalibrator.writeHistogramCache len=%zu", sizeof kHistogram - 1);
    }
    cal->writeCalibrationCache(table.data(), table.size());
    rec("IInt8Calibrator.writeCalibrationCache len=%zu data=%s", table.size(), oneLine(table).c_str());
    return table;
}
#endif

IHostMemory* VBuilder::buildSerializedNetwork(INetworkDefinition& network, IBuilderConfig& config) noexcept {
    rec("VBuilder.buildSerializedNetwork this=0x%lx network=0x%lx config=0x%lx", p(this), p(&network), p(&config));
    if (!network.mImpl->parsed) {
        logTo(logger, 1, "buildSerializedNetwork: the network is empty");
        return nullptr;
    }
    VBuilderConfig* cfg = config.mImpl;
    // The builder logs from worker threads: 8 threads x 125 messages.
    std::vector<std::thread> ts;
    for (int t = 0; t < 8; t++) {
        ts.emplace_back([this, t] {
            char msg[64];
            for (int i = 0; i < 125; i++) {
                snprintf(msg, sizeof msg, "worker %d message %d", t, i);
                logTo(logger, 4, msg);
            }
        });
    }
    for (auto& t : ts) t.join();
    std::string calib = "none";
#if TRT_MAJOR != 11
    if ((cfg->flags & (1u << 1)) && cfg->calibrator) { // BuilderFlag::kINT8 = 1
        IInt8Calibrator* cal = cfg->calibrator;
        VNetworkDefinition const* net = network.mImpl;
        int64_t batch = cfg->nbProfiles == 0 ? 1 : cfg->calibrationBatch;
        if (batch < 0) {
            logTo(logger, 1, "buildSerializedNetwork: INT8 calibration of a network with runtime dimensions needs a calibration profile");
            return nullptr;
        }
        std::thread t([&] { calib = calibrate(cal, net, batch); });
        t.join();
    }
#endif
    auto* impl = new VHostMemory;
    char head[96];
    snprintf(head, sizeof head, "TRTDOUBLE-ENGINE major=%d flags=%u\n", TRT_MAJOR, cfg->flags);
    impl->bytes = std::string(head) + calib;
    if (network.mImpl->staticIO) impl->bytes += cfg->nbProfiles > 0 ? kDynamicMark : kStaticMark;
    if (network.mImpl->qdq > 0) impl->bytes += "\nqdq=" + std::to_string(network.mImpl->qdq);
    auto* m = new IHostMemory("IHostMemory", impl);
    logTo(logger, 3, "buildSerializedNetwork: done");
    return m;
}

class VExecutionContext : public VRoot {
public:
    Tensor const* tensors = kTensors;
    int nbTensors = kNbTensors;
    void* addr[kNbTensors] = {};
    int64_t batch = -1; // set by setInputShape
    TRTD_VExecutionContext_VTABLE
};
bool VExecutionContext::setTensorAddress(char const* name, void* data) noexcept {
    rec("VExecutionContext.setTensorAddress this=0x%lx name=%s data=0x%lx", p(this), name ? name : "(null)", p(data));
    for (int i = 0; i < nbTensors; i++) {
        if (name && strcmp(name, tensors[i].name) == 0) {
            addr[i] = data;
            return true;
        }
    }
    return false;
}
bool VExecutionContext::setInputShape(char const* name, Dims const& dims) noexcept {
    rec("VExecutionContext.setInputShape this=0x%lx name=%s dims=%s", p(this), name ? name : "(null)", dimsString(dims).c_str());
    for (int i = 0; i < nbTensors; i++)
        if (name && strcmp(name, tensors[i].name) == 0) {
            if (tensors[i].mode != 1 || dims.nbDims != tensors[i].dims.nbDims || dims.nbDims < 1) return false;
            for (int j = 1; j < dims.nbDims; j++)
                if (tensors[i].dims.d[j] >= 0 && dims.d[j] != tensors[i].dims.d[j]) return false;
            if (dims.d[0] < 1) return false;
            batch = dims.d[0];
            return true;
        }
    return false;
}
bool VExecutionContext::enqueueV3(void* stream) noexcept {
    bool ok = true;
    for (int i = 0; i < nbTensors; i++) ok = ok && addr[i] != nullptr;
    rec("VExecutionContext.enqueueV3 this=0x%lx stream=0x%lx -> %d", p(this), p(stream), ok);
    if (ok && tensors == kDynamicTensors && batch < 1) {
        rec("VExecutionContext.enqueueV3 refused: no setInputShape for the dynamic input data");
        return false;
    }
    if (ok && tensors == kStaticTensors) {
        float const* in = (float const*)addr[0];
        float* out = (float*)addr[1];
        double sum = 0;
        for (int i = 0; i < 28 * 28; i++) sum += in[i];
        for (int j = 0; j < 10; j++) out[j] = (float)sum + (float)j;
        rec("VExecutionContext.enqueueV3 wrote prob[j] = sum(data) + j to 0x%lx, sum(data)=%g", p(out), sum);
    }
    if (ok && tensors == kDynamicTensors) {
        float const* in = (float const*)addr[0];
        float* out = (float*)addr[1];
        for (int64_t b = 0; b < batch; b++) {
            double sum = 0;
            for (int i = 0; i < 28 * 28; i++) sum += in[b * 28 * 28 + i];
            for (int j = 0; j < 10; j++) out[b * 10 + j] = (float)sum + (float)j;
        }
        rec("VExecutionContext.enqueueV3 wrote prob[i][j] = sum(data[i]) + j to 0x%lx, batch=%lld", p(out), (long long)batch);
    }
    return ok;
}

class VCudaEngine : public VRoot {
public:
    Tensor const* tensors = kTensors;
    int nbTensors = kNbTensors;
    bool int32Output = false;
    IExecutionContext* newContext() const {
        auto* impl = new VExecutionContext;
        impl->tensors = tensors;
        impl->nbTensors = nbTensors;
        return new IExecutionContext("IExecutionContext", impl);
    }
    TRTD_VCudaEngine_VTABLE
};
#if TRT_MAJOR == 8
IExecutionContext* VCudaEngine::createExecutionContext() noexcept {
    auto* c = newContext();
    rec("VCudaEngine.createExecutionContext this=0x%lx -> 0x%lx", p(this), p(c));
    return c;
}
#else
IExecutionContext* VCudaEngine::createExecutionContext(int32_t strategy) noexcept {
    auto* c = newContext();
    rec("VCudaEngine.createExecutionContext this=0x%lx strategy=%d -> 0x%lx", p(this), strategy, p(c));
    return c;
}
#endif
Dims VCudaEngine::getTensorShape(char const* name) const noexcept {
    rec("VCudaEngine.getTensorShape this=0x%lx name=%s", p(this), name ? name : "(null)");
    for (int i = 0; i < nbTensors; i++)
        if (name && strcmp(name, tensors[i].name) == 0) return tensors[i].dims;
    Dims d{};
    d.nbDims = -1;
    return d;
}
int32_t VCudaEngine::getTensorDataType(char const* name) const noexcept {
    rec("VCudaEngine.getTensorDataType this=0x%lx name=%s", p(this), name ? name : "(null)");
    for (int i = 0; i < nbTensors; i++)
        if (name && strcmp(name, tensors[i].name) == 0) return int32Output && tensors[i].mode == 2 ? 3 : tensors[i].type;
    return 0;
}
int32_t VCudaEngine::getTensorIOMode(char const* name) const noexcept {
    rec("VCudaEngine.getTensorIOMode this=0x%lx name=%s", p(this), name ? name : "(null)");
    for (int i = 0; i < nbTensors; i++)
        if (name && strcmp(name, tensors[i].name) == 0) return tensors[i].mode;
    return 0;
}
int32_t VCudaEngine::getNbIOTensors() const noexcept {
    rec("VCudaEngine.getNbIOTensors this=0x%lx", p(this));
    return nbTensors;
}
char const* VCudaEngine::getIOTensorName(int32_t index) const noexcept {
    rec("VCudaEngine.getIOTensorName this=0x%lx index=%d", p(this), index);
    if (index < 0 || index >= nbTensors) return nullptr;
    return tensors[index].name;
}

class VRuntime : public VRoot {
public:
    ILogger* logger = nullptr;
    TRTD_VRuntime_VTABLE
};
#if TRT_MAJOR == 8
ICudaEngine* VRuntime::deserializeCudaEngine(void const* blob, std::size_t size, void* pluginFactory) noexcept {
    rec("VRuntime.deserializeCudaEngine this=0x%lx size=%zu pluginFactory=0x%lx", p(this), size, p(pluginFactory));
#else
ICudaEngine* VRuntime::deserializeCudaEngine(void const* blob, std::size_t size) noexcept {
    rec("VRuntime.deserializeCudaEngine this=0x%lx size=%zu", p(this), size);
#endif
    static char const magic[] = "TRTDOUBLE-ENGINE";
    if (blob == nullptr || size < sizeof magic - 1 || memcmp(blob, magic, sizeof magic - 1) != 0) {
        logTo(logger, 1, "deserializeCudaEngine: not an engine");
        return nullptr;
    }
    auto* impl = new VCudaEngine;
    std::string b((char const*)blob, size);
    if (b.find(kStaticMark) != std::string::npos) {
        impl->tensors = kStaticTensors;
        impl->nbTensors = kNbStaticTensors;
    }
    if (b.find(kDynamicMark) != std::string::npos) {
        impl->tensors = kDynamicTensors;
        impl->nbTensors = kNbStaticTensors;
    }
    char const* i32 = getenv("TRTDOUBLE_INT32_OUTPUT");
    impl->int32Output = i32 && *i32;
    return new ICudaEngine("ICudaEngine", impl);
}

// ---- the ONNX parser: plain abstract classes ----

class IParserError {
public:
    int mCode;
    std::string mDesc;
    TRTD_IParserError_VTABLE
};
int IParserError::code() const noexcept { return mCode; }
char const* IParserError::desc() const noexcept { return mDesc.c_str(); }
IParserError::~IParserError() noexcept {}

class IParser {
public:
    INetworkDefinition* network = nullptr;
    ILogger* logger = nullptr;
    std::vector<IParserError*> errors;
    TRTD_IParser_VTABLE
};
bool IParser::parse(void const* data, std::size_t size, char const* path) noexcept {
    rec("IParser.parse this=0x%lx size=%zu path=%s", p(this), size, path ? path : "(null)");
    if (data != nullptr && size >= 4 && memcmp(data, "ONNX", 4) == 0) {
        network->mImpl->parsed = true;
        return true;
    }
    if (data != nullptr && size >= 1 && ((unsigned char const*)data)[0] == 0x08) { // a ModelProto: ir_version first
        network->mImpl->parsed = true;
        network->mImpl->staticIO = true;
        network->mImpl->qdq = count(data, size, "QuantizeLinear") + count(data, size, "DequantizeLinear");
        return true;
    }
    auto* e = new IParserError;
    e->mCode = 4;
    e->mDesc = "not an ONNX model";
    errors.push_back(e);
    logTo(logger, 1, "parse: not an ONNX model");
    return false;
}
int IParser::getNbErrors() const noexcept {
    rec("IParser.getNbErrors this=0x%lx", p(this));
    return (int)errors.size();
}
IParserError const* IParser::getError(int index) const noexcept {
    rec("IParser.getError this=0x%lx index=%d", p(this), index);
    if (index < 0 || index >= (int)errors.size()) return nullptr;
    return errors[index];
}
IParser::~IParser() noexcept {
    destroyed("IParser", this);
    for (auto* e : errors) delete e;
}

// ---- C entry points ----

extern "C" {

#define TRTD_EXPORT __attribute__((visibility("default")))

#if TRT_MAJOR == 8
TRTD_EXPORT int32_t getInferLibVersion(void) { return 8601; }
#elif TRT_MAJOR == 10
TRTD_EXPORT int32_t getInferLibVersion(void) { return 101600; }
#else
TRTD_EXPORT int32_t getInferLibVersion(void) { return 110100; }
#endif
#if TRT_MAJOR >= 10
TRTD_EXPORT int32_t getInferLibMajorVersion(void) { return TRT_MAJOR; }
TRTD_EXPORT int32_t getInferLibMinorVersion(void) { return TRT_MAJOR == 10 ? 16 : 1; }
TRTD_EXPORT int32_t getInferLibPatchVersion(void) { return 0; }
TRTD_EXPORT int32_t getInferLibBuildVersion(void) { return 1; }
#endif

TRTD_EXPORT void* createInferBuilder_INTERNAL(void* logger, int32_t version) {
    rec("createInferBuilder_INTERNAL logger=0x%lx version=%d", p(logger), version);
    auto* impl = new VBuilder;
    impl->logger = (ILogger*)logger;
    checkLogger(impl->logger);
    logTo(impl->logger, 3, "createInferBuilder: hello from the double");
    return new IBuilder("IBuilder", impl);
}

TRTD_EXPORT void* createInferRuntime_INTERNAL(void* logger, int32_t version) {
    rec("createInferRuntime_INTERNAL logger=0x%lx version=%d", p(logger), version);
    auto* impl = new VRuntime;
    impl->logger = (ILogger*)logger;
    checkLogger(impl->logger);
    return new IRuntime("IRuntime", impl);
}

TRTD_EXPORT int getNvOnnxParserVersion(void) { return 100; }

TRTD_EXPORT void* createNvOnnxParser_INTERNAL(void* network, void* logger, int version) {
    auto* parser = new IParser;
    parser->network = (INetworkDefinition*)network;
    parser->logger = (ILogger*)logger;
    {
        std::lock_guard<std::mutex> g(mu);
        live.insert(parser);
    }
    rec("createNvOnnxParser_INTERNAL network=0x%lx logger=0x%lx version=%d -> 0x%lx", p(network), p(logger), version, p(parser));
    return parser;
}

// trtdouble_log copies up to n bytes of the record into buf and returns
// the record's whole length.
TRTD_EXPORT int64_t trtdouble_log(char* buf, int64_t n) {
    std::lock_guard<std::mutex> g(mu);
    int64_t len = (int64_t)record.size();
    if (buf && n > 0) memcpy(buf, record.data(), (size_t)(n < len ? n : len));
    return len;
}

TRTD_EXPORT void trtdouble_reset(void) {
    std::lock_guard<std::mutex> g(mu);
    record.clear();
}

// trtdouble_live is the number of library objects not yet destroyed.
TRTD_EXPORT int32_t trtdouble_live(void) {
    std::lock_guard<std::mutex> g(mu);
    return (int32_t)live.size();
}

} // extern "C"
