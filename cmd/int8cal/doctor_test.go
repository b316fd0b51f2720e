package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/internal/testfixture"
)

// missingLibs point NVRTC, cuBLASLt and TensorRT at nowhere, so that
// doctor's report does not depend on what the machine has installed (a
// developer's may have NVRTC, or a GPU).
var missingLibs = []string{
	"--nvrtc-lib", "/nonexistent/libnvrtc.so.13",
	"--cublaslt-lib", "/nonexistent/libcublasLt.so.13",
	"--tensorrt-lib", "/nonexistent/libnvinfer.so.10",
}

// checkLines fails t for each prefix that begins no line of out: doctor's
// rows are read by scripts line by line.
func checkLines(t *testing.T, out string, prefixes ...string) {
	t.Helper()
	for _, p := range prefixes {
		found := false
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, p) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no line begins with %q:\n%s", p, out)
		}
	}
}

// Without any GPU library doctor still succeeds, naming every path it
// tried, and says that only the cpu backend is usable.
func TestDoctorWithoutLibraries(t *testing.T) {
	code, out, errOut := run(append([]string{"doctor", "--cuda-lib", "/nonexistent/libcuda.so.1"}, missingLibs...)...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	checkLines(t, out,
		"CUDA driver   CUDA driver library not found; tried /nonexistent/libcuda.so.1 (",
		"NVRTC         NVRTC library not found; tried /nonexistent/libnvrtc.so.13 (",
		"cuBLASLt      cuBLASLt library not found; tried /nonexistent/libcublasLt.so.13 (",
		"TensorRT      TensorRT library not found; tried /nonexistent/libnvinfer.so.10 (",
		"backend cpu       usable",
		"backend cuda      not usable: no CUDA driver",
		"backend tensorrt  not usable",
	)
}

// With a driver but no GPU, or a GPU but no NVRTC, doctor describes what
// it found and says why the cuda backend is not usable.
func TestDoctorWithFakeDriver(t *testing.T) {
	for _, tc := range []struct {
		devices string // FAKECUDA_DEVICES
		want    []string
	}{
		{"0", []string{
			"GPU           none: cuInit: CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected",
			"backend cuda      not usable: no GPU (cuInit: CUDA_ERROR_NO_DEVICE",
		}},
		{"1", []string{
			"GPU 0         Fake GPU, compute capability 9.0, 132 SMs, 80.0 GiB",
			"backend cuda      not usable: no NVRTC",
		}},
	} {
		t.Run(tc.devices+" devices", func(t *testing.T) {
			lib := testfixture.FakeCUDADriver(t)
			t.Setenv("FAKECUDA_DEVICES", tc.devices)
			code, out, errOut := run(append([]string{"doctor", "--cuda-lib", lib}, missingLibs...)...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			checkLines(t, out, append([]string{"CUDA driver   " + lib + ", CUDA 13.0", "backend cpu       usable"}, tc.want...)...)
		})
	}
}

// A backend that cannot be used fails the run with one line that says
// why and what is available instead, after the sample's FAILED line.
func TestRunBackendErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		fake bool // add --cuda-lib with the fake driver, which has no GPU
		data bool // the failure comes once the data is read, so it needs MNIST
		want []string
	}{
		{"cuda without a driver", []string{"--backend", "cuda", "--cuda-lib", "/nonexistent/libcuda.so.1"}, false, true,
			[]string{"--backend cuda: CUDA driver library not found", "/nonexistent/libcuda.so.1", "the cpu backend is available"}},
		{"cuda without a GPU", []string{"--backend", "cuda"}, true, true,
			[]string{"--backend cuda: no CUDA GPU", "CUDA_ERROR_NO_DEVICE", "the cpu backend is available"}},
		{"tensorrt", []string{"--backend", "tensorrt", "--tensorrt-lib", "/nonexistent/libnvinfer.so.10"}, false, false,
			[]string{"--backend tensorrt: TensorRT library not found", "/nonexistent/libnvinfer.so.10", "usable here: cpu"}},
		{"unknown", []string{"--backend", "bogus"}, false, false,
			[]string{`--backend "bogus" unknown`, "backends: cpu, cuda", "usable here: cpu"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.data {
				needMNIST(t)
			}
			args := append([]string{"run", "--log-level", "error", "--datadir", dataDir}, tc.args...)
			if tc.fake {
				t.Setenv("FAKECUDA_DEVICES", "0")
				args = append(args, "--cuda-lib", testfixture.FakeCUDADriver(t))
			}
			code, out, errOut := run(args...)
			if code == 0 {
				t.Fatalf("exit 0, want failure\n%s", out)
			}
			if !strings.Contains(out, "&&&& FAILED int8cal.run") {
				t.Errorf("stdout lacks the FAILED line:\n%s", out)
			}
			if lines := strings.Split(strings.TrimSpace(errOut), "\n"); len(lines) != 1 {
				t.Errorf("want a one-line error, got:\n%s", errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("error %q lacks %q", errOut, w)
				}
			}
		})
	}
}

// TestDoctorTensorRT: with TensorRT (the ABI double of each major
// version) and a GPU (the fake driver), doctor reports the version, the
// versions supported, what that version builds, and how far the backend
// has been checked.
func TestDoctorTensorRT(t *testing.T) {
	driver := testfixture.FakeCUDADriver(t)
	for _, c := range []struct {
		major      int
		version    string
		precisions string
	}{{10, "10.16.0", "fp32, fp16; int8 from a calibrator or Q/DQ models"}, {11, "11.1.0", "fp32; int8 from Q/DQ models"}} {
		double := testfixture.TRTDouble(t, c.major)
		t.Setenv("INT8CAL_NVONNXPARSER_LIB", double)
		code, out, errOut := run("doctor", "--cuda-lib", driver, "--tensorrt-lib", double)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		checkLines(t, out,
			"TensorRT      "+double+", version "+c.version+" (supported: 8.6, 10.x and 11.x)",
			"backend tensorrt  usable: TensorRT "+c.version+" on GPU 0 ("+c.precisions+"); engine building and running checked against int8cal's C++ ABI test double only")
	}
}

// doctor --format json holds each probe and each backend as fields.
func TestDoctorJSON(t *testing.T) {
	lib := testfixture.FakeCUDADriver(t)
	t.Setenv("FAKECUDA_DEVICES", "1")
	code, out, errOut := run(append([]string{"doctor", "--format", "json", "--cuda-lib", lib}, missingLibs...)...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var d doctorJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if !d.Driver.Found || d.Driver.Path != lib || d.Driver.Version != "13.0" || d.NVRTC.Found || !strings.Contains(d.NVRTC.Error, "/nonexistent/libnvrtc.so.13") {
		t.Errorf("libraries: %+v, %+v", d.Driver, d.NVRTC)
	}
	if len(d.GPUs) != 1 || d.GPUs[0].Name != "Fake GPU" || d.GPUs[0].ComputeCapability != "9.0" || d.GPUs[0].SMs != 132 {
		t.Errorf("GPUs: %+v", d.GPUs)
	}
	want := []backendStatus{{Name: "cpu", Usable: true}, {Name: "cuda", Why: "no NVRTC"}, {Name: "tensorrt", Why: "no TensorRT library"}}
	if len(d.Backends) != len(want) {
		t.Fatalf("backends: %+v", d.Backends)
	}
	for i, w := range want {
		g := d.Backends[i]
		if g.Name != w.Name || g.Usable != w.Usable || !strings.HasPrefix(g.Why, w.Why) {
			t.Errorf("backend %d: %+v, want %+v", i, g, w)
		}
	}
}
