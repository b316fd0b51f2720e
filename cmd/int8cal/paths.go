package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/internal/atomicfile"
)

// namedPath is a file a command reads or writes, with what named it (a
// flag, or what the file is), for messages.
type namedPath struct{ what, path string }

// checkOutputs refuses, before any work, outputs that would replace one of
// the command's inputs or another of its outputs, and outputs that cannot
// be written. Paths are compared as files: os.SameFile where both exist,
// otherwise as absolute paths with the directory's symbolic links
// resolved, so "./m.onnx", "m.onnx" and a link to it are one file.
func checkOutputs(inputs, outputs []namedPath) error {
	for i, out := range outputs {
		for _, in := range inputs {
			if sameFile(out.path, in.path) {
				return fmt.Errorf("%s %s is %s, which it would overwrite; choose another output file", out.what, out.path, in.what)
			}
		}
		for _, other := range outputs[:i] {
			if sameFile(out.path, other.path) {
				return fmt.Errorf("%s %s is also %s: both would be written to one file; choose another file for one of them", out.what, out.path, other.what)
			}
		}
		if err := atomicfile.CheckWritable(out.path); err != nil {
			return fmt.Errorf("%s: %w; choose a writable location", out.what, err)
		}
	}
	return nil
}

// sameFile reports whether the paths name one file.
func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	switch {
	case errA == nil && errB == nil:
		return os.SameFile(fa, fb)
	case errA == nil || errB == nil:
		return false // one exists, the other not
	}
	return resolved(a) == resolved(b)
}

// resolved is path made absolute, its directory's links resolved as far
// as the directory exists.
func resolved(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	dir, base := filepath.Split(abs)
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	return filepath.Join(dir, base)
}

// cachePath is the calibration cache of the command: --cache, or
// CalibrationTable<model name> in the current directory as the sample has
// it.
func (cf *calibFlags) cachePath(c *commonFlags) string {
	if cf.cache != "" {
		return cf.cache
	}
	return "CalibrationTable" + modelName(c.model)
}

// preflight checks, before a command does any work, what its calibrations
// will write (each cache of caches with its sidecar, --json,
// --histogram-cache): that it can be written and overwrites none of the
// command's inputs (the model, the data files of roles) nor another
// output. A cache is an input too, but one a calibration may replace.
func (cf *calibFlags) preflight(c *commonFlags, caches []string, roles ...role) error {
	inputs := []namedPath{{"the model", c.model}}
	for _, r := range roles {
		inputs = append(inputs, r.files(c)...)
	}
	var outputs []namedPath
	for _, cache := range caches {
		outputs = append(outputs, namedPath{"the calibration cache", cache}, namedPath{"the cache's sidecar", calibtable.SidecarPath(cache)})
	}
	if cf.jsonOut != "" {
		outputs = append(outputs, namedPath{"--json", cf.jsonOut})
	}
	if cf.histCache != "" {
		outputs = append(outputs, namedPath{"--histogram-cache", cf.histCache})
	}
	return checkOutputs(inputs, outputs)
}

// files are the data files the role reads, as far as the command can
// tell: MNIST's files, and the files that the data set options name (a
// plugin's options are opaque to the command, so every option value that
// names an existing file counts, "file.npz:array" included).
func (r role) files(c *commonFlags) []namedPath {
	opts := merge(nil, r.options)
	var out []namedPath
	if r.plugin == "" || r.plugin == "mnist" {
		dir, split := c.dataDir, r.split
		if d, ok := opts["dir"]; ok {
			dir = d
		}
		if s, ok := opts["split"]; ok {
			split = s
		}
		what := "the MNIST " + r.name + " data"
		for _, name := range []string{split + "-images-idx3-ubyte", split + "-labels-idx1-ubyte"} {
			out = append(out, namedPath{what, filepath.Join(dir, name)}, namedPath{what, filepath.Join(dir, name+".gz")})
		}
		if r.plugin == "" {
			return out
		}
	}
	for _, key := range slices.Sorted(maps.Keys(opts)) {
		value := opts[key]
		candidates := []string{value}
		if i := strings.LastIndexByte(value, ':'); i > 0 {
			candidates = append(candidates, value[:i])
		}
		for _, p := range candidates {
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				out = append(out, namedPath{fmt.Sprintf("the %s data (%s=%s)", r.name, key, value), p})
				break
			}
		}
	}
	return out
}
