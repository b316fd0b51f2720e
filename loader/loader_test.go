package loader

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fixture compiles testdata/fakecuda.c into a shared library, or skips
// when there is no C compiler (the product itself never needs one).
func fixture(t *testing.T) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skipf("no gcc to build the test library: %v", err)
	}
	out := filepath.Join(t.TempDir(), "libfakecuda.so.1")
	if b, err := exec.Command(cc, "-shared", "-fPIC", "-o", out, "testdata/fakecuda.c").CombinedOutput(); err != nil {
		t.Fatalf("building the fixture: %v\n%s", err, b)
	}
	return out
}

func spec() *Spec {
	return &Spec{
		Name: "CUDA driver", Env: "INT8CAL_TEST_CUDA_LIB",
		Sonames: []string{"libint8cal-nonexistent.so.1", "libint8cal-nonexistent.so"},
		Symbols: []string{"cuInit", "cuDriverGetVersion"},
	}
}

func TestOpenExplicitAndCall(t *testing.T) {
	path := fixture(t)
	lib, err := Open(spec(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	var getVersion func(*int32) int32
	if err := lib.Bind(&getVersion, "cuDriverGetVersion"); err != nil {
		t.Fatal(err)
	}
	var v int32
	if rc := getVersion(&v); rc != 0 || v != 13000 {
		t.Errorf("cuDriverGetVersion = %d, version %d; want 0, 13000", rc, v)
	}
	var missing func() int32
	var ms *MissingSymbolError
	if err := lib.Bind(&missing, "cuNoSuchThing"); !errors.As(err, &ms) || ms.Symbol != "cuNoSuchThing" {
		t.Errorf("binding a missing symbol: %v", err)
	}
}

func TestOpenFromEnvironment(t *testing.T) {
	path := fixture(t)
	t.Setenv("INT8CAL_TEST_CUDA_LIB", path)
	lib, err := Open(spec(), "")
	if err != nil {
		t.Fatal(err)
	}
	lib.Close()
	if lib.Path != path {
		t.Errorf("opened %s, want %s", lib.Path, path)
	}
	// A variable pointing nowhere is reported, not passed over.
	t.Setenv("INT8CAL_TEST_CUDA_LIB", filepath.Join(t.TempDir(), "nope.so"))
	if _, err := Open(spec(), ""); !IsNotFound(err) || !strings.Contains(err.Error(), "$INT8CAL_TEST_CUDA_LIB=") {
		t.Errorf("bad variable: %v", err)
	}
}

func TestNotFoundListsEveryPlaceTried(t *testing.T) {
	os.Unsetenv("INT8CAL_TEST_CUDA_LIB")
	_, err := Open(spec(), "")
	var nf *NotFoundError
	if !errors.As(err, &nf) || len(nf.Attempts) != 2 {
		t.Fatalf("error %v", err)
	}
	for _, want := range []string{"CUDA driver library not found", "libint8cal-nonexistent.so.1", "libint8cal-nonexistent.so ("} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

func TestRequiredSymbolAndVersionChecks(t *testing.T) {
	path := fixture(t)
	s := spec()
	s.Symbols = append(s.Symbols, "cuCtxCreate_v2")
	var ms *MissingSymbolError
	if _, err := Open(s, path); !errors.As(err, &ms) || ms.Symbol != "cuCtxCreate_v2" || ms.Path != path {
		t.Errorf("missing required symbol: %v", err)
	}
	s = spec()
	s.Check = func(l *Library) error {
		var get func(*int32) int32
		if err := l.Bind(&get, "cuDriverGetVersion"); err != nil {
			return err
		}
		var v int32
		get(&v)
		if v < 13010 {
			return &VersionError{Library: l.Spec.Name, Path: l.Path, Got: fmt.Sprint(v), Want: "13010 or later"}
		}
		return nil
	}
	var ve *VersionError
	if _, err := Open(s, path); !errors.As(err, &ve) || ve.Got != "13000" {
		t.Errorf("version check: %v", err)
	}
}
