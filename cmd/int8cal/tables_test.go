package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// calibratedCache calibrates LeNet with minmax into dir and returns the
// cache's path and bytes.
func calibratedCache(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	cache := filepath.Join(dir, "CalibrationTablelenet")
	if code, _, errOut := run("calibrate", "--datadir", dataDir, "--plugin-dir", pluginDir, "--calibrator", "minmax", "--cal-batches", "2", "--cache", cache); code != 0 {
		t.Fatalf("calibrate: exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	return cache, b
}

// withLine returns the table with the line of tensor name replaced.
func withLine(t *testing.T, table []byte, name, line string) []byte {
	t.Helper()
	lines := strings.Split(string(table), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, name+": ") {
			lines[i] = line
			return []byte(strings.Join(lines, "\n"))
		}
	}
	t.Fatalf("no tensor %s in\n%s", name, table)
	return nil
}

// TestInvalidScalesRunAndExportAgree: a cache whose scale no reader can
// use is recalibrated by the INT8 run, which logs where the bad value is,
// and refused by export, which names the same file, line and tensor.
// Before, the run used it (INT8 reported with +Inf scales, or every layer
// silently in FP32 for NaN, zero and negative ones) and export took all
// but NaN and Inf.
func TestInvalidScalesRunAndExportAgree(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	cache, good := calibratedCache(t, dir)
	out := filepath.Join(dir, "q.onnx")
	model := filepath.Join(dataDir, "lenet.onnx")
	for _, c := range []struct{ hex, why string }{
		{"7f800000", "is infinite"},
		{"7fc00000", "is NaN"},
		{"bf800000", "is negative"},
		{"00000000", "is zero"},
		{"00000001", "is denormal"},
		{"7f7fffff", "overflows float32"},
	} {
		where := cache + `:3: tensor "conv1": scale ` + c.hex
		bad := withLine(t, good, "conv1", "conv1: "+c.hex)
		os.WriteFile(cache, bad, 0o644)
		code, stdout, errOut := run("run", "--datadir", dataDir, "--plugin-dir", pluginDir, "--calibrator", "minmax", "--cal-batches", "2",
			"--cache", cache, "--precision", "fp32,int8", "score=10")
		if code != 0 || !strings.Contains(stdout, "Starting Calibration") || !strings.Contains(errOut, "calibration cache cannot be used; recalibrating") ||
			!strings.Contains(errOut, strings.ReplaceAll(where, `"`, `\"`)) || !strings.Contains(errOut, c.why) {
			t.Errorf("run with conv1 %s: exit %d\n%s\n%s", c.hex, code, stdout, errOut)
		}
		if b, _ := os.ReadFile(cache); !bytes.Equal(b, good) {
			t.Errorf("run with conv1 %s: the cache was not recalibrated:\n%s", c.hex, b)
		}

		os.WriteFile(cache, bad, 0o644)
		code, _, errOut = run("export", "--model", model, "--cache", cache, "--out", out)
		if code != 1 || !strings.Contains(errOut, where) || !strings.Contains(errOut, c.why) {
			t.Errorf("export with conv1 %s: exit %d: %s", c.hex, code, errOut)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("export with conv1 %s wrote %s", c.hex, out)
		}
	}
}

// TestExportChecksTableAgainstModel: a table none of whose names is a
// tensor of the model is refused; names the model lacks beside real ones
// are listed in a warning; a table line is read only up to its bound.
func TestExportChecksTableAgainstModel(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	cache, good := calibratedCache(t, dir)
	model := filepath.Join(dataDir, "lenet.onnx")
	out := filepath.Join(dir, "q.onnx")
	export := func(table []byte) (int, string) {
		os.WriteFile(cache, table, 0o644)
		code, _, errOut := run("export", "--model", model, "--cache", cache, "--out", out)
		return code, errOut
	}
	if code, errOut := export([]byte("TRT-8601-MinMaxCalibration\ninput_1: 3c010204\nconv2d/Relu:0: 3c010204\n")); code != 1 ||
		!strings.Contains(errOut, "calibration table "+cache+`: none of the table's 2 tensors ("input_1", "conv2d/Relu:0") is a tensor of the model`) {
		t.Errorf("foreign table: exit %d: %s", code, errOut)
	}
	if code, errOut := export(append(append([]byte{}, good...), "ghost: 3c010204\n"...)); code != 0 ||
		!strings.Contains(errOut, "int8cal export: warning: "+cache+" names 1 tensors that "+model+" does not have; they are ignored: ghost") {
		t.Errorf("partly foreign table: exit %d: %s", code, errOut)
	}
	long := append([]byte("TRT-8601-MinMaxCalibration\n"), bytes.Repeat([]byte("x"), 1<<20)...)
	if code, errOut := export(long); code != 1 || !strings.Contains(errOut, cache+":2: line longer than 65536 bytes") {
		t.Errorf("long line: exit %d: %s", code, errOut)
	}
}

// TestOutputsThatWouldOverwriteInputsAreRefused: an output that is the
// model, a data file, the table read or another output is refused before
// any work, comparing files (not spellings); the input is left as it was.
// Before, --cache or --json equal to --model replaced the model with the
// table.
func TestOutputsThatWouldOverwriteInputsAreRefused(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	modelBytes, err := os.ReadFile(filepath.Join(dataDir, "lenet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "m.onnx")
	os.WriteFile(model, modelBytes, 0o644)
	// A data directory of links to the MNIST files: were the check to
	// fail, a write would replace a link, never the real file.
	data := filepath.Join(dir, "mnist")
	os.Mkdir(data, 0o755)
	for _, name := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		abs, _ := filepath.Abs(filepath.Join(dataDir, name))
		if err := os.Symlink(abs, filepath.Join(data, name)); err != nil {
			t.Skip("no symbolic links here:", err)
		}
	}
	table := filepath.Join(dir, "table")
	os.WriteFile(table, []byte("TRT-8601-EntropyCalibration2\ndata: 3c010204\n"), 0o644)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	common := []string{"--datadir", data, "--plugin-dir", pluginDir, "--model", model}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"calibrate", "--cache", model}, "the calibration cache " + model + " is the model, which it would overwrite"},
		{[]string{"calibrate", "--cache", filepath.Join(sub, "..", "m.onnx")}, "is the model"},
		{[]string{"calibrate", "--cache", filepath.Join(dir, "c"), "--json", model}, "--json " + model + " is the model"},
		{[]string{"calibrate", "--cache", filepath.Join(dir, "c"), "--json", filepath.Join(dir, "c")}, "--json " + filepath.Join(dir, "c") + " is also the calibration cache"},
		{[]string{"calibrate", "--cache", filepath.Join(dir, "c"), "--json", filepath.Join(dir, "c.int8cal.json")}, "is also the cache's sidecar"},
		{[]string{"calibrate", "--cache", filepath.Join(dir, "c"), "--histogram-cache", filepath.Join(dir, "c")}, "--histogram-cache " + filepath.Join(dir, "c") + " is also the calibration cache"},
		{[]string{"calibrate", "--cache", filepath.Join(data, "train-labels-idx1-ubyte")}, "is the MNIST calibration data"},
		{[]string{"run", "--cache", model, "score=5"}, "is the model"},
		{[]string{"compare", "--calibrators", "onnx", "--cache", filepath.Join(dir, "m")}, "the calibration cache " + model + " is the model"},
	} {
		code, stdout, errOut := run(append(c.args, common...)...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, stderr %s", c.args, code, errOut)
		}
		if strings.Contains(stdout, "Starting Calibration") || strings.Contains(stdout, "FP32 run") {
			t.Errorf("%q: work was done before the refusal:\n%s", c.args, stdout)
		}
	}
	for _, c := range []struct {
		out, want string
	}{
		{model, "--out " + model + " is --model"},
		{table, "--out " + table + " is --cache"},
	} {
		if code, _, errOut := run("export", "--model", model, "--cache", table, "--out", c.out); code != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("export --out %s: exit %d: %s", c.out, code, errOut)
		}
	}
	if b, _ := os.ReadFile(model); !bytes.Equal(b, modelBytes) {
		t.Error("the model was changed")
	}
	for _, name := range []string{"train-labels-idx1-ubyte"} {
		if fi, err := os.Lstat(filepath.Join(data, name)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s was replaced", name)
		}
	}
}

