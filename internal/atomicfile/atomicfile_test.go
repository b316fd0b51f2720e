package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var errInjected = errors.New("injected failure")

// failAfter fails once n bytes have been written.
type failAfter struct {
	w io.Writer
	n int
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) <= f.n {
		f.n -= len(p)
		return f.w.Write(p)
	}
	k, _ := f.w.Write(p[:f.n])
	f.n = 0
	return k, errInjected
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestWriteFileReplacesAndKeepsPermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := WriteFile(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v, want 0644", fi.Mode().Perm())
	}
	os.Chmod(path, 0o600)
	if err := WriteFile(path, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "two" {
		t.Errorf("content %q", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the replaced file's 0600", fi.Mode().Perm())
	}
}

// TestFailureAtEachStage makes the write fail at each stage and checks
// that the old file is intact and no temporary file is left behind.
func TestFailureAtEachStage(t *testing.T) {
	const old = "old contents\n"
	for _, s := range []struct {
		what  string
		setup func()
		want  error
	}{
		{"failing writer mid-file", func() {
			testHookWrapWriter = func(w io.Writer) io.Writer { return &failAfter{w: w, n: 4} }
		}, errInjected},
		{"failing writer at once", func() {
			testHookWrapWriter = func(w io.Writer) io.Writer { return &failAfter{w: w, n: 0} }
		}, errInjected},
		{"short writer", func() {
			testHookWrapWriter = func(w io.Writer) io.Writer { return shortWriter{} }
		}, io.ErrShortWrite},
		{"failure before rename", func() {
			testHookBeforeRename = func(tmp string) error {
				if b, err := os.ReadFile(tmp); err != nil || string(b) != "new contents, longer\n" {
					t.Errorf("temporary file %s: %q, %v", tmp, b, err)
				}
				return errInjected
			}
		}, errInjected},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "target")
		if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
			t.Fatal(err)
		}
		s.setup()
		err := WriteFile(path, []byte("new contents, longer\n"))
		testHookWrapWriter, testHookBeforeRename = nil, nil
		if !errors.Is(err, s.want) {
			t.Errorf("%s: err = %v, want %v", s.what, err, s.want)
		}
		if got, _ := os.ReadFile(path); string(got) != old {
			t.Errorf("%s: file now holds %q", s.what, got)
		}
		if n := names(t, dir); !slices.Equal(n, []string{"target"}) {
			t.Errorf("%s: directory holds %v", s.what, n)
		}
	}
}

func TestWriteFileErrors(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	for _, p := range []string{sub, filepath.Join(dir, "nope", "f"), dir + string(filepath.Separator)} {
		if err := WriteFile(p, []byte("x")); err == nil {
			t.Errorf("WriteFile(%q) succeeded", p)
		}
	}
	if n := names(t, dir); !slices.Equal(n, []string{"sub"}) {
		t.Errorf("directory holds %v", n)
	}
}

// TestSweepsTemporaryFilesOfDeadProcesses: a write removes the temporary
// files of its target left by processes that no longer exist (killed while
// writing), and keeps those of live processes, of other targets and of
// unknown writers.
func TestSweepsTemporaryFilesOfDeadProcesses(t *testing.T) {
	dir := t.TempDir()
	const dead = 1<<22 + 1 // above Linux's largest pid_max
	keep := []string{
		".target.tmp" + strconv.Itoa(os.Getpid()) + "-123", // a live writer
		".other.tmp" + strconv.Itoa(dead) + "-1",           // another target
		".target.tmp123456789",                             // no process ID
		"target.tmp" + strconv.Itoa(dead) + "-1",           // not a temporary name
	}
	for _, name := range append([]string{".target.tmp" + strconv.Itoa(dead) + "-42"}, keep...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteFile(filepath.Join(dir, "target"), []byte("new")); err != nil {
		t.Fatal(err)
	}
	want := append([]string{"target"}, keep...)
	if runtime.GOOS != "linux" {
		want = append(want, ".target.tmp"+strconv.Itoa(dead)+"-42")
	}
	slices.Sort(want)
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}

// TestTemporaryNameCarriesPID: what the sweep relies on.
func TestTemporaryNameCarriesPID(t *testing.T) {
	dir := t.TempDir()
	testHookBeforeRename = func(tmp string) error {
		if want := ".f.tmp" + strconv.Itoa(os.Getpid()) + "-"; !strings.HasPrefix(filepath.Base(tmp), want) {
			t.Errorf("temporary file %s, want prefix %s", tmp, want)
		}
		return nil
	}
	defer func() { testHookBeforeRename = nil }()
	if err := WriteFile(filepath.Join(dir, "f"), []byte("x")); err != nil {
		t.Fatal(err)
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	if err := CheckWritable(filepath.Join(dir, "new")); err != nil {
		t.Errorf("new file in a writable directory: %v", err)
	}
	if err := CheckWritable(file); err != nil {
		t.Errorf("existing file: %v", err)
	}
	for _, c := range []struct{ path, want string }{
		{sub, "cannot write " + sub + ": is a directory"},
		{filepath.Join(dir, "nope", "f"), "cannot write " + filepath.Join(dir, "nope", "f") + ": no such file or directory (in directory " + filepath.Join(dir, "nope") + ")"},
		{filepath.Join(file, "f"), "not a directory"},
	} {
		if err := CheckWritable(c.path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckWritable(%s) = %v, want %q", c.path, err, c.want)
		}
	}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		if err := CheckWritable(filepath.Join(ro, "f")); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("read-only directory: %v", err)
		}
	}
	if got := names(t, dir); !slices.Equal(got, []string{"file", "sub"}) && !slices.Equal(got, []string{"file", "ro", "sub"}) {
		t.Errorf("directory holds %q", got)
	}
}
