package abi_test

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/int8cal/int8cal/loader"
	"github.com/int8cal/int8cal/loader/tensorrt"
	"github.com/int8cal/int8cal/loader/tensorrt/abi"
)

func TestForMajor(t *testing.T) {
	for _, m := range abi.Majors {
		s, err := abi.ForMajor(m)
		if err != nil || s.Major != m || s.Source == "" || s.Delete != 1 {
			t.Errorf("ForMajor(%d) = %+v, %v", m, s, err)
		}
	}
	for _, m := range []int{7, 9, 12} {
		_, err := abi.ForMajor(m)
		if err == nil || !strings.Contains(err.Error(), "8.x (8.6), 10.x, 11.x") {
			t.Errorf("ForMajor(%d): want an error naming the supported versions, got %v", m, err)
		}
	}
	// The slots of research notes §2.5, per major version.
	for _, c := range []struct {
		major int
		want  [11]int
	}{
		{8, [11]int{9, 11, 17, 8, 15, 47, 2, 11, 45, 46, 32}},
		{10, [11]int{7, 8, 14, 6, 11, 43, 3, 5, 30, 31, 24}},
		{11, [11]int{5, 6, 11, abi.Absent, 9, 32, 3, 5, 26, 27, 23}},
	} {
		s, _ := abi.ForMajor(c.major)
		got := [11]int{s.Builder.CreateBuilderConfig, s.Builder.CreateNetworkV2, s.Builder.BuildSerializedNetwork,
			s.Config.SetInt8Calibrator, s.Config.SetFlag, s.Config.SetMemoryPoolLimit, s.Runtime.DeserializeCudaEngine,
			s.Engine.CreateExecutionContext, s.Engine.GetNbIOTensors, s.Engine.GetIOTensorName, s.Context.SetTensorAddress}
		if got != c.want {
			t.Errorf("%d.x: slots %v, the notes say %v", c.major, got, c.want)
		}
	}
}

// buildDouble compiles testdata/trtdouble.cpp for a major version into
// dir, or skips where there is no g++.
func buildDouble(t *testing.T, dir string, major int) string {
	t.Helper()
	cxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skipf("no g++ to build the ABI test double: %v", err)
	}
	out := filepath.Join(dir, fmt.Sprintf("libtrtdouble%d.so", major))
	cmd := exec.Command(cxx, "-std=c++17", "-O1", "-g", "-shared", "-fPIC", "-fvisibility=hidden", "-Wl,-Bsymbolic",
		"-Wall", "-Wno-unused-parameter", fmt.Sprintf("-DTRT_MAJOR=%d", major), "-o", out, "testdata/trtdouble.cpp", "-lpthread")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the %d.x double: %v\n%s", major, err, b)
	}
	return out
}

// double reads the test double's record of the calls it received.
type double struct {
	log   func(buf *byte, n int64) int64
	reset func()
	live  func() int32
	all   []string // every line read so far
}

func openDouble(t *testing.T, lib *loader.Library) *double {
	d := &double{}
	if err := lib.BindAll(
		loader.Binding{Fn: &d.log, Symbol: "trtdouble_log"},
		loader.Binding{Fn: &d.reset, Symbol: "trtdouble_reset"},
		loader.Binding{Fn: &d.live, Symbol: "trtdouble_live"},
	); err != nil {
		t.Fatal(err)
	}
	return d
}

// take returns the lines recorded since the last take.
func (d *double) take() []string {
	n := d.log(nil, 0)
	buf := make([]byte, n+1)
	n = d.log(&buf[0], n)
	d.reset()
	lines := strings.Split(strings.TrimSuffix(string(buf[:n]), "\n"), "\n")
	if n == 0 {
		lines = nil
	}
	d.all = append(d.all, lines...)
	return lines
}

