package tensorrt_test

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/int8cal/int8cal/internal/gpulibs"
	"github.com/int8cal/int8cal/loader"
	"github.com/int8cal/int8cal/loader/tensorrt"
)

// The wheel tests check loader/tensorrt against NVIDIA's real libraries,
// without a GPU: the wheels `make trtlibs` installs into .trtlibs/ (PyPI
// has NVIDIA's lean runtime, libnvinfer_lean, as real wheels; the full
// libnvinfer and the ONNX parser come only from NVIDIA's own index), or
// the library $INT8CAL_TENSORRT_LIB or the system loader finds. They skip,
// saying so, where there is none.

// trtLib is one real TensorRT to check.
type trtLib struct {
	name          string // the subtest's name
	infer, parser string // paths; parser "" when the wheel has none
	wheel         string // the wheel's version, "" for a library from elsewhere
	lean          bool
}

func realLibs(t *testing.T) []trtLib {
	t.Helper()
	var libs []trtLib
	for _, w := range gpulibs.TensorRT("../..") {
		libs = append(libs, trtLib{name: fmt.Sprintf("%s-%s", w.Dist, w.Version), infer: w.Infer, parser: w.Parser, wheel: w.Version, lean: w.Lean})
	}
	if len(libs) > 0 {
		return libs
	}
	lib, err := tensorrt.Open("")
	if err != nil {
		t.Skipf("no TensorRT (run `make trtlibs` to install NVIDIA's TensorRT runtime wheels from PyPI into .trtlibs/): %v", err)
	}
	defer lib.Lib.Close()
	return []trtLib{{name: "system", infer: lib.Lib.File(), lean: !lib.Builder}}
}

// A symbol libnvinfer exports with C linkage, as the research notes list
// them (docs/tensorrt-purego.md §1), and where it is expected.
type export struct {
	name string
	// since is the first version (10000·major+100·minor) that has it,
	// until the last (0: still there).
	since, until int
	// lean says whether the lean runtime exports it too (it has no
	// builder).
	lean bool
	// maybe marks a symbol whose presence the notes leave open
	// (deprecated ones): logged, never required.
	maybe bool
}

var inferExports = []export{
	{name: "getInferLibVersion", lean: true},
	{name: "getInferLibMajorVersion", since: 100000, lean: true},
	{name: "getInferLibMinorVersion", since: 100000, lean: true},
	{name: "getInferLibPatchVersion", since: 100000, lean: true},
	{name: "getInferLibBuildVersion", since: 100000, lean: true},
	{name: "createInferBuilder_INTERNAL"},
	{name: "createInferRuntime_INTERNAL", lean: true},
	{name: "createInferRefitter_INTERNAL", lean: true},
	{name: "getLogger", lean: true},
	{name: "getPluginRegistry", lean: true},
	{name: "getBuilderPluginRegistry"},
	{name: "setInternalLibraryPath", since: 101600},
	{name: "getBuilderSafePluginRegistry", maybe: true},
	{name: "createConsistencyChecker_INTERNAL", until: 89999, maybe: true},
}

var parserExports = []export{
	{name: "getNvOnnxParserVersion"},
	{name: "createNvOnnxParser_INTERNAL"},
	{name: "createNvOnnxParserRefitter_INTERNAL", since: 100000},
}

// expected says whether lib of version v must export e.
func (e export) expected(v int, lean bool) bool {
	return !e.maybe && v >= e.since && (e.until == 0 || v <= e.until) && (e.lean || !lean)
}

// comparable turns getInferLibVersion's number into 10000·major+100·minor+patch.
func comparable(v int) int {
	if v < 100000 {
		return v/1000*10000 + v/100%10*100 + v%100
	}
	return v
}

