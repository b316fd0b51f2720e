package loader

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// PreloadNeeded opens for good the libraries that the ELF shared library
// at path needs (its DT_NEEDED entries) and that sit in its directory
// tree, each after the ones it needs in turn, so that path itself can
// then be opened without an RPATH or LD_LIBRARY_PATH pointing there. The
// tree is the library's directory, then its parent's subdirectories and
// their lib/ and */lib/ subdirectories: how pip lays out NVIDIA's wheels
// (tensorrt_libs/, nvidia/cu13/lib/, nvidia/cuda_runtime/lib/). Needed
// libraries found nowhere there (libc, libstdc++) are left to the system
// loader. It returns the paths it preloaded; the error is about the
// first one that would not open, or a file that is not ELF.
func PreloadNeeded(path string) ([]string, error) {
	dirs := treeDirs(path)
	var loaded []string
	var errs []error
	seen := map[string]bool{}
	var visit func(string) error
	visit = func(file string) error {
		needed, err := neededOf(file)
		if err != nil {
			return err
		}
		for _, name := range needed {
			dep := find(dirs, name)
			if dep == "" || seen[dep] {
				continue
			}
			seen[dep] = true
			if err := visit(dep); err != nil {
				errs = append(errs, err)
			}
			if err := Preload(dep); err != nil {
				errs = append(errs, fmt.Errorf("preloading %s: %s", dep, firstLine(err.Error())))
				continue
			}
			loaded = append(loaded, dep)
		}
		return nil
	}
	seen[path] = true
	if err := visit(path); err != nil {
		return nil, err
	}
	return loaded, errors.Join(errs...)
}

// neededOf reads the DT_NEEDED entries of the ELF file at path.
func neededOf(path string) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the libraries %s needs: %w", path, err)
	}
	defer f.Close()
	needed, err := f.DynString(elf.DT_NEEDED)
	if err != nil {
		return nil, fmt.Errorf("reading the libraries %s needs: %w", path, err)
	}
	return needed, nil
}

// treeDirs lists the directories PreloadNeeded searches for path's
// dependencies, its own first.
func treeDirs(path string) []string {
	dir := filepath.Dir(path)
	parent := filepath.Dir(dir)
	dirs := []string{dir}
	if parent == dir {
		return dirs
	}
	for _, pattern := range []string{"*", filepath.Join("*", "lib"), filepath.Join("*", "*", "lib")} {
		matches, _ := filepath.Glob(filepath.Join(parent, pattern))
		for _, m := range matches {
			if m != dir {
				dirs = append(dirs, m)
			}
		}
	}
	return dirs
}

// find returns the first regular file called name in dirs, or "".
func find(dirs []string, name string) string {
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}
