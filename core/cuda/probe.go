package cuda

import (
	"fmt"
	"os"
	"strings"

	"github.com/int8cal/int8cal/loader/cublaslt"
	"github.com/int8cal/int8cal/loader/cudadriver"
	"github.com/int8cal/int8cal/loader/nvrtc"
)

// Report is what this machine offers the backend, as Probe found it
// without compiling anything: the libraries and the GPUs.
type Report struct {
	// Driver is libcuda, its Version the CUDA version it supports;
	// KernelDriver is the kernel module's version ("" when unknown).
	Driver       Library
	KernelDriver string
	// InitErr is why the driver found no GPU (cuInit's error), nil when
	// it initialized; GPUs are the devices it then counted.
	InitErr error
	GPUs    []GPU
	// NVRTC and CublasLt are the compiler and the matrix library.
	NVRTC, CublasLt Library
	// Why is the first reason the backend cannot run here ("" when it
	// may: Check says for sure).
	Why string
}

// Library is a library as Probe found it.
type Library struct {
	File    string // where the system loader found it
	Version string
	Err     error // why it was not found or loaded
}

// GPU is one device the driver counted.
type GPU struct {
	Info cudadriver.DeviceInfo
	Err  error // why it could not be described
}

// Probe looks for the driver, its GPUs, NVRTC and cuBLASLt.
func Probe(libs Libraries) *Report {
	r := &Report{}
	drv, err := cudadriver.Open(libs.Driver)
	if err != nil {
		r.Driver.Err = err
		r.Why = "no CUDA driver"
	} else {
		r.Driver = Library{File: drv.Lib.File(), Version: cudadriver.VersionString(drv.Version())}
		r.KernelDriver = kernelDriverVersion()
		r.probeGPUs(drv)
	}
	if lib, err := nvrtc.Open(libs.NVRTC); err != nil {
		r.NVRTC.Err = err
		r.because("no NVRTC")
	} else {
		major, minor := lib.Version()
		r.NVRTC = Library{File: lib.Lib.File(), Version: fmt.Sprintf("%d.%d", major, minor)}
	}
	if lib, err := cublaslt.Open(libs.CublasLt); err != nil {
		r.CublasLt.Err = err
		r.because("no cuBLASLt")
	} else {
		r.CublasLt = Library{File: lib.Lib.File(), Version: cublaslt.VersionString(lib.Version())}
	}
	return r
}

// because records why, unless an earlier reason stands.
func (r *Report) because(why string) {
	if r.Why == "" {
		r.Why = why
	}
}

func (r *Report) probeGPUs(drv *cudadriver.Driver) {
	if err := drv.Init(); err != nil {
		r.InitErr = err
		r.because("no GPU (" + err.Error() + ")")
		return
	}
	n, err := drv.DeviceCount()
	if err != nil || n == 0 {
		r.because("no GPU")
		return
	}
	for i := 0; i < n; i++ {
		var g GPU
		var dev cudadriver.Device
		if dev, g.Err = drv.Device(i); g.Err == nil {
			g.Info, g.Err = drv.Describe(dev)
		}
		r.GPUs = append(r.GPUs, g)
	}
}

// Check opens the backend on the device — the proof that it runs here:
// the kernels compile for the GPU and a cuBLASLt handle is created — and
// closes it again, returning the device.
func Check(libs Libraries, device int) (cudadriver.DeviceInfo, error) {
	b, err := Open(libs, device, nil)
	if err != nil {
		return cudadriver.DeviceInfo{}, err
	}
	defer b.Close()
	return b.Device, nil
}

// kernelDriverVersion reads the kernel module's version, which the driver
// API does not report.
func kernelDriverVersion() string {
	b, err := os.ReadFile("/proc/driver/nvidia/version")
	if err != nil {
		return ""
	}
	// "NVRM version: NVIDIA UNIX ... Kernel Module [for x86_64]  580.95.05  <date>"
	for _, w := range strings.Fields(string(b)) {
		if strings.Count(w, ".") >= 1 && strings.Trim(w, "0123456789.") == "" {
			return w
		}
	}
	return ""
}