// checkExports looks every export up with loader's Symbol, fails for an
// expected one that is missing, and logs a table of them all, with the
// library's other C-linkage exports (read from its ELF symbol table)
// that the notes do not list.
func checkExports(t *testing.T, lib *loader.Library, exports []export, v int, lean bool) {
	t.Helper()
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "symbol\texpected\tfound\n")
	listed := map[string]bool{}
	for _, e := range exports {
		listed[e.name] = true
		_, err := lib.Symbol(e.name)
		found := err == nil
		want := "yes"
		switch {
		case e.maybe:
			want = "maybe (deprecated or old)"
		case !e.expected(v, lean) && lean && !e.lean:
			want = "no (not in the lean runtime)"
		case !e.expected(v, lean):
			want = "no (not in this version)"
		}
		mark := map[bool]string{true: "yes", false: "no"}[found]
		if e.expected(v, lean) && !found {
			mark += "  <- MISSING"
			t.Errorf("%s has no %s: %v", lib.Path, e.name, err)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.name, want, mark)
	}
	for _, name := range cExports(t, lib.File()) {
		if !listed[name] {
			fmt.Fprintf(tw, "%s\tnot in the notes\tyes\n", name)
		}
	}
	tw.Flush()
	t.Logf("exported C entry points of %s:\n%s", lib.File(), b.String())
}

// cExports lists the functions the ELF file at path exports with C
// linkage (not C++-mangled names).
func cExports(t *testing.T, path string) []string {
	f, err := elf.Open(path)
	if err != nil {
		t.Errorf("reading %s's symbols: %v", path, err)
		return nil
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Errorf("reading %s's symbols: %v", path, err)
		return nil
	}
	var names []string
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && elf.ST_BIND(s.Info) == elf.STB_GLOBAL && s.Section != elf.SHN_UNDEF && !strings.HasPrefix(s.Name, "_Z") {
			names = append(names, s.Name)
		}
	}
	slices.Sort(names)
	return names
}

// wheelVersion splits a wheel version such as 10.16.1.11 or
// 10.14.1.48.post1 into major, minor, patch and build.
func wheelVersion(t *testing.T, v string) [4]int {
	var out [4]int
	parts := strings.Split(v, ".")
	if len(parts) < 4 {
		t.Fatalf("wheel version %q has fewer than four numbers", v)
	}
	for i := range out {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			t.Fatalf("wheel version %q: %v", v, err)
		}
		out[i] = n
	}
	return out
}

func TestWheel(t *testing.T) {
	for _, c := range realLibs(t) {
		t.Run(c.name, func(t *testing.T) {
			lib, err := tensorrt.Open(c.infer)
			if err != nil {
				t.Fatal(err)
			}
			defer lib.Lib.Close()
			t.Logf("%s: getInferLibVersion %d = %s, major %d minor %d patch %d build %d, builder %v",
				lib.Lib.File(), lib.Version, lib.VersionString(), lib.Major, lib.Minor, lib.Patch, lib.Build, lib.Builder)
			if c.wheel != "" {
				got := [4]int{lib.Major, lib.Minor, lib.Patch, lib.Build}
				if want := wheelVersion(t, c.wheel); got != want {
					t.Errorf("library version %v, wheel %s", got, c.wheel)
				}
			}
			if tensorrt.VersionString(lib.Version) != lib.VersionString() {
				t.Errorf("getInferLibVersion %d reads %s, the getInferLib*Version functions %s", lib.Version, tensorrt.VersionString(lib.Version), lib.VersionString())
			}
			if err := lib.Supported(); err != nil {
				t.Error(err)
			}
			if lib.Builder == c.lean {
				t.Errorf("builder %v in a library that is lean: %v", lib.Builder, c.lean)
			}
			checkExports(t, lib.Lib, inferExports, comparable(lib.Version), c.lean)

			// Calls that need no GPU, in this process.
			var getLogger, getPluginRegistry func() uintptr
			if err := lib.Lib.BindAll(
				loader.Binding{Fn: &getLogger, Symbol: "getLogger"},
				loader.Binding{Fn: &getPluginRegistry, Symbol: "getPluginRegistry"},
			); err != nil {
				t.Fatal(err)
			}
			t.Logf("getLogger() = %#x (the library's global logger: none until a builder sets one)", getLogger())
			if reg := getPluginRegistry(); reg == 0 {
				t.Error("getPluginRegistry() = null")
			} else {
				t.Logf("getPluginRegistry() = %#x", reg)
			}

			// Calls that reach CUDA, in a child process, which may crash
			// without failing this one.
			checkCreateInChild(t, c.infer, lib.Version)
		})
	}
}

