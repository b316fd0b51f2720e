package abi_test

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/ebitengine/purego"
	"github.com/int8cal/int8cal/internal/gpulibs"
	"github.com/int8cal/int8cal/loader"
	"github.com/int8cal/int8cal/loader/tensorrt"
	"github.com/int8cal/int8cal/loader/tensorrt/abi"
)

// TestRealRuntime checks what of the slot tables and the ILogger layout
// NVIDIA's real library can check without a builder: the runtime of the
// lean wheels `make trtlibs` installs (or $INT8CAL_TENSORRT_LIB), which
// needs a CUDA driver and a GPU. It creates an IRuntime with a Go
// ILogger, reads the logger back through IRuntime::getLogger, sets and
// gets the maximum number of threads, gives deserializeCudaEngine bytes
// that are no engine (null, and an error through the logger), and
// deletes the runtime. Skipped where there is no CUDA driver.
func TestRealRuntime(t *testing.T) {
	if _, err := loader.Open(&loader.Spec{Name: "CUDA driver", Sonames: []string{"libcuda.so.1"}}, ""); err != nil {
		t.Skipf("no CUDA driver: TensorRT's runtime cannot be created: %v", err)
	}
	var paths []string
	for _, w := range gpulibs.TensorRT("../../..") {
		paths = append(paths, w.Infer)
	}
	if len(paths) == 0 {
		if os.Getenv("INT8CAL_TENSORRT_LIB") == "" {
			t.Skip("no TensorRT (make trtlibs, or set INT8CAL_TENSORRT_LIB)")
		}
		paths = []string{os.Getenv("INT8CAL_TENSORRT_LIB")}
	}
	for _, path := range paths {
		t.Run(path[strings.LastIndex(path, "/")+1:], func(t *testing.T) { testRealRuntime(t, path) })
	}
}

// Slots of IRuntime methods the backend does not need, for this test
// alone: getLogger, setMaxThreads, getMaxThreads (include/NvInferImpl.h
// v10.16 and v11.1, counted; 11.0 dropped deserializeCudaEngine(IStreamReader&)).
var runtimeExtra = map[int][3]int{10: {11, 12, 13}, 11: {10, 11, 12}}

func testRealRuntime(t *testing.T, path string) {
	runtime.LockOSThread() // CUDA's current context is per thread
	defer runtime.UnlockOSThread()
	tl, err := tensorrt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: TensorRT %s", tl.Lib.File(), tl.VersionString())
	lib, err := abi.New(tl.Lib, nil, tl.Major, tl.Version)
	if err != nil {
		t.Fatal(err)
	}
	var got logs
	lg := lib.NewLogger(got.add)
	defer lg.Close()
	rt, err := lib.CreateRuntime(lg)
	for _, m := range got.take() {
		t.Logf("log: %s", m)
	}
	if err != nil {
		t.Fatalf("%v (no GPU?)", err)
	}
	defer rt.Delete()
	extra, ok := runtimeExtra[tl.Major]
	if !ok {
		t.Fatalf("no extra slots for %d.x", tl.Major)
	}
	impl := abi.Impl(rt.Obj)
	call := func(slot int, args ...uintptr) uintptr {
		r, _, _ := purego.SyscallN(abi.Method(impl, slot), append([]uintptr{impl}, args...)...)
		return r
	}
	if p := call(extra[0]); p != lg.Ptr() {
		t.Errorf("IRuntime::getLogger (slot %d) = %#x, want the Go logger %#x", extra[0], p, lg.Ptr())
	}
	if ok := byte(call(extra[1], 3)) != 0; !ok {
		t.Errorf("IRuntime::setMaxThreads(3) (slot %d) = false", extra[1])
	}
	if n := int32(call(extra[2])); n != 3 {
		t.Errorf("IRuntime::getMaxThreads (slot %d) = %d after setMaxThreads(3)", extra[2], n)
	}
	junk := []byte(strings.Repeat("not a TensorRT engine ", 64))
	_, err = rt.DeserializeCudaEngine(junk)
	msgs := got.take()
	for _, m := range msgs {
		t.Logf("log: %s", m)
	}
	if err == nil {
		t.Fatal("deserializing junk: want an error")
	}
	t.Logf("deserializing junk: %v", err)
	errs := 0
	for _, m := range msgs {
		if m[0] <= '1' { // kINTERNAL_ERROR or kERROR
			errs++
		}
	}
	if errs == 0 {
		t.Errorf("deserializing junk logged no error through the Go ILogger (%d messages)", len(msgs))
	}
	if !t.Failed() {
		t.Logf("confirmed on %s: createInferRuntime_INTERNAL with the Go ILogger (%d.x layout, called back by TensorRT), IRuntime slots getLogger %d, setMaxThreads %d, getMaxThreads %d, deserializeCudaEngine %d; the runtime is deleted through the wrapper's slot %d next (a crash there fails the run)",
			tl.VersionString(), tl.Major, extra[0], extra[1], extra[2], lib.Slots.Runtime.DeserializeCudaEngine, lib.Slots.Delete)
	}
}