// expect checks that the double received exactly the calls want (a line
// each, in order), since the last take.
func (d *double) expect(t *testing.T, want ...string) {
	t.Helper()
	got := d.take()
	if !slices.Equal(got, want) {
		t.Errorf("the double received:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func hex(p any) string { return fmt.Sprintf("0x%x", p) }

// logs collects what the Go ILogger receives.
type logs struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logs) add(sev int32, msg string) {
	l.mu.Lock()
	l.msgs = append(l.msgs, fmt.Sprintf("%d %s", sev, msg))
	l.mu.Unlock()
}

func (l *logs) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.msgs
	l.msgs = nil
	return m
}

// calib serves fixed batches of fake device pointers.
type calib struct {
	mu      sync.Mutex
	batches [][]uintptr
	names   [][]string
	cache   []byte
	written []byte
	next    int
}

func (c *calib) BatchSize() int { return 32 }
func (c *calib) Batch(names []string) ([]uintptr, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.names = append(c.names, names)
	if c.next >= len(c.batches) {
		return nil, false
	}
	c.next++
	return c.batches[c.next-1], true
}
func (c *calib) ReadCache() []byte   { return c.cache }
func (c *calib) WriteCache(b []byte) { c.written = b }
func (c *calib) Algorithm() int32    { return abi.EntropyCalibration2 }

// oneLine is s as the double records it, newlines escaped.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", `\n`) }

// table is the calibration table the double writes for the "ONNX" model
// of these tests.
func table(major int, algorithm string) string {
	version := map[int]string{8: "8601", 10: "101601"}[major]
	return "TRT-" + version + "-" + algorithm + "\ninput: 3c010a14\naux: 3d4ccccd\n"
}

func TestDouble(t *testing.T) {
	dir := t.TempDir()
	for _, major := range abi.Majors {
		t.Run(fmt.Sprintf("TensorRT%d", major), func(t *testing.T) { testDouble(t, buildDouble(t, dir, major), major) })
	}
}

func testDouble(t *testing.T, path string, major int) {
	tl, err := tensorrt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Lib.Close()
	if tl.Major != major {
		t.Fatalf("the %d.x double says it is %d.x", major, tl.Major)
	}
	d := openDouble(t, tl.Lib)
	lib, err := abi.New(tl.Lib, tl.Lib, tl.Major, tl.Version)
	if err != nil {
		t.Fatal(err)
	}
	var got logs
	lg := lib.NewLogger(got.add)
	defer lg.Close()

	// Builder.
	b, err := lib.CreateBuilder(lg)
	if err != nil {
		t.Fatal(err)
	}
	bi := abi.Impl(b.Obj)
	want := []string{fmt.Sprintf("createInferBuilder_INTERNAL logger=%s version=%d", hex(lg.Ptr()), tl.Version)}
	if major == 11 {
		want = append(want, "ILogger.getInterfaceInfo -> kind=ILogger major=1 minor=0 api=0")
	}
	d.expect(t, append(want, fmt.Sprintf("new IBuilder %s impl=%s", hex(b.Obj), hex(bi)))...)
	if m := got.take(); !slices.Equal(m, []string{"3 createInferBuilder: hello from the double"}) {
		t.Errorf("logger got %q", m)
	}
	fast, err := b.PlatformHasFastInt8()
	if major == 11 {
		var e *abi.Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), "platformHasFastInt8") {
			t.Errorf("11.x PlatformHasFastInt8: want an *abi.Error naming the method, got %v", err)
		}
		d.expect(t)
	} else {
		if err != nil || !fast {
			t.Errorf("PlatformHasFastInt8() = %v, %v", fast, err)
		}
		d.expect(t, "VBuilder.platformHasFastInt8 this="+hex(bi))
	}
	if n := b.NbDLACores(); n != 2 {
		t.Errorf("NbDLACores() = %d, want 2", n)
	}
	d.expect(t, "VBuilder.getNbDLACores this="+hex(bi))

	cfg, err := b.CreateBuilderConfig()
	if err != nil {
		t.Fatal(err)
	}
	ci := abi.Impl(cfg.Obj)
	d.expect(t, fmt.Sprintf("new IBuilderConfig %s impl=%s", hex(cfg.Obj), hex(ci)),
		fmt.Sprintf("VBuilder.createBuilderConfig this=%s -> %s", hex(bi), hex(cfg.Obj)))
	net, err := b.CreateNetworkV2(1)
	if err != nil {
		t.Fatal(err)
	}
	d.expect(t, fmt.Sprintf("new INetworkDefinition %s impl=%s", hex(net.Obj), hex(abi.Impl(net.Obj))),
		fmt.Sprintf("VBuilder.createNetworkV2 this=%s flags=1 -> %s", hex(bi), hex(net.Obj)))

	// Config setters.
	cfg.SetMemoryPoolLimit(0, 3<<32)
	cfg.SetAvgTimingIterations(4)
	cfg.SetDLACore(1)
	cfg.SetDefaultDeviceType(1)
	cfg.SetFlag(5)
	d.expect(t, "VBuilderConfig.setMemoryPoolLimit this="+hex(ci)+" pool=0 size=12884901888",
		"VBuilderConfig.setAvgTimingIterations this="+hex(ci)+" n=4",
		"VBuilderConfig.setDLACore this="+hex(ci)+" core=1",
		"VBuilderConfig.setDefaultDeviceType this="+hex(ci)+" type=1",
		"VBuilderConfig.setFlag this="+hex(ci)+" flag=5")

	// The parser: a failure with its errors, then a model.
	p, err := lib.CreateParser(net, lg)
	if err != nil {
		t.Fatal(err)
	}
	d.expect(t, fmt.Sprintf("createNvOnnxParser_INTERNAL network=%s logger=%s version=100 -> %s", hex(net.Obj), hex(lg.Ptr()), hex(p.Obj)))
	err = p.Parse([]byte("garbage"), "")
	var pe *abi.ParseError
	if !errors.As(err, &pe) || len(pe.Errors) != 1 || pe.Errors[0] != (abi.ParserError{Code: 4, Desc: "not an ONNX model"}) {
		t.Errorf("Parse(garbage) = %v, want one error, code 4, not an ONNX model", err)
	}
	d.expect(t, "IParser.parse this="+hex(p.Obj)+" size=7 path=(null)", "IParser.getNbErrors this="+hex(p.Obj), "IParser.getError this="+hex(p.Obj)+" index=0")
	if m := got.take(); !slices.Equal(m, []string{"1 parse: not an ONNX model"}) {
		t.Errorf("logger got %q", m)
	}
	// Building an empty network fails: TensorRT returns null.
	if _, err := b.BuildSerializedNetwork(net, cfg); err == nil || !strings.Contains(err.Error(), "IBuilder::buildSerializedNetwork: returned null") {
		t.Errorf("building an empty network: want an error naming the method, got %v", err)
	}
	d.expect(t, fmt.Sprintf("VBuilder.buildSerializedNetwork this=%s network=%s config=%s", hex(bi), hex(net.Obj), hex(cfg.Obj)))
	if m := got.take(); !slices.Equal(m, []string{"1 buildSerializedNetwork: the network is empty"}) {
		t.Errorf("logger got %q", m)
	}
	if err := p.Parse([]byte("ONNX model"), "/models/lenet.onnx"); err != nil {
		t.Fatal(err)
	}
	d.expect(t, "IParser.parse this="+hex(p.Obj)+" size=10 path=/models/lenet.onnx")

	// The calibrator (8.6, 10.x) or its absence (11.x).
	c := &calib{batches: [][]uintptr{{0x1000, 0x2000}, {0x1100, 0x2100}, {0x7f0000001200, 0x2200}}}
	var cal *abi.Calibrator
	if major == 11 {
		if _, err := lib.NewCalibrator(c); err == nil || !strings.Contains(err.Error(), "IInt8Calibrator") {
			t.Errorf("11.x NewCalibrator: want an error, got %v", err)
		}
		err := cfg.SetInt8Calibrator(nil)
		var e *abi.Error
		if !errors.As(err, &e) || e.Method != "IBuilderConfig::setInt8Calibrator" || !strings.Contains(err.Error(), "no such method") {
			t.Errorf("11.x SetInt8Calibrator: want an *abi.Error saying there is no such method, got %v", err)
		}
		d.expect(t)
	} else {
		cal, err = lib.NewCalibrator(c)
		if err != nil {
			t.Fatal(err)
		}
		defer cal.Close()
		cfg.SetFlag(1) // BuilderFlag::kINT8
		if err := cfg.SetInt8Calibrator(cal); err != nil {
			t.Fatal(err)
		}
		d.expect(t, "VBuilderConfig.setFlag this="+hex(ci)+" flag=1",
			"VBuilderConfig.setInt8Calibrator this="+hex(ci)+" calibrator="+hex(cal.Ptr()))
	}

	// Build: the logger from 8 threads, the calibrator from another.
	hm, err := b.BuildSerializedNetwork(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	lines := d.take()
	want = []string{fmt.Sprintf("VBuilder.buildSerializedNetwork this=%s network=%s config=%s", hex(bi), hex(net.Obj), hex(cfg.Obj))}
	if major == 10 {
		want = append(want, "IInt8Calibrator.getInterfaceInfo -> kind=IInt8EntropyCalibrator2 major=1 minor=0 api=0")
	}
	if major != 11 {
		// No cache: TensorRT calibrates from the batches and writes its
		// table.
		want = append(want, "IInt8Calibrator.getBatchSize -> 32",
			"IInt8Calibrator.getAlgorithm -> 2",
			"IInt8Calibrator.readCalibrationCache -> null=1 len=0 data=",
			"IInt8Calibrator.getBatch #0 -> true input=0x1000 aux=0x2000",
			"IInt8Calibrator.getBatch #1 -> true input=0x1100 aux=0x2100",
			"IInt8Calibrator.getBatch #2 -> true input=0x7f0000001200 aux=0x2200",
			"IInt8Calibrator.getBatch #3 -> false",
			fmt.Sprintf("IInt8Calibrator.writeCalibrationCache len=%d data=%s", len(table(major, "EntropyCalibration2")), oneLine(table(major, "EntropyCalibration2"))))
	}
	want = append(want, fmt.Sprintf("new IHostMemory %s impl=%s", hex(hm.Obj), hex(abi.Impl(hm.Obj))))
	if !slices.Equal(lines, want) {
		t.Errorf("building, the double received:\n\t%s\nwant:\n\t%s", strings.Join(lines, "\n\t"), strings.Join(want, "\n\t"))
	}
	if major != 11 {
		if want := table(major, "EntropyCalibration2"); string(c.written) != want {
			t.Errorf("WriteCache got %q, want %q", c.written, want)
		}
		for i, n := range c.names {
			if !slices.Equal(n, []string{"input", "aux"}) {
				t.Errorf("Batch call %d got names %q", i, n)
			}
		}
		if len(c.names) != 4 {
			t.Errorf("Batch was called %d times, want 4", len(c.names))
		}
	}
	checkWorkerLogs(t, got.take())

	// The serialized engine.
	blob := hm.Bytes()
	flags := 1 << 5
	calibrated := "none"
	if major != 11 {
		flags |= 1 << 1
		calibrated = table(major, "EntropyCalibration2")
	}
	if wantBlob := fmt.Sprintf("TRTDOUBLE-ENGINE major=%d flags=%d\n%s", major, flags, calibrated); string(blob) != wantBlob {
		t.Errorf("engine %q, want %q", blob, wantBlob)
	}
	hi := abi.Impl(hm.Obj)
	d.expect(t, "VHostMemory.data this="+hex(hi), "VHostMemory.size this="+hex(hi))

	// Runtime and engine.
	rt, err := lib.CreateRuntime(lg)
	if err != nil {
		t.Fatal(err)
	}
	ri := abi.Impl(rt.Obj)
	want = []string{fmt.Sprintf("createInferRuntime_INTERNAL logger=%s version=%d", hex(lg.Ptr()), tl.Version)}
	if major == 11 {
		want = append(want, "ILogger.getInterfaceInfo -> kind=ILogger major=1 minor=0 api=0")
	}
	d.expect(t, append(want, fmt.Sprintf("new IRuntime %s impl=%s", hex(rt.Obj), hex(ri)))...)
	deser := fmt.Sprintf("VRuntime.deserializeCudaEngine this=%s size=%%d", hex(ri))
	if major == 8 {
		deser += " pluginFactory=0x0"
	}
	if _, err := rt.DeserializeCudaEngine([]byte("nope")); err == nil || !strings.Contains(err.Error(), "IRuntime::deserializeCudaEngine: returned null") {
		t.Errorf("deserializing garbage: want an error naming the method, got %v", err)
	}
	d.expect(t, fmt.Sprintf(deser, 4))
	got.take()
	eng, err := rt.DeserializeCudaEngine(blob)
	if err != nil {
		t.Fatal(err)
	}
	ei := abi.Impl(eng.Obj)
	d.expect(t, fmt.Sprintf(deser, len(blob)), fmt.Sprintf("new ICudaEngine %s impl=%s", hex(eng.Obj), hex(ei)))

	if n := eng.NbIOTensors(); n != 3 {
		t.Errorf("NbIOTensors() = %d, want 3", n)
	}
	d.expect(t, "VCudaEngine.getNbIOTensors this="+hex(ei))
	big := int64(1) << 33
	if major == 8 {
		big = 9
	}
	for i, w := range []struct {
		name string
		mode int32
		dims []int64
	}{
		{"input", abi.IOInput, []int64{-1, 1, 28, 28}},
		{"aux", abi.IOInput, []int64{7, big}},
		{"output", abi.IOOutput, []int64{-1, 10}},
	} {
		name, err := eng.IOTensorName(i)
		if err != nil || name != w.name {
			t.Errorf("IOTensorName(%d) = %q, %v; want %q", i, name, err, w.name)
		}
		if mode := eng.TensorIOMode(w.name); mode != w.mode {
			t.Errorf("TensorIOMode(%s) = %d, want %d", w.name, mode, w.mode)
		}
		dims := eng.TensorShape(w.name)
		if !slices.Equal(dims.Shape(), w.dims) || dims.D[len(w.dims)] != 0 {
			t.Errorf("TensorShape(%s) = %+v, want %v", w.name, dims, w.dims)
		}
		// The same through RegisterFunc (the path of other architectures).
		if dims2 := eng.TensorShapeRegistered(w.name); dims2 != dims {
			t.Errorf("TensorShape(%s) through RegisterFunc = %+v, through SyscallN %+v", w.name, dims2, dims)
		}
		d.expect(t, fmt.Sprintf("VCudaEngine.getIOTensorName this=%s index=%d", hex(ei), i),
			fmt.Sprintf("VCudaEngine.getTensorIOMode this=%s name=%s", hex(ei), w.name),
			fmt.Sprintf("VCudaEngine.getTensorShape this=%s name=%s", hex(ei), w.name),
			fmt.Sprintf("VCudaEngine.getTensorShape this=%s name=%s", hex(ei), w.name))
	}
	if _, err := eng.IOTensorName(3); err == nil {
		t.Error("IOTensorName(3) of 3: want an error")
	}
	if dims := eng.TensorShape("nope"); dims.NbDims != -1 || dims.Shape() != nil {
		t.Errorf("TensorShape(nope) = %+v, want nbDims -1", dims)
	}
	d.expect(t, fmt.Sprintf("VCudaEngine.getIOTensorName this=%s index=3", hex(ei)), fmt.Sprintf("VCudaEngine.getTensorShape this=%s name=nope", hex(ei)))

	// Execution context.
	ctx, err := eng.CreateExecutionContext()
	if err != nil {
		t.Fatal(err)
	}
	xi := abi.Impl(ctx.Obj)
	create := fmt.Sprintf("VCudaEngine.createExecutionContext this=%s strategy=0 -> %s", hex(ei), hex(ctx.Obj))
	if major == 8 {
		create = fmt.Sprintf("VCudaEngine.createExecutionContext this=%s -> %s", hex(ei), hex(ctx.Obj))
	}
	d.expect(t, fmt.Sprintf("new IExecutionContext %s impl=%s", hex(ctx.Obj), hex(xi)), create)
	if err := ctx.EnqueueV3(0x5000); err == nil || !strings.Contains(err.Error(), "enqueueV3: returned false") {
		t.Errorf("EnqueueV3 without addresses: want an error, got %v", err)
	}
	if err := ctx.SetTensorAddress("nope", 0x10); err == nil || !strings.Contains(err.Error(), `setTensorAddress("nope")`) {
		t.Errorf("SetTensorAddress(nope): want an error, got %v", err)
	}
	for i, name := range []string{"input", "aux", "output"} {
		if err := ctx.SetTensorAddress(name, uintptr(0x7f0000000000+i*0x1000)); err != nil {
			t.Error(err)
		}
	}
	if err := ctx.EnqueueV3(0x5000); err != nil {
		t.Error(err)
	}
	d.expect(t, "VExecutionContext.enqueueV3 this="+hex(xi)+" stream=0x5000 -> 0",
		"VExecutionContext.setTensorAddress this="+hex(xi)+" name=nope data=0x10",
		"VExecutionContext.setTensorAddress this="+hex(xi)+" name=input data=0x7f0000000000",
		"VExecutionContext.setTensorAddress this="+hex(xi)+" name=aux data=0x7f0000001000",
		"VExecutionContext.setTensorAddress this="+hex(xi)+" name=output data=0x7f0000002000",
		"VExecutionContext.enqueueV3 this="+hex(xi)+" stream=0x5000 -> 1")

	// Destruction: each object once, through its deleting destructor.
	if n := d.live(); n != 8 {
		t.Errorf("%d live objects, want 8", n)
	}
	ctx.Delete()
	eng.Delete()
	rt.Delete()
	hm.Delete()
	p.Delete()
	net.Delete()
	cfg.Delete()
	b.Delete()
	d.expect(t, "delete IExecutionContext "+hex(ctx.Obj), "delete ICudaEngine "+hex(eng.Obj), "delete IRuntime "+hex(rt.Obj),
		"delete IHostMemory "+hex(hm.Obj), "delete IParser "+hex(p.Obj), "delete INetworkDefinition "+hex(net.Obj),
		"delete IBuilderConfig "+hex(cfg.Obj), "delete IBuilder "+hex(b.Obj))
	if n := d.live(); n != 0 {
		t.Errorf("%d objects left alive", n)
	}
	for _, l := range d.all {
		if strings.Contains(l, "UNEXPECTED") || strings.Contains(l, "DOUBLE-DELETE") {
			t.Errorf("the double recorded: %s", l)
		}
	}
	if m := got.take(); len(m) != 0 {
		t.Errorf("unexpected log messages: %q", m)
	}
}