func TestWheelParser(t *testing.T) {
	for _, c := range realLibs(t) {
		t.Run(c.name, func(t *testing.T) {
			if c.parser == "" && c.wheel != "" {
				t.Skipf("the %s wheel has no ONNX parser: it is the lean runtime, all PyPI has as real wheels (`make trtlibs TRT11_WHEEL=tensorrt-cu13-libs==<version> TRT_PIP_FLAGS='--extra-index-url <NVIDIA's index>'` installs the full one)", c.name)
			}
			p, err := tensorrt.OpenParser(c.parser)
			if loader.IsNotFound(err) && c.parser == "" {
				t.Skipf("no ONNX parser: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Lib.Close()
			t.Logf("%s: getNvOnnxParserVersion() = %d", p.Lib.File(), p.Version)
			if p.Version <= 0 {
				t.Errorf("getNvOnnxParserVersion() = %d", p.Version)
			}
			lib, err := tensorrt.Open(c.infer)
			if err != nil {
				t.Fatal(err)
			}
			defer lib.Lib.Close()
			checkExports(t, p.Lib, parserExports, comparable(lib.Version), false)
		})
	}
}

// childEnv names the library a re-executed test binary is to call
// createInferRuntime_INTERNAL and createInferRefitter_INTERNAL in.
const childEnv = "INT8CAL_TEST_TRT_CREATE_CHILD"

// checkCreateInChild runs TestCreateChild in a child process and checks
// that it ended normally and that, with no CUDA driver, the calls
// failed.
func checkCreateInChild(t *testing.T, path string, version int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCreateChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.CombinedOutput()
	t.Logf("child process (createInferRuntime_INTERNAL and createInferRefitter_INTERNAL with null loggers):\n%s", strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("the child process did not end cleanly: %v", err)
	}
	results := map[string]uint64{}
	driver := ""
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && strings.HasPrefix(k, "RESULT ") {
			if k == "RESULT driver" {
				driver = v
				continue
			}
			n, err := strconv.ParseUint(v, 0, 64)
			if err != nil {
				t.Fatalf("child printed %q: %v", line, err)
			}
			results[strings.TrimPrefix(k, "RESULT ")] = n
		}
	}
	runtime, ok1 := results["createInferRuntime_INTERNAL"]
	refitter, ok2 := results["createInferRefitter_INTERNAL"]
	if !ok1 || !ok2 || driver == "" {
		t.Fatalf("the child printed no results")
	}
	// Refitting a null engine fails, GPU or not.
	if refitter != 0 {
		t.Errorf("createInferRefitter_INTERNAL(null engine) = %#x, want null", refitter)
	}
	if driver != "absent" {
		t.Logf("a CUDA driver is present (%s): createInferRuntime_INTERNAL = %#x, not checked", driver, runtime)
		return
	}
	// Without CUDA, runtime creation fails. The real library (10.16 and
	// 11.4 lean) then returns its null result moved by a base-class
	// offset (0x228), not null: anything below a page is no object.
	if runtime >= 1<<16 {
		t.Errorf("createInferRuntime_INTERNAL without a CUDA driver = %#x, want a failure (null, or null plus a small offset)", runtime)
	} else {
		t.Logf("createInferRuntime_INTERNAL(null logger, %d) without a CUDA driver = %#x: failed, as it should", version, runtime)
	}
}

// TestCreateChild is the child process of checkCreateInChild; it does
// nothing unless run as one.
func TestCreateChild(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("run by TestWheel in a child process")
	}
	driver := "absent"
	if d, err := loader.Open(&loader.Spec{Name: "CUDA driver", Sonames: []string{"libcuda.so.1"}}, ""); err == nil {
		driver = d.File()
	}
	fmt.Printf("RESULT driver=%s\n", driver)
	lib, err := tensorrt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var createRuntime func(logger uintptr, version int32) uintptr
	var createRefitter func(engine, logger uintptr, version int32) uintptr
	if err := lib.Lib.BindAll(
		loader.Binding{Fn: &createRuntime, Symbol: "createInferRuntime_INTERNAL"},
		loader.Binding{Fn: &createRefitter, Symbol: "createInferRefitter_INTERNAL"},
	); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("RESULT createInferRuntime_INTERNAL=%#x\n", createRuntime(0, int32(lib.Version)))
	fmt.Printf("RESULT createInferRefitter_INTERNAL=%#x\n", createRefitter(0, 0, int32(lib.Version)))
}
