package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
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
