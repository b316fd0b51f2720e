package calibrate

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/minmax"
	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/graph"
)

// counting is a calibrator that counts its calls; amax, when set, replaces
// its answers' ranges by tensor name.
type counting struct {
	InProcess
	calls int
	amax  map[string]float32
}

func (c *counting) Calibrate(stats []calib.TensorStats) ([]calib.Range, error) {
	c.calls++
	ranges, err := c.InProcess.Calibrate(stats)
	for i := range ranges {
		if a, ok := c.amax[ranges[i].Name]; ok {
			ranges[i].Amax = a
		}
	}
	return ranges, err
}

// jobFixture makes LeNet calibration jobs (minmax, in process) writing
// into one directory, with their log.
type jobFixture struct {
	t     *testing.T
	dir   string
	cache string
	cal   *counting
	log   bytes.Buffer
	job   func() *Job
}

func newJobFixture(t *testing.T) *jobFixture {
	eng, src := lenet(t)
	g, err := graph.Load(dataDir + "/lenet.onnx")
	if err != nil {
		t.Fatal(err)
	}
	var tensors []string
	for _, n := range g.Nodes {
		tensors = append(tensors, n.Outputs...)
	}
	tensors = append(tensors, g.Inputs[0].Name)
	f := &jobFixture{t: t, dir: t.TempDir()}
	f.cache = filepath.Join(f.dir, "CalibrationTablelenet")
	c := minmax.NewCalibrator()
	f.cal = &counting{InProcess: InProcess{c}}
	f.job = func() *Job {
		return &Job{
			Runner: eng, Input: "data", Source: src, Batches: Batches{Batch: 50, Batches: 2},
			Calibrator: f.cal, Info: c.Info(), CachePath: f.cache, Tensors: tensors,
			Version:    calibtable.TRTVersion{Major: 8, Minor: 6, Patch: 1},
			Provenance: calibtable.Sidecar{ModelSHA256: "lenet", Dataset: "mnist train"},
			Out:        &bytes.Buffer{}, Log: hclog.New(&hclog.LoggerOptions{Output: &f.log, Level: hclog.Debug}),
		}
	}
	return f
}

// run runs a job and returns its result, failing the test on error.
func (f *jobFixture) run(j *Job) *Result {
	f.t.Helper()
	f.log.Reset()
	res, err := j.Run()
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// edit rewrites the line of the cache that starts with prefix.
func (f *jobFixture) edit(prefix, line string) {
	f.t.Helper()
	b, err := os.ReadFile(f.cache)
	if err != nil {
		f.t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix) })
	if i < 0 {
		f.t.Fatalf("no line %q in %s", prefix, b)
	}
	lines[i] = line
	if err := os.WriteFile(f.cache, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// leftovers lists temporary files in the fixture's directory.
func (f *jobFixture) leftovers() []string {
	m, _ := filepath.Glob(filepath.Join(f.dir, ".*.tmp*"))
	return m
}

// TestInvalidScalesAreRecalibratedOrRefused: a cache whose scale no
// reader can use (NaN, ±Inf, zero, negative, denormal, or so large that
// 127·scale overflows) is recalibrated with the reason (file, line, tensor)
// logged when the job reuses its own cache, with or without a sidecar, and
// is an error when the table is given to be used as it is.
func TestInvalidScalesAreRecalibratedOrRefused(t *testing.T) {
	f := newJobFixture(t)
	f.run(f.job())
	good, _ := os.ReadFile(f.cache)
	for _, c := range []struct{ hex, why string }{
		{"7f800000", "is infinite"},
		{"ff800000", "is infinite"},
		{"7fc00000", "is NaN"},
		{"00000000", "is zero"},
		{"bf800000", "is negative"},
		{"00000001", "is denormal"},
		{"7f7fffff", "overflows float32"},
	} {
		for _, sidecar := range []bool{true, false} {
			os.WriteFile(f.cache, good, 0o644)
			if !sidecar {
				os.Remove(calibtable.SidecarPath(f.cache))
			}
			f.edit("conv1:", "conv1: "+c.hex)
			calls := f.cal.calls
			res := f.run(f.job())
			want := fmt.Sprintf(`%s:3: tensor "conv1": scale %s`, f.cache, c.hex)
			if res.Reused || f.cal.calls != calls+1 || !strings.Contains(f.log.String(), "calibration cache cannot be used; recalibrating") ||
				!strings.Contains(f.log.String(), strings.ReplaceAll(want, `"`, `\"`)) || !strings.Contains(f.log.String(), c.why) {
				t.Errorf("%s (sidecar %v): reused %v, calibrator calls %d→%d, log:\n%s", c.hex, sidecar, res.Reused, calls, f.cal.calls, f.log.String())
			}
			if b, _ := os.ReadFile(f.cache); !bytes.Equal(b, good) {
				t.Errorf("%s: the recalibrated cache differs:\n%s", c.hex, b)
			}

			f.edit("conv1:", "conv1: "+c.hex)
			j := f.job()
			j.Use = AsGiven
			if _, err := j.Run(); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), c.why) {
				t.Errorf("%s as given: err = %v, want %q and %q", c.hex, err, want, c.why)
			}
		}
	}
	if l := f.leftovers(); l != nil {
		t.Errorf("temporary files left: %v", l)
	}
}

