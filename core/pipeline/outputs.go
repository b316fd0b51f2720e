package pipeline

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

// NamedPath is a file a command reads or writes, with what names it (a
// flag, or what the file is), for messages.
type NamedPath struct{ What, Path string }

// CheckOutputs refuses, before any work, outputs that would replace one of
// the inputs or another output, and outputs that cannot be written. Paths
// are compared as files: os.SameFile where both exist, otherwise as
// absolute paths with the directory's symbolic links resolved, so
// "./m.onnx", "m.onnx" and a link to it are one file.
func CheckOutputs(inputs, outputs []NamedPath) error {
	for i, out := range outputs {
		for _, in := range inputs {
			if sameFile(out.Path, in.Path) {
				return fmt.Errorf("%s %s is %s, which it would overwrite; choose another output file", out.What, out.Path, in.What)
			}
		}
		for _, other := range outputs[:i] {
			if sameFile(out.Path, other.Path) {
				return fmt.Errorf("%s %s is also %s: both would be written to one file; choose another file for one of them", out.What, out.Path, other.What)
			}
		}
		if err := atomicfile.CheckWritable(out.Path); err != nil {
			return fmt.Errorf("%s: %w; choose a writable location", out.What, err)
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

// CheckCalibrationOutputs checks, before any work, what calibrations with
// c's settings will write (each table of caches with its sidecar,
// c.JSON, c.HistogramCache): that it can be written and overwrites none
// of the inputs (the model, the files of each data) nor another output.
// A table is an input too, but one a calibration may replace.
func (p *Pipeline) CheckCalibrationOutputs(c Calibration, caches []string, data ...Data) error {
	inputs := p.inputFiles(data...)
	var outputs []NamedPath
	for _, cache := range caches {
		outputs = append(outputs, NamedPath{"the calibration cache", cache}, NamedPath{"the cache's sidecar", calibtable.SidecarPath(cache)})
	}
	if c.JSON != "" {
		outputs = append(outputs, NamedPath{"--json", c.JSON})
	}
	if c.HistogramCache != "" {
		outputs = append(outputs, NamedPath{"--histogram-cache", c.HistogramCache})
	}
	return CheckOutputs(inputs, outputs)
}

// CheckShardOutputs is CheckCalibrationOutputs for a shard, which writes
// its statistics to path and nothing else.
func (p *Pipeline) CheckShardOutputs(c Calibration, path string) error {
	return CheckOutputs(p.inputFiles(c.Data), []NamedPath{{"--stats-out", path}})
}

// CheckMergeOutputs is CheckCalibrationOutputs for a merge of the
// statistics files statsFiles, which also writes the merged statistics to
// statsOut (when not "").
func (p *Pipeline) CheckMergeOutputs(c Calibration, statsFiles []string, statsOut string) error {
	inputs := p.inputFiles()
	for _, f := range statsFiles {
		inputs = append(inputs, NamedPath{"a statistics file to merge", f})
	}
	cache := p.CachePath(c)
	outputs := []NamedPath{{"the calibration cache", cache}, {"the cache's sidecar", calibtable.SidecarPath(cache)}}
	if c.JSON != "" {
		outputs = append(outputs, NamedPath{"--json", c.JSON})
	}
	if statsOut != "" {
		outputs = append(outputs, NamedPath{"--stats-out", statsOut})
	}
	return CheckOutputs(inputs, outputs)
}

// inputFiles are the model and the files of each data.
func (p *Pipeline) inputFiles(data ...Data) []NamedPath {
	inputs := []NamedPath{{"the model", p.opts.Model}}
	for _, d := range data {
		inputs = append(inputs, p.files(d)...)
	}
	return inputs
}

// files are the files the data reads, as far as the pipeline can tell:
// MNIST's files, and the files that the data set options name (a
// plugin's options are opaque here, so every option value that names an
// existing file counts, "file.npz:array" included).
func (p *Pipeline) files(d Data) []NamedPath {
	var out []NamedPath
	if d.Plugin == "" || d.Plugin == "mnist" {
		dir, split := p.opts.DataDir, d.Split
		if v, ok := d.Options["dir"]; ok {
			dir = v
		}
		if v, ok := d.Options["split"]; ok {
			split = v
		}
		what := "the MNIST " + d.Role + " data"
		for _, name := range []string{split + "-images-idx3-ubyte", split + "-labels-idx1-ubyte"} {
			out = append(out, NamedPath{what, filepath.Join(dir, name)}, NamedPath{what, filepath.Join(dir, name+".gz")})
		}
		if d.Plugin == "" {
			return out
		}
	}
	for _, key := range slices.Sorted(maps.Keys(d.Options)) {
		value := d.Options[key]
		candidates := []string{value}
		if i := strings.LastIndexByte(value, ':'); i > 0 {
			candidates = append(candidates, value[:i])
		}
		for _, path := range candidates {
			if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
				out = append(out, NamedPath{fmt.Sprintf("the %s data (%s=%s)", d.Role, key, value), path})
				break
			}
		}
	}
	return out
}
