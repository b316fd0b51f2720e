package calibtable

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// dirNames lists dir's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "CalibrationTablemnist")
	if err := WriteFile(path, lenetTable()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, golden) {
		t.Fatalf("WriteFile wrote\n%s", got)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"CalibrationTablemnist"}) {
		t.Fatalf("directory holds %v", names)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(path)
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("new file mode %v, want 0644", fi.Mode())
		}
		// Replacing keeps the old file's permissions.
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
		tb := lenetTable()
		tb.Set("prob", 1)
		if err := WriteFile(path, tb); err != nil {
			t.Fatal(err)
		}
		fi, _ = os.Stat(path)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("replaced file mode %v, want 0600", fi.Mode())
		}
		back, err := ReadFile(path)
		if err != nil || !sameTable(back, tb) {
			t.Fatalf("ReadFile after replace = %+v, %v", back, err)
		}
	}
	// A bare file name writes in the current directory.
	t.Chdir(dir)
	if err := WriteFile("bare", lenetTable()); err != nil {
		t.Fatal(err)
	}
	if back, err := ReadFile("bare"); err != nil || !sameTable(back, lenetTable()) {
		t.Fatalf("ReadFile(bare) = %+v, %v", back, err)
	}
}

// TestWriteFileAtomic checks that a table that cannot be written leaves the
// old file intact and no temporary file behind (the writer's own failure
// stages are tested in internal/atomicfile).
func TestWriteFileAtomic(t *testing.T) {
	const old = "TRT-7000-EntropyCalibration2\ndata: 3c008912\n"
	newTable := lenetTable()
	newTable.Version = "8601"

	stages := []struct {
		what  string
		setup func()
		table *Table
		want  error
	}{
		{"invalid table", func() {}, &Table{Version: "8601", Algorithm: EntropyCalibration2, Entries: []Entry{{"a", 1}, {"a", 2}}}, nil},
	}
	for _, s := range stages {
		dir := t.TempDir()
		path := filepath.Join(dir, "CalibrationTablemnist")
		if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
			t.Fatal(err)
		}
		s.setup()
		err := WriteFile(path, s.table)
		if err == nil {
			t.Errorf("%s: no error", s.what)
		} else if s.want != nil && !errors.Is(err, s.want) {
			t.Errorf("%s: err = %v, want %v", s.what, err, s.want)
		}
		if got, _ := os.ReadFile(path); string(got) != old {
			t.Errorf("%s: file now holds %q", s.what, got)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"CalibrationTablemnist"}) {
			t.Errorf("%s: directory holds %v", s.what, names)
		}
	}
}

func TestWriteFileErrors(t *testing.T) {
	dir := t.TempDir()
	// Target is a directory.
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(sub, lenetTable()); err == nil {
		t.Error("WriteFile over a directory succeeded")
	}
	// Missing directory.
	if err := WriteFile(filepath.Join(dir, "nope", "table"), lenetTable()); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
	// Path ending in a separator.
	if err := WriteFile(dir+string(filepath.Separator), lenetTable()); err == nil {
		t.Error("WriteFile to a directory path succeeded")
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"sub"}) {
		t.Errorf("directory holds %v", names)
	}
	if names := dirNames(t, sub); len(names) != 0 {
		t.Errorf("sub holds %v", names)
	}
}