// TestTableNamesCheckedAgainstTheModel: a cache none of whose names is a
// tensor of the model is recalibrated (reused cache) or an error (as
// given); names the model lacks beside real ones are listed in a warning.
func TestTableNamesCheckedAgainstTheModel(t *testing.T) {
	f := newJobFixture(t)
	f.run(f.job())
	os.Remove(calibtable.SidecarPath(f.cache)) // made elsewhere: reused on its header
	good, _ := os.ReadFile(f.cache)

	var other bytes.Buffer
	other.WriteString("TRT-8601-MinMaxCalibration\n")
	for _, name := range []string{"input_1", "dense/BiasAdd:0", "(Unnamed Layer* 4) [Fully Connected]_output"} {
		fmt.Fprintf(&other, "%s: 3c010204\n", name)
	}
	os.WriteFile(f.cache, other.Bytes(), 0o644)
	calls := f.cal.calls
	if res := f.run(f.job()); res.Reused || f.cal.calls != calls+1 || !strings.Contains(f.log.String(), `none of the table's 3 tensors (\"input_1\", \"dense/BiasAdd:0\", \"(Unnamed Layer* 4) [Fully Connected]_output\") is a tensor of the model`) {
		t.Errorf("foreign table reused %v; log:\n%s", res.Reused, f.log.String())
	}
	os.WriteFile(f.cache, other.Bytes(), 0o644)
	j := f.job()
	j.Use = AsGiven
	if _, err := j.Run(); err == nil || !strings.Contains(err.Error(), "calibration table "+f.cache+": none of the table's 3 tensors") {
		t.Errorf("foreign table as given: %v", err)
	}

	partial := append(append([]byte{}, good...), "ghost: 3c010204\n(Unnamed Layer* 9) [Constant]_output: 3c010204\n"...)
	for _, use := range []Use{Reuse, AsGiven} {
		os.WriteFile(f.cache, partial, 0o644)
		os.Remove(calibtable.SidecarPath(f.cache)) // the recalibration above wrote one
		j := f.job()
		j.Use = use
		if res := f.run(j); !res.Reused || !strings.Contains(f.log.String(), `[WARN]  the calibration table names tensors the model does not have; they are ignored: table=`+f.cache+` tensors=["ghost", "(Unnamed Layer* 9) [Constant]_output"]`) {
			t.Errorf("use %d: partly foreign table: reused %v; log:\n%s", use, res.Reused, f.log.String())
		}
	}
}

// TestTableAndSidecarAreOneUnit: the sidecar records the table's hash, so
// a table replaced after its sidecar was written (a run killed between
// the two renames, a hand edit) is not reused with that sidecar, nor is a
// table whose sidecar is from an int8cal without hashes; the log says why.
func TestTableAndSidecarAreOneUnit(t *testing.T) {
	f := newJobFixture(t)
	f.run(f.job())
	first, _ := os.ReadFile(f.cache)
	side, err := calibtable.ReadSidecar(calibtable.SidecarPath(f.cache))
	if err != nil || side.Format != calibtable.SidecarFormat || len(side.TableSHA256) != 64 {
		t.Fatalf("sidecar %+v, %v", side, err)
	}
	if f.run(f.job()); !strings.Contains(f.log.String(), "using calibration cache:") {
		t.Fatalf("not reused:\n%s", f.log.String())
	}

	// A run with other batches that dies after renaming its table over the
	// cache, before its sidecar: the old sidecar is left beside a new
	// table. Simulated with the other run's own table.
	otherDir := t.TempDir()
	j := f.job()
	j.CachePath, j.Batches.Batches = filepath.Join(otherDir, "t"), 1
	f.run(j)
	second, _ := os.ReadFile(j.CachePath)
	if bytes.Equal(first, second) {
		t.Fatal("the two calibrations gave one table; the test needs two")
	}
	for _, c := range []struct {
		what  string
		table []byte
		side  func(*calibtable.Sidecar)
		want  string
	}{
		{"table replaced", second, nil, "the cache is not the table its sidecar describes"},
		{"table edited", append(append([]byte{}, first...), "\n"...), nil, "the cache is not the table its sidecar describes"},
		{"old sidecar", first, func(s *calibtable.Sidecar) { s.Format, s.TableSHA256 = 0, "" }, "the sidecar is of format 0"},
	} {
		os.WriteFile(f.cache, c.table, 0o644)
		s := *side
		if c.side != nil {
			c.side(&s)
		}
		if err := calibtable.WriteSidecar(calibtable.SidecarPath(f.cache), &s); err != nil {
			t.Fatal(err)
		}
		calls := f.cal.calls
		if res := f.run(f.job()); res.Reused || f.cal.calls != calls+1 || !strings.Contains(f.log.String(), "calibration cache is stale; recalibrating: "+c.want) {
			t.Errorf("%s: reused %v; log:\n%s", c.what, res.Reused, f.log.String())
		}
		if b, _ := os.ReadFile(f.cache); !bytes.Equal(b, first) {
			t.Errorf("%s: recalibrated table differs", c.what)
		}
	}
}