// TestUnwritableOutputsFailAtOnce: a cache, sidecar or JSON output that
// cannot be written fails the command before it calibrates (or, for run,
// before it scores anything), leaving the cache as it was and no
// temporary file. Before, the whole calibration ran first, and a sidecar
// that could not be written failed the command after the cache had been
// replaced.
func TestUnwritableOutputsFailAtOnce(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	cache := filepath.Join(dir, "table")
	old := []byte("TRT-8601-MinMaxCalibration\ndata: 7f800000\n") // to be recalibrated
	os.WriteFile(cache, old, 0o644)
	os.Mkdir(cache+".int8cal.json", 0o755)
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o644)
	common := []string{"--datadir", dataDir, "--plugin-dir", pluginDir, "--calibrator", "minmax"}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"calibrate", "--cache", cache}, "the cache's sidecar: cannot write " + cache + ".int8cal.json: is a directory"},
		{[]string{"run", "--cache", cache, "score=5"}, "cannot write " + cache + ".int8cal.json: is a directory"},
		{[]string{"calibrate", "--cache", filepath.Join(blocker, "t")}, "the calibration cache: cannot write " + filepath.Join(blocker, "t") + ": not a directory"},
		{[]string{"calibrate", "--cache", filepath.Join(dir, "t2"), "--json", filepath.Join(blocker, "j")}, "--json: cannot write"},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		cases = append(cases, struct {
			args []string
			want string
		}{[]string{"calibrate", "--cache", filepath.Join(ro, "t")}, "permission denied"})
	}
	for _, c := range cases {
		code, stdout, errOut := run(append(c.args, common...)...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, stderr %s", c.args, code, errOut)
		}
		if strings.Contains(stdout, "Starting Calibration") || strings.Contains(stdout, "FP32 run") {
			t.Errorf("%q: work was done first:\n%s", c.args, stdout)
		}
	}
	if b, _ := os.ReadFile(cache); !bytes.Equal(b, old) {
		t.Errorf("the cache was replaced:\n%s", b)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); tmp != nil {
		t.Errorf("temporary files left: %v", tmp)
	}
}
