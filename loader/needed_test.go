package loader

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// neededChain builds testdata/needed.c into a tree laid out like a pip
// wheel's, without RPATHs: pkg/libneeded_top.so needs
// libneeded_middle_<tag>.so.1 beside it, which needs
// libneeded_base_<tag>.so.1 in deps/cu13/lib/. tag keeps each test's
// sonames apart (a preloaded library stays loaded).
func neededChain(t *testing.T, tag string) (top, middle, base string) {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skipf("no gcc to build the test libraries: %v", err)
	}
	root := t.TempDir()
	baseName, middleName := "libneeded_base_"+tag+".so.1", "libneeded_middle_"+tag+".so.1"
	base = filepath.Join(root, "deps", "cu13", "lib", baseName)
	middle = filepath.Join(root, "pkg", middleName)
	top = filepath.Join(root, "pkg", "libneeded_top_"+tag+".so")
	for _, d := range []string{filepath.Dir(base), filepath.Dir(top)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	build := func(level int, out string, with ...string) {
		args := []string{"-shared", "-fPIC", fmt.Sprintf("-DLEVEL=%d", level), "-Wl,-soname," + filepath.Base(out), "-o", out, "testdata/needed.c"}
		if b, err := exec.Command(cc, append(args, with...)...).CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", out, err, b)
		}
	}
	build(0, base)
	build(1, middle, base)
	build(2, top, middle)
	return top, middle, base
}

func TestPreloadNeededFromTheTree(t *testing.T) {
	top, middle, base := neededChain(t, "tree")
	s := &Spec{Name: "test", Symbols: []string{"needed_top"}}
	_, err := Open(s, top)
	if !IsNotFound(err) || !strings.Contains(err.Error(), "libneeded_middle_tree.so.1") {
		t.Fatalf("before preloading, want a NotFoundError naming the missing dependency, got %v", err)
	}
	loaded, err := PreloadNeeded(top)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{base, middle}; strings.Join(loaded, " ") != strings.Join(want, " ") {
		t.Errorf("preloaded %v, want %v (dependencies first)", loaded, want)
	}
	lib, err := Open(s, top)
	if err != nil {
		t.Fatalf("after preloading: %v", err)
	}
	defer lib.Close()
	var f func() int32
	if err := lib.Bind(&f, "needed_top"); err != nil {
		t.Fatal(err)
	}
	if got := f(); got != 42 {
		t.Errorf("needed_top() = %d, want 42", got)
	}
}

func TestPreloadNeededLeavesTheRestToTheSystem(t *testing.T) {
	top, _, base := neededChain(t, "system")
	// Without its base, the middle library cannot be preloaded; libc
	// (needed by all three, found nowhere in the tree) is never tried.
	if err := os.Remove(base); err != nil {
		t.Fatal(err)
	}
	loaded, err := PreloadNeeded(top)
	if len(loaded) != 0 || err == nil || !strings.Contains(err.Error(), "libneeded_base_system.so.1") {
		t.Errorf("want nothing preloaded and an error naming the missing base, got %v, %v", loaded, err)
	}
	if _, err := PreloadNeeded(filepath.Join(t.TempDir(), "missing.so")); err == nil || !strings.Contains(err.Error(), "missing.so") {
		t.Errorf("a missing file: %v", err)
	}
	notELF := filepath.Join(t.TempDir(), "text.so")
	os.WriteFile(notELF, []byte("not a library"), 0o644)
	if _, err := PreloadNeeded(notELF); err == nil {
		t.Error("a file that is not ELF: no error")
	}
}
