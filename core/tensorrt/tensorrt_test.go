package tensorrt

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/gpulibs"
	"github.com/int8cal/int8cal/loader"
	trtlib "github.com/int8cal/int8cal/loader/tensorrt"
	"github.com/int8cal/int8cal/loader/tensorrt/abi"
)

// The tests run the backend against loader/tensorrt/abi's C++ ABI test
// double, built for each major version, and loader/cudadriver's fake
// libcuda, whose device memory is host memory: the double's engine built
// from a real ONNX model has LeNet's I/O (data [1,1,28,28], prob [1,10])
// and its enqueueV3 writes prob[j] = sum(data) + j.

// compile builds a test library, or skips with the reason.
func compile(t *testing.T, compiler, out string, args ...string) string {
	t.Helper()
	cc, err := exec.LookPath(compiler)
	if err != nil {
		t.Skipf("no %s to build the test libraries (the ABI double needs g++, the fake libcuda gcc): %v", compiler, err)
	}
	cmd := exec.Command(cc, append([]string{"-shared", "-fPIC", "-o", out}, args...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", filepath.Base(out), err, b)
	}
	return out
}

var (
	buildOnce sync.Map // major → path of the double
	libDir    string   // where the doubles are built, for the whole run
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trtdouble")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	libDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// double builds the ABI double for major (once per test binary).
func doublePath(t *testing.T, major int) string {
	t.Helper()
	if p, ok := buildOnce.Load(major); ok {
		return p.(string)
	}
	p := compile(t, "g++", filepath.Join(libDir, fmt.Sprintf("libnvinfer.so.%d", major)),
		"-std=c++17", "-O1", "-fvisibility=hidden", "-Wl,-Bsymbolic", fmt.Sprintf("-DTRT_MAJOR=%d", major),
		"../../loader/tensorrt/abi/testdata/trtdouble.cpp", "-lpthread")
	buildOnce.Store(major, p)
	return p
}

// fakeCUDA builds a fresh fake libcuda (its own file, so its own state).
func fakeCUDA(t *testing.T) string {
	t.Helper()
	return compile(t, "gcc", filepath.Join(t.TempDir(), "libcuda.so.1"), "../../loader/cudadriver/testdata/fakecuda.c")
}

// recorder reads the double's record of calls.
type recorder struct {
	log   func(buf *byte, n int64) int64
	reset func()
	live  func() int32
	names map[string]string // address → symbolic name
	all   []string
}

func newRecorder(t *testing.T, lib *loader.Library) *recorder {
	r := &recorder{names: map[string]string{}}
	if err := lib.BindAll(
		loader.Binding{Fn: &r.log, Symbol: "trtdouble_log"},
		loader.Binding{Fn: &r.reset, Symbol: "trtdouble_reset"},
		loader.Binding{Fn: &r.live, Symbol: "trtdouble_live"},
	); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *recorder) name(addr uintptr, name string) { r.names[fmt.Sprintf("0x%x", addr)] = name }

var (
	newLine    = regexp.MustCompile(`^new (\w+) (0x[0-9a-f]+) impl=(0x[0-9a-f]+)$`)
	parserLine = regexp.MustCompile(`^createNvOnnxParser_INTERNAL .* -> (0x[0-9a-f]+)$`)
	calLine    = regexp.MustCompile(`^VBuilderConfig.setInt8Calibrator .* calibrator=(0x[0-9a-f]+)$`)
	hexWord    = regexp.MustCompile(`0x[0-9a-f]+`)
)

// take returns the lines recorded since the last take, with the
// addresses of objects replaced by their names: an object created by the
// double (a "new" line) is its kind, its implementation kind.impl, until
// another object takes its address.
func (r *recorder) take() []string {
	n := r.log(nil, 0)
	buf := make([]byte, n+1)
	n = r.log(&buf[0], n)
	r.reset()
	if n == 0 {
		return nil
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(string(buf[:n]), "\n"), "\n") {
		r.all = append(r.all, l)
		if m := newLine.FindStringSubmatch(l); m != nil {
			r.names[m[2]], r.names[m[3]] = m[1], m[1]+".impl"
		}
		if m := parserLine.FindStringSubmatch(l); m != nil {
			r.names[m[1]] = "IParser"
		}
		if m := calLine.FindStringSubmatch(l); m != nil {
			r.names[m[1]] = "calibrator"
		}
		out = append(out, hexWord.ReplaceAllStringFunc(l, func(h string) string {
			if s, ok := r.names[h]; ok {
				return s
			}
			return h
		}))
	}
	return out
}

func (r *recorder) expect(t *testing.T, what string, want ...string) {
	t.Helper()
	got := r.take()
	if !slices.Equal(got, want) {
		t.Errorf("%s: the double received:\n\t%s\nwant:\n\t%s", what, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// open opens the backend on the double for major and a fake libcuda,
// finding the double through the environment variables.
func open(t *testing.T, major int) (*Backend, *recorder, *logs) {
	t.Helper()
	path := doublePath(t, major)
	t.Setenv("INT8CAL_TENSORRT_LIB", path)
	t.Setenv("INT8CAL_NVONNXPARSER_LIB", path)
	var got logs
	log := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &got})
	b, err := Open(Options{CUDALib: fakeCUDA(t), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if b.TRT.Major != major || b.ABI.Major != major {
		t.Fatalf("the %d.x double opened as %d.x", major, b.TRT.Major)
	}
	// The recorder's own handle keeps the double loaded after b.Close.
	own, err := loader.Open(trtlib.Spec, path)
	if err != nil {
		t.Fatal(err)
	}
	r := newRecorder(t, own)
	r.take()
	r.name(b.logger.Ptr(), "logger")
	r.name(uintptr(b.stream), "stream")
	return b, r, &got
}

// logs is the hclog output.
type logs struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func lenet(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../data/mnist/lenet.onnx")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// qdqModel is a small ONNX model with QuantizeLinear and DequantizeLinear.
func qdqModel(t *testing.T) []byte {
	t.Helper()
	m := &onnx.Model{IRVersion: 7, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{Name: "qdq", Nodes: []*onnx.Node{
		{Name: "q", OpType: "QuantizeLinear", Inputs: []string{"data", "s", "z"}, Outputs: []string{"q"}},
		{Name: "dq", OpType: "DequantizeLinear", Inputs: []string{"q", "s", "z"}, Outputs: []string{"prob"}},
	}}}
	b, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if !isQDQ(b) {
		t.Fatal("the Q/DQ model is not seen as one")
	}
	return b
}

// buildLines are the calls Build makes, from the builder to the
// execution context and the I/O tensors, with config the lines between
// createBuilderConfig and buildSerializedNetwork and calib those of
// calibration.
func buildLines(major, modelSize int, config, calib []string, planSize int) []string {
	l := []string{fmt.Sprintf("createInferBuilder_INTERNAL logger=logger version=%d", map[int]int{8: 8601, 10: 101600, 11: 110100}[major])}
	if major == 11 {
		l = append(l, "ILogger.getInterfaceInfo -> kind=ILogger major=1 minor=0 api=0")
	}
	l = append(l, "new IBuilder IBuilder impl=IBuilder.impl",
		"new INetworkDefinition INetworkDefinition impl=INetworkDefinition.impl",
		fmt.Sprintf("VBuilder.createNetworkV2 this=IBuilder.impl flags=%d -> INetworkDefinition", networkFlags(major)),
		"createNvOnnxParser_INTERNAL network=INetworkDefinition logger=logger version=100 -> IParser",
		fmt.Sprintf("IParser.parse this=IParser size=%d path=(null)", modelSize),
		"new IBuilderConfig IBuilderConfig impl=IBuilderConfig.impl",
		"VBuilder.createBuilderConfig this=IBuilder.impl -> IBuilderConfig")
	l = append(l, config...)
	l = append(l, "VBuilder.buildSerializedNetwork this=IBuilder.impl network=INetworkDefinition config=IBuilderConfig")
	l = append(l, calib...)
	l = append(l, "new IHostMemory IHostMemory impl=IHostMemory.impl",
		"VHostMemory.data this=IHostMemory.impl", "VHostMemory.size this=IHostMemory.impl",
		// The intermediates, once each, the parser before its network.
		"delete IHostMemory IHostMemory", "delete IBuilderConfig IBuilderConfig", "delete IParser IParser",
		"delete INetworkDefinition INetworkDefinition", "delete IBuilder IBuilder")
	if slices.Contains(config, "VBuilder.createOptimizationProfile this=IBuilder.impl -> IOptimizationProfile") {
		l = append(l, "delete IOptimizationProfile IOptimizationProfile") // the builder's
	}
	l = append(l, fmt.Sprintf("createInferRuntime_INTERNAL logger=logger version=%d", map[int]int{8: 8601, 10: 101600, 11: 110100}[major]))
	if major == 11 {
		l = append(l, "ILogger.getInterfaceInfo -> kind=ILogger major=1 minor=0 api=0")
	}
	l = append(l, "new IRuntime IRuntime impl=IRuntime.impl")
	deser := fmt.Sprintf("VRuntime.deserializeCudaEngine this=IRuntime.impl size=%d", planSize)
	if major == 8 {
		deser += " pluginFactory=0x0"
	}
	create := "VCudaEngine.createExecutionContext this=ICudaEngine.impl strategy=0 -> IExecutionContext"
	if major == 8 {
		create = "VCudaEngine.createExecutionContext this=ICudaEngine.impl -> IExecutionContext"
	}
	l = append(l, deser, "new ICudaEngine ICudaEngine impl=ICudaEngine.impl",
		"new IExecutionContext IExecutionContext impl=IExecutionContext.impl", create,
		"VCudaEngine.getNbIOTensors this=ICudaEngine.impl")
	for i, n := range []string{"data", "prob"} {
		l = append(l, fmt.Sprintf("VCudaEngine.getIOTensorName this=ICudaEngine.impl index=%d", i),
			"VCudaEngine.getTensorIOMode this=ICudaEngine.impl name="+n,
			"VCudaEngine.getTensorShape this=ICudaEngine.impl name="+n,
			"VCudaEngine.getTensorDataType this=ICudaEngine.impl name="+n)
	}
	return l
}

// profiled prepends to config the optimization profile Build adds for
// LeNet's dynamic batch: data [batch,1,28,28] as min, opt and max.
func profiled(batch int, config ...string) []string {
	l := []string{"new IOptimizationProfile IOptimizationProfile impl=IOptimizationProfile.impl",
		"VBuilder.createOptimizationProfile this=IBuilder.impl -> IOptimizationProfile"}
	for sel := 0; sel < 3; sel++ {
		l = append(l, fmt.Sprintf("VOptimizationProfile.setDimensions this=IOptimizationProfile.impl name=data select=%d dims=[%d,1,28,28]", sel, batch))
	}
	l = append(l, "VBuilderConfig.addOptimizationProfile this=IBuilderConfig.impl profile=IOptimizationProfile -> 0")
	return append(l, config...)
}

// calibrator serves one batch of fake device pointers.
// batches are calibration data for LeNet at batch 1: batch i has the
// value (i+1)/2 at even positions and -1/4 at odd ones, so its sum is
// 196(i+1)-98 and the largest |x| of n batches is n/2.
func batches(n int) func(names []string) ([][]float32, error) {
	i := 0
	return func(names []string) ([][]float32, error) {
		if i == n {
			return nil, nil
		}
		i++
		x := make([]float32, 784)
		for j := range x {
			x[j] = -0.25
			if j%2 == 0 {
				x[j] = float32(i) / 2
			}
		}
		return [][]float32{x}, nil
	}
}

// calibLines are what the double records when TensorRT calibrates from
// batches(2) with the algorithm algo, which writes table.
func calibLines(major int, algo int32, kind, table string) []string {
	var l []string
	if major == 10 {
		l = append(l, "IInt8Calibrator.getInterfaceInfo -> kind="+kind+" major=1 minor=0 api=0")
	}
	l = append(l, "IInt8Calibrator.getBatchSize -> 1", fmt.Sprintf("IInt8Calibrator.getAlgorithm -> %d", algo))
	if algo == abi.LegacyCalibration {
		l = append(l, "IInt8LegacyCalibrator.getQuantile -> 0.99990000000000001",
			"IInt8LegacyCalibrator.getRegressionCutoff -> 1",
			"IInt8LegacyCalibrator.readHistogramCache -> null=1 len=0 data=")
	}
	l = append(l, "IInt8Calibrator.readCalibrationCache -> null=1 len=0 data=",
		"IInt8Calibrator.getBatch #0 -> true data sum=98",
		"IInt8Calibrator.getBatch #1 -> true data sum=294",
		"IInt8Calibrator.getBatch #2 -> false")
	if algo == abi.LegacyCalibration {
		l = append(l, "IInt8LegacyCalibrator.writeHistogramCache len=10")
	}
	return append(l, fmt.Sprintf("IInt8Calibrator.writeCalibrationCache len=%d data=%s", len(table), strings.ReplaceAll(table, "\n", `\n`)))
}

func TestBackend(t *testing.T) {
	for _, major := range abi.Majors {
		t.Run(fmt.Sprintf("TensorRT%d", major), func(t *testing.T) {
			t.Run("FP32", func(t *testing.T) { testFP32(t, major) })
			t.Run("FP16", func(t *testing.T) { testFP16(t, major) })
			t.Run("INT8", func(t *testing.T) { testINT8(t, major) })
			t.Run("Refusals", func(t *testing.T) { testRefusals(t, major) })
		})
	}
}

// testFP32 builds LeNet, runs a batch and closes, checking every call.
func testFP32(t *testing.T, major int) {
	b, r, got := open(t, major)
	model := lenet(t)
	e, err := b.Build(model, BuildOptions{Precision: precision.FP32, Workspace: 3 << 30, DLACore: -1})
	if err != nil {
		t.Fatal(err)
	}
	plan := fmt.Sprintf("TRTDOUBLE-ENGINE major=%d flags=0\nnone\nio=dynamic", major)
	if string(e.Plan) != plan {
		t.Errorf("plan %q, want %q", e.Plan, plan)
	}
	r.expect(t, "Build", buildLines(major, len(model),
		profiled(1, "VBuilderConfig.setMemoryPoolLimit this=IBuilderConfig.impl pool=0 size=3221225472"), nil, len(plan))...)
	if io := e.IO(); !slices.EqualFunc(io, []Tensor{{"data", []int{1, 1, 28, 28}, true}, {"prob", []int{1, 10}, false}}, func(a, b Tensor) bool {
		return a.Name == b.Name && a.Input == b.Input && slices.Equal(a.Shape, b.Shape)
	}) {
		t.Errorf("IO() = %+v", io)
	}
	if !strings.Contains(got.String(), "createInferBuilder: hello from the double") || !strings.Contains(got.String(), "worker 7 message 124") {
		t.Errorf("TensorRT's messages did not reach the hclog.Logger:\n%s", got.String())
	}

	// Two runs: buffers and addresses once, a copy in, enqueueV3 on the
	// stream and a copy out each.
	for run := 0; run < 2; run++ {
		in := tensor.New(tensor.Float32, 1, 1, 28, 28)
		var sum float64
		for i := range in.F32 {
			in.F32[i] = float32((i+run)%7) / 7
			sum += float64(in.F32[i])
		}
		out, err := e.Run(map[string]*tensor.Tensor{"data": in})
		if err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			for _, io := range e.io {
				if io.ptr == 0 {
					t.Fatalf("no device buffer for %s", io.Name)
				}
				r.name(uintptr(io.ptr), "dev:"+io.Name)
			}
		}
		var want []string
		if run == 0 {
			want = []string{"VExecutionContext.setInputShape this=IExecutionContext.impl name=data dims=[1,1,28,28]",
				"VExecutionContext.setTensorAddress this=IExecutionContext.impl name=data data=dev:data",
				"VExecutionContext.setTensorAddress this=IExecutionContext.impl name=prob data=dev:prob"}
		}
		want = append(want, "VExecutionContext.enqueueV3 this=IExecutionContext.impl stream=stream -> 1",
			"VExecutionContext.enqueueV3 wrote prob[i][j] = sum(data[i]) + j to dev:prob, batch=1")
		r.expect(t, fmt.Sprintf("Run %d", run), want...)
		p := out["prob"]
		if len(out) != 1 || p == nil || !slices.Equal(p.Shape, []int{1, 10}) {
			t.Fatalf("Run returned %v", out)
		}
		for j, v := range p.F32 {
			if w := float32(sum) + float32(j); v != w {
				t.Errorf("run %d: prob[%d] = %v, want %v", run, j, v, w)
			}
		}
	}
	if _, err := e.Run(map[string]*tensor.Tensor{"input": tensor.New(tensor.Float32, 1, 1, 28, 28)}); err == nil || !strings.Contains(err.Error(), `input "data" missing`) {
		t.Errorf("Run without data: %v", err)
	}
	if _, err := e.Run(map[string]*tensor.Tensor{"data": tensor.New(tensor.Float32, 2, 1, 28, 28)}); err == nil || !strings.Contains(err.Error(), "[1,1,28,28]") && !strings.Contains(err.Error(), "1x1x28x28") {
		t.Errorf("Run with the wrong shape: %v", err)
	}
	r.expect(t, "refused runs")

	if n := r.live(); n != 3 {
		t.Errorf("%d live objects before Close, want 3 (runtime, engine, context)", n)
	}
	e.Close()
	e.Close()
	r.expect(t, "Close", "delete IExecutionContext IExecutionContext", "delete ICudaEngine ICudaEngine", "delete IRuntime IRuntime")
	if _, err := e.Run(nil); err == nil {
		t.Error("Run after Close: want an error")
	}
	checkClean(t, r)
}

func checkClean(t *testing.T, r *recorder) {
	t.Helper()
	if n := r.live(); n != 0 {
		t.Errorf("%d objects left alive", n)
	}
	for _, l := range r.all {
		if strings.Contains(l, "UNEXPECTED") || strings.Contains(l, "DOUBLE-DELETE") {
			t.Errorf("the double recorded: %s", l)
		}
	}
}

// testFP16 builds in FP16 (8.6, 10.x) on DLA core 1 with GPU fallback,
// or is refused (11.x).
func testFP16(t *testing.T, major int) {
	b, r, _ := open(t, major)
	model := lenet(t)
	e, err := b.Build(model, BuildOptions{Precision: precision.FP16, DLACore: 1})
	if major == 11 {
		if err == nil || !strings.Contains(err.Error(), "kFP16") {
			t.Errorf("FP16 on 11.x: want a refusal naming kFP16, got %v", err)
		}
		r.expect(t, "refused FP16")
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	plan := fmt.Sprintf("TRTDOUBLE-ENGINE major=%d flags=9\nnone\nio=dynamic", major) // kFP16 | kGPU_FALLBACK
	lines := buildLines(major, len(model), profiled(1, "VBuilderConfig.setFlag this=IBuilderConfig.impl flag=0",
		"VBuilderConfig.setDefaultDeviceType this=IBuilderConfig.impl type=1",
		"VBuilderConfig.setDLACore this=IBuilderConfig.impl core=1",
		"VBuilderConfig.setFlag this=IBuilderConfig.impl flag=3"), nil, len(plan))
	i := slices.Index(lines, "new IBuilder IBuilder impl=IBuilder.impl")
	lines = slices.Insert(lines, i+1, "VBuilder.getNbDLACores this=IBuilder.impl")
	r.expect(t, "Build FP16 on DLA", lines...)
	if string(e.Plan) != plan {
		t.Errorf("plan %q, want %q", e.Plan, plan)
	}
}

// testINT8 builds INT8 from a Q/DQ model without a calibrator (every
// version; kINT8 set where it exists), then, on 8.6 and 10.x, with
// TensorRT calibrating from batches (an entropy and the legacy
// algorithm) and with a calibrator whose data fails.
func testINT8(t *testing.T, major int) {
	b, r, _ := open(t, major)
	model := qdqModel(t)
	e, err := b.Build(model, BuildOptions{Precision: precision.INT8, DLACore: -1})
	if err != nil {
		t.Fatal(err)
	}
	flags, config := 2, []string{"VBuilderConfig.setFlag this=IBuilderConfig.impl flag=1"}
	if major == 11 {
		flags, config = 0, nil
	}
	// The double counts the QuantizeLinear and DequantizeLinear names in
	// the model's bytes: the parser got the Q/DQ model.
	plan := fmt.Sprintf("TRTDOUBLE-ENGINE major=%d flags=%d\nnone\nio=static\nqdq=2", major, flags)
	r.expect(t, "Build INT8 Q/DQ", buildLines(major, len(model), config, nil, len(plan))...)
	if string(e.Plan) != plan {
		t.Errorf("plan %q, want %q", e.Plan, plan)
	}
	e.Close()
	r.take()
	if major == 11 {
		return
	}
	for _, c := range []struct {
		algorithm string
		algo      int32
		kind      string
	}{
		{"EntropyCalibration2", abi.EntropyCalibration2, "IInt8EntropyCalibrator2"},
		{"LegacyCalibration", abi.LegacyCalibration, "IInt8Calibrator"},
	} {
		model := lenet(t)
		cal, err := b.NewDataCalibrator(c.algorithm, LegacyParameters{Quantile: 0.9999, RegressionCutoff: 1}, batches(2))
		if err != nil {
			t.Fatal(err)
		}
		e, err := b.Build(model, BuildOptions{Precision: precision.INT8, Calibrator: cal, Workspace: 1 << 20, AvgTimingIterations: 4, DLACore: -1})
		cal.Close()
		if err != nil {
			t.Fatal(err)
		}
		// The double's table: the data's scale is 1/127 (max |x| 1).
		table := fmt.Sprintf("TRT-%s-%s\ndata: 3c010204\nprob: 3c010a14\n", map[int]string{8: "8601", 10: "101601"}[major], c.algorithm)
		plan := fmt.Sprintf("TRTDOUBLE-ENGINE major=%d flags=2\n%s\nio=dynamic", major, table)
		r.expect(t, "Build INT8 "+c.algorithm, buildLines(major, len(model), profiled(1,
			"VBuilderConfig.setMemoryPoolLimit this=IBuilderConfig.impl pool=0 size=1048576",
			"VBuilderConfig.setAvgTimingIterations this=IBuilderConfig.impl n=4",
			"VBuilderConfig.setFlag this=IBuilderConfig.impl flag=1",
			"VBuilderConfig.setInt8Calibrator this=IBuilderConfig.impl calibrator=calibrator",
			"VBuilderConfig.setCalibrationProfile this=IBuilderConfig.impl profile=IOptimizationProfile"), calibLines(major, c.algo, c.kind, table), len(plan))...)
		if string(e.Plan) != plan {
			t.Errorf("plan %q, want %q", e.Plan, plan)
		}
		if string(cal.Table()) != table || cal.Batches() != 2 {
			t.Errorf("the calibrator kept the table %q after %d batches; want %q after 2", cal.Table(), cal.Batches(), table)
		}
		e.Close()
		r.take()
	}

	// A batch that cannot be read ends the calibration and fails the
	// build, though TensorRT saw only "no more batches".
	bad := batches(1)
	cal, err := b.NewDataCalibrator("MinMaxCalibration", LegacyParameters{}, func(names []string) ([][]float32, error) {
		x, err := bad(names)
		if x == nil && err == nil {
			return nil, fmt.Errorf("reading sample 64: unexpected EOF")
		}
		return x, err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cal.Close()
	if _, err := b.Build(lenet(t), BuildOptions{Precision: precision.INT8, Calibrator: cal, DLACore: -1}); err == nil || !strings.Contains(err.Error(), "calibration batch 1: reading sample 64: unexpected EOF") {
		t.Errorf("a failing batch: want the build to fail with its error, got %v", err)
	}
	r.take()
	// Batches must keep the shape of the first.
	sizes := []int{784, 392}
	cal2, _ := b.NewDataCalibrator("MinMaxCalibration", LegacyParameters{}, func(names []string) ([][]float32, error) {
		if len(sizes) == 0 {
			return nil, nil
		}
		n := sizes[0]
		sizes = sizes[1:]
		return [][]float32{make([]float32, n)}, nil
	})
	defer cal2.Close()
	if _, err := b.Build(lenet(t), BuildOptions{Precision: precision.INT8, Calibrator: cal2, DLACore: -1}); err == nil || !strings.Contains(err.Error(), "392 values, the first batch had 784") {
		t.Errorf("a short batch: want an error naming both sizes, got %v", err)
	}
	r.take()
}

// testRefusals: what is refused before any call, a parse failure, and a
// DLA core on a builder without any.
func testRefusals(t *testing.T, major int) {
	b, r, _ := open(t, major)
	noData, err := b.NewDataCalibrator("EntropyCalibration2", LegacyParameters{}, batches(0))
	if err != nil {
		t.Fatal(err)
	}
	defer noData.Close()
	e, err := b.Build(lenet(t), BuildOptions{Precision: precision.INT8, Calibrator: noData, DLACore: -1})
	if e != nil {
		e.Close()
	}
	if major == 11 {
		if !errors.Is(err, ErrImplicitINT8) {
			t.Errorf("INT8 with a calibrator on 11.x: want ErrImplicitINT8, got %v", err)
		}
	} else if err != nil {
		t.Errorf("INT8 with a calibrator on %d.x: %v", major, err)
	}
	_, err = b.Build(lenet(t), BuildOptions{Precision: precision.INT8, DLACore: -1})
	if major == 11 && !errors.Is(err, ErrImplicitINT8) || major != 11 && (err == nil || !strings.Contains(err.Error(), "needs a calibrator or a Q/DQ model")) {
		t.Errorf("INT8 without calibrator or Q/DQ on %d.x: got %v", major, err)
	}
	if _, err := b.Build(lenet(t), BuildOptions{Precision: precision.FP32, DLACore: 0}); err == nil || !strings.Contains(err.Error(), "FP16 or INT8 only") {
		t.Errorf("FP32 on DLA: got %v", err)
	}
	r.take() // the successful INT8 build of 8.6 and 10.x is checked elsewhere

	// A model the parser refuses: its errors, everything deleted.
	_, err = b.Build([]byte("garbage"), BuildOptions{DLACore: -1})
	var pe *abi.ParseError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "not an ONNX model (code 4)") || !strings.Contains(err.Error(), "TensorRT logged: parse: not an ONNX model") {
		t.Errorf("parsing garbage: got %v", err)
	}
	lines := r.take()
	if len(lines) < 4 || lines[len(lines)-3] != "delete IParser IParser" || lines[len(lines)-2] != "delete INetworkDefinition INetworkDefinition" || lines[len(lines)-1] != "delete IBuilder IBuilder" {
		t.Errorf("after a parse failure the double received:\n\t%s", strings.Join(lines, "\n\t"))
	}

	// No DLA cores.
	t.Setenv("TRTDOUBLE_DLA_CORES", "0")
	opts := BuildOptions{Precision: precision.FP16, DLACore: 0}
	model := lenet(t)
	if major == 11 {
		opts.Precision, model = precision.INT8, qdqModel(t)
	}
	if _, err := b.Build(model, opts); err == nil || !strings.Contains(err.Error(), "reports no DLA cores") {
		t.Errorf("DLA without cores: got %v", err)
	}
	want := []string{fmt.Sprintf("createInferBuilder_INTERNAL logger=logger version=%d", map[int]int{8: 8601, 10: 101600, 11: 110100}[major])}
	if major == 11 {
		want = append(want, "ILogger.getInterfaceInfo -> kind=ILogger major=1 minor=0 api=0")
	}
	r.expect(t, "DLA without cores", append(want, "new IBuilder IBuilder impl=IBuilder.impl", "VBuilder.getNbDLACores this=IBuilder.impl", "delete IBuilder IBuilder")...)
	t.Setenv("TRTDOUBLE_DLA_CORES", "2")
	if _, err := b.Build(model, BuildOptions{Precision: opts.Precision, DLACore: 2}); err == nil || !strings.Contains(err.Error(), "reports 2 (cores 0 to 1)") {
		t.Errorf("DLA core 2 of 2: got %v", err)
	}
	r.take()
	checkClean(t, r)
}

func TestOpenRefuses(t *testing.T) {
	t.Setenv("INT8CAL_TENSORRT_LIB", filepath.Join(t.TempDir(), "libnvinfer.so.10"))
	if _, err := Open(Options{}); err == nil || !strings.Contains(err.Error(), "libnvinfer.so.10") {
		t.Errorf("Open with a missing library: want an error naming it, got %v", err)
	}
}

// TestCloseClosesEngines: Backend.Close deletes what an engine left open
// before it lets go of the logger and the libraries.
func TestCloseClosesEngines(t *testing.T) {
	b, r, _ := open(t, 10)
	if _, err := b.Build(lenet(t), BuildOptions{DLACore: -1}); err != nil {
		t.Fatal(err)
	}
	r.take()
	b.Close()
	r.expect(t, "Close", "delete IExecutionContext IExecutionContext", "delete ICudaEngine ICudaEngine", "delete IRuntime IRuntime")
	checkClean(t, r)
	b.Close()
}

// TestRealLibraries opens the real TensorRT wheels `make trtlibs`
// installs (no GPU needed): the lean runtime is refused as unable to
// build; a full libnvinfer with its parser gets as far as the CUDA
// driver, here a missing one.
func TestRealLibraries(t *testing.T) {
	wheels := gpulibs.TensorRT("../..")
	if len(wheels) == 0 {
		t.Skip("no TensorRT wheels in .trtlibs (run `make trtlibs`)")
	}
	for _, w := range wheels {
		t.Run(fmt.Sprintf("%s-%s", w.Dist, w.Version), func(t *testing.T) {
			_, err := Open(Options{Lib: w.Infer, ParserLib: w.Parser, CUDALib: "/nonexistent/libcuda.so.1"})
			switch {
			case w.Lean:
				if err == nil || !strings.Contains(err.Error(), "lean or dispatch runtime cannot build") {
					t.Errorf("the lean runtime: want a refusal, got %v", err)
				}
			case err == nil || !strings.Contains(err.Error(), "/nonexistent/libcuda.so.1"):
				t.Errorf("without CUDA: want an error naming the missing driver, got %v", err)
			}
		})
	}
}
