package cudadriver_test

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/int8cal/int8cal/loader"
	"github.com/int8cal/int8cal/loader/cudadriver"
)

// build compiles testdata/fakecuda.c, with the given -D defines, into a
// shared library, or skips when there is no C compiler (the product never
// needs one; CI's machines have gcc but no GPU).
func build(t *testing.T, defines ...string) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skipf("no gcc to build the fake CUDA driver: %v", err)
	}
	out := filepath.Join(t.TempDir(), "libcuda.so.1")
	args := append([]string{"-shared", "-fPIC", "-o", out}, defines...)
	if b, err := exec.Command(cc, append(args, "testdata/fakecuda.c")...).CombinedOutput(); err != nil {
		t.Fatalf("building the fake driver: %v\n%s", err, b)
	}
	return out
}

// open opens a fresh fake driver (its own file, so its state is its own)
// and initializes it.
func open(t *testing.T) *cudadriver.Driver {
	t.Helper()
	d, err := cudadriver.Open(build(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Lib.Close() })
	if err := d.Init(); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestOpen(t *testing.T) {
	for _, tc := range []struct {
		name    string
		defines []string
		version string // FAKECUDA_VERSION; "" for the fake's default, 13000
		want    int    // the version Open reports; 0 when it must refuse
		refused func(t *testing.T, path string, err error)
	}{
		{name: "CUDA 13.0", want: 13000},
		{name: "oldest supported", version: "12000", want: 12000},
		{name: "CUDA 11.8 is too old", version: "11080", refused: func(t *testing.T, path string, err error) {
			var ve *loader.VersionError
			if !errors.As(err, &ve) || ve.Path != path || ve.Got != "CUDA 11.8" || !strings.Contains(ve.Want, "12.0 or newer") {
				t.Errorf("want a VersionError for %s, CUDA 11.8, wanting 12.0 or newer; got %v", path, err)
			}
		}},
		// A library that passes the version check but lacks an entry
		// point bound afterwards is refused too, naming the symbol.
		{name: "no cuLaunchKernel", defines: []string{"-DOMIT_LAUNCH"}, refused: func(t *testing.T, path string, err error) {
			var ms *loader.MissingSymbolError
			if !errors.As(err, &ms) || ms.Symbol != "cuLaunchKernel" || ms.Path != path {
				t.Errorf("want a MissingSymbolError for cuLaunchKernel in %s, got %v", path, err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := build(t, tc.defines...)
			// t.Setenv reaches the fake's getenv: os.Setenv calls libc's
			// setenv, through runtime/cgo or, built without cgo, purego's
			// fakecgo.
			t.Setenv("FAKECUDA_VERSION", tc.version)
			d, err := cudadriver.Open(path)
			if tc.refused != nil {
				if err == nil {
					d.Lib.Close()
					t.Fatalf("Open accepted %s", path)
				}
				tc.refused(t, path, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer d.Lib.Close()
			if d.Version() != tc.want || d.Lib.Path != path {
				t.Errorf("opened %s, version %d; want %s, %d", d.Lib.Path, d.Version(), path, tc.want)
			}
		})
	}
}

func TestInit(t *testing.T) {
	for _, tc := range []struct {
		devices  string // FAKECUDA_DEVICES
		noDevice bool   // Init must fail with CUDA_ERROR_NO_DEVICE
		count    int
	}{
		{devices: "0", noDevice: true},
		{devices: "1", count: 1},
		{devices: "2", count: 2},
	} {
		t.Run(tc.devices+" devices", func(t *testing.T) {
			d, err := cudadriver.Open(build(t))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Lib.Close()
			t.Setenv("FAKECUDA_DEVICES", tc.devices)
			err = d.Init()
			if tc.noDevice {
				// The message carries the driver's own name and text for
				// the code: that is what users see in doctor and errors.
				if !cudadriver.IsNoDevice(err) || !strings.Contains(err.Error(), "CUDA_ERROR_NO_DEVICE") || !strings.Contains(err.Error(), "no CUDA-capable device is detected") {
					t.Errorf("want CUDA_ERROR_NO_DEVICE with the driver's message, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n, err := d.DeviceCount(); err != nil || n != tc.count {
				t.Errorf("DeviceCount = %d, %v; want %d", n, err, tc.count)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	d := open(t)
	dev, err := d.Device(0)
	if err != nil {
		t.Fatal(err)
	}
	info, err := d.Describe(dev)
	if err != nil {
		t.Fatal(err)
	}
	want := cudadriver.DeviceInfo{Ordinal: 0, Name: "Fake GPU", Major: 9, Minor: 0, SMs: 132, Memory: 80 << 30}
	if info != want {
		t.Errorf("Describe = %+v, want %+v", info, want)
	}
	// An ordinal the driver does not have is the driver's error, not a
	// crash or a zero device.
	if _, err := d.Device(1); err == nil {
		t.Error("Device(1) of a one-device driver succeeded")
	}
}

// The fake's device memory is host memory, so what the binding copies
// can be read back: host → device → device → host, and zeroing.
func TestMemoryRoundTrip(t *testing.T) {
	d := open(t)
	const n = 1000
	src := make([]byte, n)
	for i := range src {
		src[i] = byte(i * 7)
	}
	a, err := d.Alloc(n)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Free(a)
	b, err := d.Alloc(n)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Free(b)
	if a%256 != 0 || b%256 != 0 {
		t.Errorf("allocations %#x, %#x are not 256-byte aligned", a, b)
	}
	if err := d.CopyToDevice(a, unsafe.Pointer(&src[0]), n); err != nil {
		t.Fatal(err)
	}
	if err := d.CopyOnDevice(b, a, n); err != nil {
		t.Fatal(err)
	}
	if err := d.Zero(a, n); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		from cudadriver.Ptr
		want []byte
	}{
		{"copied", b, src},
		{"zeroed", a, make([]byte, n)},
	} {
		got := make([]byte, n)
		if err := d.CopyToHost(unsafe.Pointer(&got[0]), tc.from, n); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%s buffer differs from what was written", tc.name)
		}
	}
}

// TestHostBuffer: page-locked buffers round-trip through device memory
// with the asynchronous copies, at offsets, and copies outside the buffer
// or into a freed one are refused with an error, not passed to the driver.
func TestHostBuffer(t *testing.T) {
	d := open(t)
	h, err := d.AllocHost(64)
	if err != nil {
		t.Fatal(err)
	}
	buf := h.Bytes()
	if len(buf) != 64 {
		t.Fatalf("Bytes has %d bytes, want 64", len(buf))
	}
	for i := range buf {
		buf[i] = byte(i + 1)
	}
	dev, err := d.Alloc(16)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Free(dev)
	if err := d.CopyToDeviceAsync(dev, h, 8, 16, 0); err != nil {
		t.Fatal(err)
	}
	if err := d.CopyToHostAsync(h, 40, dev, 16, 0); err != nil {
		t.Fatal(err)
	}
	if err := d.SyncStream(0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 16; i++ {
		if buf[40+i] != byte(9+i) {
			t.Fatalf("byte %d after the round trip is %d, want %d", 40+i, buf[40+i], 9+i)
		}
	}
	for _, tc := range []struct{ off, n int }{{60, 8}, {-1, 4}, {0, 65}} {
		if err := d.CopyToDeviceAsync(dev, h, tc.off, tc.n, 0); err == nil {
			t.Errorf("copy of %d bytes at %d from a 64-byte buffer accepted", tc.n, tc.off)
		}
		if err := d.CopyToHostAsync(h, tc.off, dev, tc.n, 0); err == nil {
			t.Errorf("copy of %d bytes to %d in a 64-byte buffer accepted", tc.n, tc.off)
		}
	}
	if err := d.FreeHost(h); err != nil {
		t.Fatal(err)
	}
	if h.Bytes() != nil {
		t.Error("a freed buffer still has bytes")
	}
	if err := d.CopyToDeviceAsync(dev, h, 0, 4, 0); err == nil {
		t.Error("copy from a freed buffer accepted")
	}
	if err := d.FreeHost(h); err != nil {
		t.Errorf("freeing twice: %v", err)
	}
}