var workerMsg = regexp.MustCompile(`^4 worker (\d) message (\d+)$`)

// checkWorkerLogs checks that the 8 builder threads' 125 messages each,
// and the build's last message, reached the Go logger.
func checkWorkerLogs(t *testing.T, msgs []string) {
	t.Helper()
	per := map[string]int{}
	var other []string
	for _, m := range msgs {
		if sm := workerMsg.FindStringSubmatch(m); sm != nil {
			per[sm[1]]++
		} else {
			other = append(other, m)
		}
	}
	for w := 0; w < 8; w++ {
		if n := per[fmt.Sprint(w)]; n != 125 {
			t.Errorf("worker thread %d: %d messages reached Go, want 125", w, n)
		}
	}
	if !slices.Equal(other, []string{"3 buildSerializedNetwork: done"}) {
		t.Errorf("other log messages: %q", other)
	}
}

// TestCallbacksAreShared makes more application objects than purego has
// callbacks (about 2000): it panics unless callbacks are made once per
// process and shared.
func TestCallbacksAreShared(t *testing.T) {
	for _, major := range abi.Majors {
		s, _ := abi.ForMajor(major)
		lib := &abi.Lib{Slots: s, Major: major}
		for i := 0; i < 1500; i++ {
			lg := lib.NewLogger(func(int32, string) {})
			if lg.Ptr() == 0 {
				t.Fatal("null logger")
			}
			lg.Close()
			if major != 11 {
				cal, err := lib.NewCalibrator(&calib{})
				if err != nil {
					t.Fatal(err)
				}
				cal.Close()
			}
		}
	}
}