// TestUnwritableOutputsFailBeforeCalibrating: when the sidecar or the
// cache cannot be written, the job fails before the calibrator runs and
// leaves the cache as it was, and no temporary file behind.
func TestUnwritableOutputsFailBeforeCalibrating(t *testing.T) {
	f := newJobFixture(t)
	f.run(f.job())
	os.WriteFile(f.cache, []byte("TRT-8601-MinMaxCalibration\ndata: 3c010204\nconv1: 7f800000\n"), 0o644)
	damaged, _ := os.ReadFile(f.cache)
	sidecar := calibtable.SidecarPath(f.cache)
	os.Remove(sidecar)
	os.Mkdir(sidecar, 0o755)
	calls := f.cal.calls
	if _, err := f.job().Run(); err == nil || !strings.Contains(err.Error(), "cannot write "+sidecar+": is a directory") {
		t.Errorf("sidecar path is a directory: %v", err)
	}
	if b, _ := os.ReadFile(f.cache); !bytes.Equal(b, damaged) || f.cal.calls != calls {
		t.Errorf("the cache was replaced (%q) or the calibrator ran (%d calls)", b, f.cal.calls-calls)
	}

	blocker := filepath.Join(f.dir, "file")
	os.WriteFile(blocker, nil, 0o644)
	j := f.job()
	j.CachePath = filepath.Join(blocker, "cache") // a directory that cannot exist
	if _, err := j.Run(); err == nil || !strings.Contains(err.Error(), "cannot write "+j.CachePath) || f.cal.calls != calls {
		t.Errorf("unwritable location: %v, %d calibrator calls", err, f.cal.calls-calls)
	}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(f.dir, "ro")
		os.Mkdir(ro, 0o555)
		j.CachePath = filepath.Join(ro, "cache")
		if _, err := j.Run(); err == nil || !strings.Contains(err.Error(), "permission denied") || f.cal.calls != calls {
			t.Errorf("read-only directory: %v, %d calibrator calls", err, f.cal.calls-calls)
		}
	}
	if l := f.leftovers(); l != nil {
		t.Errorf("temporary files left: %v", l)
	}
}

// TestUnusableRangesLeftOut: a range whose scale no reader could use (amax
// 0 of an all-zero tensor) is left out of the table with a warning; a
// calibration that gives no usable range at all is an error, and nothing
// is written.
func TestUnusableRangesLeftOut(t *testing.T) {
	f := newJobFixture(t)
	f.cal.amax = map[string]float32{"relu1": 0, "ip2": 1e-40}
	res := f.run(f.job())
	if _, ok := res.Table.Lookup("relu1"); ok || len(res.Table.Entries) != 8 ||
		!strings.Contains(f.log.String(), `tensors without a usable INT8 range are left out of the table; layers reading them run in FP32: tensors=["relu1 (amax 0: scale 00000000 is zero;`) ||
		!strings.Contains(f.log.String(), `"ip2 (amax 1e-40: scale 00000232 (7.88e-43) is denormal`) {
		t.Errorf("table %v; log:\n%s", res.Table.Entries, f.log.String())
	}
	if _, err := calibtable.ReadFile(f.cache); err != nil {
		t.Errorf("the table written does not read back: %v", err)
	}

	f.cal.amax = map[string]float32{}
	for _, name := range []string{"data", "conv1", "pool1", "conv2", "pool2", "flatten", "ip1", "relu1", "ip2", "prob"} {
		f.cal.amax[name] = 0
	}
	j := f.job()
	j.CachePath = filepath.Join(f.dir, "none")
	if _, err := j.Run(); err == nil || !strings.Contains(err.Error(), "calibrator minmax gave no usable range for any of the 10 tensors") {
		t.Errorf("no usable range: %v", err)
	}
	if _, err := os.Stat(j.CachePath); err == nil {
		t.Error("a table was written")
	}
}
