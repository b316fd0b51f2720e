package abi_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/int8cal/int8cal/loader/tensorrt/abi"
)

// TestDynamicShapes checks, against each major version's double, the
// dynamic-shape calls: an optimization profile with min = opt = max
// dimensions (Dims32 in 8.6, Dims64 in 10.x and 11.x, passed by
// reference), getTensorDataType, and setInputShape before enqueueV3.
func TestDynamicShapes(t *testing.T) {
	dir := t.TempDir()
	for _, major := range abi.Majors {
		t.Run(fmt.Sprintf("TensorRT%d", major), func(t *testing.T) { testDynamic(t, buildDouble(t, dir, major), major) })
	}
}

func testDynamic(t *testing.T, path string, major int) {
	s := openParsed(t, path, []byte{0x08, 0x07}) // a ModelProto's first bytes: LeNet's I/O
	d, lib, b, net, cfg := s.d, s.lib, s.b, s.net, s.cfg
	bi, ci := abi.Impl(b.Obj), abi.Impl(cfg.Obj)
	d.take()

	prof, err := b.CreateOptimizationProfile()
	if err != nil {
		t.Fatal(err)
	}
	pi := abi.Impl(prof.Obj)
	// 1<<33 needs Dims64's int64 d[] (10.x, 11.x); 8.6's Dims32 gets 5.
	big := int64(1) << 33
	if major == 8 {
		big = 5
	}
	for sel, n := range []int64{3, 4, big} {
		if err := prof.SetDimensions("data", int32(sel), abi.MakeDims(n, 1, 28, 28)); err != nil {
			t.Fatal(err)
		}
	}
	if err := prof.SetDimensions("data", 7, abi.MakeDims(1)); err == nil || !strings.Contains(err.Error(), "IOptimizationProfile::setDimensions") {
		t.Errorf("setDimensions with selector 7: want an error naming the method, got %v", err)
	}
	idx, err := cfg.AddOptimizationProfile(prof)
	if err != nil || idx != 0 {
		t.Errorf("AddOptimizationProfile = %d, %v; want 0", idx, err)
	}
	d.expect(t, fmt.Sprintf("new IOptimizationProfile %s impl=%s", hex(prof.Obj), hex(pi)),
		fmt.Sprintf("VBuilder.createOptimizationProfile this=%s -> %s", hex(bi), hex(prof.Obj)),
		"VOptimizationProfile.setDimensions this="+hex(pi)+" name=data select=0 dims=[3,1,28,28]",
		"VOptimizationProfile.setDimensions this="+hex(pi)+" name=data select=1 dims=[4,1,28,28]",
		fmt.Sprintf("VOptimizationProfile.setDimensions this=%s name=data select=2 dims=[%d,1,28,28]", hex(pi), big),
		"VOptimizationProfile.setDimensions this="+hex(pi)+" name=data select=7 dims=[1]",
		fmt.Sprintf("VBuilderConfig.addOptimizationProfile this=%s profile=%s -> 0", hex(ci), hex(prof.Obj)))

	// The calibration profile (implicit INT8, gone in 11.x).
	err = cfg.SetCalibrationProfile(prof)
	if major == 11 {
		var e *abi.Error
		if !errors.As(err, &e) || e.Method != "IBuilderConfig::setCalibrationProfile" {
			t.Errorf("11.x SetCalibrationProfile: want an *abi.Error naming the method, got %v", err)
		}
		d.expect(t)
	} else {
		if err != nil {
			t.Error(err)
		}
		d.expect(t, fmt.Sprintf("VBuilderConfig.setCalibrationProfile this=%s profile=%s", hex(ci), hex(prof.Obj)))
	}

	hm, err := b.BuildSerializedNetwork(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	plan := hm.Bytes()
	hm.Delete()
	if !strings.HasSuffix(string(plan), "\nio=dynamic") {
		t.Fatalf("plan %q: want the dynamic-batch engine", plan)
	}
	rt, err := lib.CreateRuntime(s.lg)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Delete()
	eng, err := rt.DeserializeCudaEngine(plan)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Delete()
	ctx, err := eng.CreateExecutionContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Delete()
	ei, xi := abi.Impl(eng.Obj), abi.Impl(ctx.Obj)
	d.take()
	if s := eng.TensorShape("data").Shape(); fmt.Sprint(s) != "[-1 1 28 28]" {
		t.Errorf("data's shape %v, want [-1 1 28 28]", s)
	}
	for _, n := range []string{"data", "prob"} {
		if ty := eng.TensorDataType(n); ty != abi.TypeFloat {
			t.Errorf("%s: data type %s, want float32", n, abi.TypeName(ty))
		}
	}
	d.expect(t, "VCudaEngine.getTensorShape this="+hex(ei)+" name=data",
		"VCudaEngine.getTensorDataType this="+hex(ei)+" name=data",
		"VCudaEngine.getTensorDataType this="+hex(ei)+" name=prob")

	const batch = 3
	in := make([]float32, batch*28*28)
	for i := range in {
		in[i] = float32(i / (28 * 28))
	}
	out := make([]float32, batch*10)
	var pin runtime.Pinner
	pin.Pin(&in[0])
	pin.Pin(&out[0])
	defer pin.Unpin()
	if err := ctx.SetTensorAddress("data", uintptr(unsafe.Pointer(&in[0]))); err != nil {
		t.Fatal(err)
	}
	if err := ctx.SetTensorAddress("prob", uintptr(unsafe.Pointer(&out[0]))); err != nil {
		t.Fatal(err)
	}
	if err := ctx.EnqueueV3(0); err == nil {
		t.Error("enqueueV3 before setInputShape: want an error")
	}
	if err := ctx.SetInputShape("prob", abi.MakeDims(batch, 10)); err == nil || !strings.Contains(err.Error(), `IExecutionContext::setInputShape("prob", [3 10])`) {
		t.Errorf("setInputShape on an output: want an error naming the call, got %v", err)
	}
	if err := ctx.SetInputShape("data", abi.MakeDims(batch, 1, 28, 28)); err != nil {
		t.Fatal(err)
	}
	if err := ctx.EnqueueV3(0); err != nil {
		t.Fatal(err)
	}
	lines := d.take()
	want := []string{
		"VExecutionContext.setInputShape this=" + hex(xi) + " name=prob dims=[3,10]",
		"VExecutionContext.setInputShape this=" + hex(xi) + " name=data dims=[3,1,28,28]",
	}
	for _, w := range want {
		if !contains(lines, w) {
			t.Errorf("the double did not receive %q; it received:\n\t%s", w, strings.Join(lines, "\n\t"))
		}
	}
	for i := 0; i < batch; i++ {
		for j := 0; j < 10; j++ {
			if w := float32(i*28*28 + j); out[i*10+j] != w {
				t.Fatalf("prob[%d][%d] = %v, want %v", i, j, out[i*10+j], w)
			}
		}
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// TestDynamicSlots pins the dynamic-shape slots counted from the headers:
// createOptimizationProfile, addOptimizationProfile, setDimensions,
// setInputShape, getTensorDataType.
func TestDynamicSlots(t *testing.T) {
	for _, c := range []struct {
		major int
		want  [5]int
	}{
		{8, [5]int{12, 29, 2, 29, 35}},
		{10, [5]int{9, 25, 2, 21, 20}},
		{11, [5]int{7, 23, 2, 20, 16}},
	} {
		s, _ := abi.ForMajor(c.major)
		got := [5]int{s.Builder.CreateOptimizationProfile, s.Config.AddOptimizationProfile, s.Profile.SetDimensions,
			s.Context.SetInputShape, s.Engine.GetTensorDataType}
		if got != c.want {
			t.Errorf("%d.x: dynamic-shape slots %v, want %v", c.major, got, c.want)
		}
	}
}
