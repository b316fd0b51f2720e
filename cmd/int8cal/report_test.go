package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/core/report"
)

// reportData is what the tests read back of a report's embedded data.
type reportData struct {
	Calibrators []string
	Metadata    []struct{ Name, Value string }
	Tensors     []struct {
		Name       string
		Thresholds []struct {
			Calibrator string
			Amax       float64
			Clipped    float64
			Curve      *struct {
				Step   int
				Points []*float64
				Chosen int
			}
		}
	}
	Compare []struct{ Calibrator string }
	Layers  *struct {
		Layers []struct{ Node string }
	}
}

// readReport reads the data a report page embeds.
func readReport(t *testing.T, path string) reportData {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), `<script id="report-data" type="application/json">`)
	data, _, _ := strings.Cut(rest, "</script>")
	var r reportData
	if err := json.Unmarshal([]byte(data), &r); !ok || err != nil {
		t.Fatalf("%s: no report data (%v)", path, err)
	}
	return r
}

// curves counts the thresholds drawn with a curve.
func (r reportData) curves() int {
	n := 0
	for _, t := range r.Tensors {
		for _, s := range t.Thresholds {
			if s.Curve != nil {
				n++
			}
		}
	}
	return n
}

func (r reportData) names() string {
	var names []string
	for _, t := range r.Tensors {
		names = append(names, t.Name)
	}
	return strings.Join(names, ",")
}

// compareReport runs compare on LeNet with --report and --format json;
// the JSON still goes to stdout, where the report went to stderr.
func compareReport(t *testing.T, dir string) (string, reportData) {
	t.Helper()
	page := filepath.Join(dir, "lenet.html")
	code, out, errOut := run("compare", "--datadir", dataDir, "--plugin-dir", pluginDir, "--calibrators", "entropy2,legacy,minmax", "--cache", filepath.Join(dir, "table"),
		"--cal-batches", "2", "--batch", "100", "score=2", "--format", "json", "--log-level", "warn", "--report", page)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rows []compareRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 4 {
		t.Errorf("--format json with --report: %d rows, %v:\n%s", len(rows), err, out)
	}
	if !strings.Contains(errOut, "wrote report "+page) {
		t.Errorf("stderr does not say where the report went:\n%s", errOut)
	}
	return page, readReport(t, page)
}

// compare --report: every tensor LeNet calibrates, each calibrator's
// threshold on it in --calibrators' order, entropy2's with its curve,
// minmax's clipping nothing; the table's rows. A rerun reuses the tables,
// so the report has their thresholds and says why there are no curves.
func TestReportCompareLeNet(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	_, r := compareReport(t, dir)
	if got := strings.Join(r.Calibrators, ","); got != "entropy2,legacy,minmax" {
		t.Errorf("calibrators %s", got)
	}
	if names := r.names(); !strings.HasPrefix(names, "data,conv1,") || !strings.HasSuffix(names, ",prob") {
		t.Errorf("tensors %s: want the network's, data first, prob last", names)
	}
	for _, tensor := range r.Tensors {
		th := tensor.Thresholds
		if len(th) != 3 || th[0].Calibrator != "entropy2" || th[1].Calibrator != "legacy" || th[2].Calibrator != "minmax" {
			t.Fatalf("%s: thresholds %+v, want entropy2, legacy, minmax", tensor.Name, th)
		}
		if c := th[0].Curve; c == nil || c.Chosen < 0 || c.Chosen >= len(c.Points)*c.Step {
			t.Errorf("%s: entropy2's curve %+v, want one with its chosen candidate in it", tensor.Name, c)
		}
		if th[1].Curve != nil || th[2].Curve != nil {
			t.Errorf("%s: legacy and minmax give no curve, the report has one", tensor.Name)
		}
		if th[2].Clipped != 0 {
			t.Errorf("%s: minmax's amax is max|x|, yet %v clipped", tensor.Name, th[2].Clipped)
		}
	}
	if len(r.Compare) != 4 || r.Compare[0].Calibrator != "FP32" || r.Compare[3].Calibrator != "minmax" {
		t.Errorf("compare rows %+v, want FP32 then the three calibrators", r.Compare)
	}

	_, again := compareReport(t, dir)
	// The table keeps amax/127 in float32, which 127× gives back within
	// a rounding.
	if a, b := again.Tensors[1].Thresholds[0].Amax, r.Tensors[1].Thresholds[0].Amax; again.curves() != 0 || len(again.Tensors) != len(r.Tensors) || math.Abs(a-b) > 1e-6*b {
		t.Errorf("reused tables: %d curves, %d tensors; want none and the tables' thresholds", again.curves(), len(again.Tensors))
	}
	reused := 0
	for _, f := range again.Metadata {
		if strings.Contains(f.Value, "reused, so no curve") {
			reused++
		}
	}
	if reused != 3 {
		t.Errorf("the report says %d tables were reused, want 3: %+v", reused, again.Metadata)
	}
}

// calibrate --report and debug --report: one calibrator with its curves;
// debug's every layer (not only --top's) and the table's thresholds.
func TestReportCalibrateAndDebugLeNet(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	cache, page := filepath.Join(dir, "table"), filepath.Join(dir, "calibrate.html")
	code, out, errOut := run("calibrate", "--datadir", dataDir, "--plugin-dir", pluginDir, "--cal-batches", "2", "--cache", cache, "--log-level", "warn", "--report", page)
	if code != 0 || !strings.Contains(out, "wrote report "+page) {
		t.Fatalf("exit %d, stdout lacks where the report went:\n%s\n%s", code, out, errOut)
	}
	r := readReport(t, page)
	if len(r.Calibrators) != 1 || r.Calibrators[0] != "entropy2" || r.curves() != len(r.Tensors) || r.Compare != nil || r.Layers != nil {
		t.Errorf("calibrate's report: calibrators %v, %d curves for %d tensors, compare %v, layers %v; want entropy2's curve on each tensor only",
			r.Calibrators, r.curves(), len(r.Tensors), r.Compare, r.Layers)
	}

	page = filepath.Join(dir, "debug.html")
	code, out, errOut = run("debug", "--datadir", dataDir, "--table", cache, "--batches", "2", "--top", "1", "--log-level", "warn", "--report", page)
	if code != 0 || !strings.Contains(out, "wrote report "+page) {
		t.Fatalf("exit %d, stdout lacks where the report went:\n%s\n%s", code, out, errOut)
	}
	r = readReport(t, page)
	if r.Layers == nil || len(r.Layers.Layers) != 4 {
		t.Errorf("debug's report: layers %+v, want LeNet's 4 whatever --top", r.Layers)
	}
	if len(r.Calibrators) != 1 || r.Calibrators[0] != "table" || r.curves() != 0 || len(r.Tensors) == 0 || len(r.Tensors[1].Thresholds) != 1 {
		t.Errorf("debug's report: calibrators %v, %d curves, %d tensors; want the table's thresholds on every tensor", r.Calibrators, r.curves(), len(r.Tensors))
	}
}

// A report that would overwrite an input or a table is refused before any
// work.
func TestReportRefusedBeforeWork(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	cache := filepath.Join(dir, "table")
	for _, tc := range []struct{ report, want string }{
		{filepath.Join(dataDir, "lenet.onnx"), "--report ../../data/mnist/lenet.onnx is the model"},
		{cache, "--report " + cache + " is a calibration table"},
		{filepath.Join(dir, "no", "such", "dir", "r.html"), "--report: "},
	} {
		code, out, errOut := run("calibrate", "--datadir", dataDir, "--plugin-dir", pluginDir, "--cache", cache, "--log-level", "warn", "--report", tc.report)
		if code == 0 || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("--report %s: exit %d, stdout %q, stderr %q; want an error with %q before any output", tc.report, code, out, errOut, tc.want)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) > 0 {
		t.Errorf("a refused report left %q", m)
	}
}

// chromium runs Debian's Chromium headless with args and returns its
// stdout. It runs in its own process group, killed with it on timeout, and
// with a private profile, so that it leaves nothing behind.
func chromium(t *testing.T, args ...string) string {
	t.Helper()
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Skipf("chromium is not installed (make chromium installs Debian's), so the report is not checked in a browser: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--disable-gpu", "--no-first-run", "--disable-extensions", "--user-data-dir=" + t.TempDir()}
	if os.Geteuid() == 0 {
		base = append(base, "--no-sandbox") // Chromium refuses to run as root with its sandbox
	}
	cmd := exec.CommandContext(ctx, exe, append(base, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) } // its renderers too
	cmd.WaitDelay = 10 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

var bodyAttr = regexp.MustCompile(`<body([^>]*)>`)

// checkRendered loads the page in Chromium and checks what its script
// did: no script error, every tensor listed with its histogram, and one
// chart per histogram and per curve (data-rendered).
func checkRendered(t *testing.T, page string, r reportData) string {
	t.Helper()
	dom := chromium(t, "--dump-dom", "file://"+page)
	m := bodyAttr.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("%s: no <body> in the DOM:\n%.2000s", page, dom)
	}
	attrs := m[1]
	if strings.Contains(attrs, "data-errors") {
		_, errs, _ := strings.Cut(dom, `<pre id="errors">`)
		t.Errorf("%s: script errors: %.500s", page, errs)
	}
	want := len(r.Tensors) + r.curves()
	if !strings.Contains(attrs, `data-rendered="`+strconv.Itoa(want)+`"`) || !strings.Contains(attrs, `data-tensors="`+strconv.Itoa(len(r.Tensors))+`"`) {
		t.Errorf("%s: body %s, want data-rendered=%d (%d histograms, %d curves) and data-tensors=%d", page, attrs, want, len(r.Tensors), r.curves(), len(r.Tensors))
	}
	if n := strings.Count(dom, `<details class="tensor"`); n != len(r.Tensors) {
		t.Errorf("%s: %d tensors listed, want %d", page, n, len(r.Tensors))
	}
	if n := strings.Count(dom, `class="chart hist"`); n != len(r.Tensors) {
		t.Errorf("%s: %d histograms drawn, want %d", page, n, len(r.Tensors))
	}
	if n := strings.Count(dom, `class="chart curve"`); n != r.curves() {
		t.Errorf("%s: %d curves drawn, want %d", page, n, r.curves())
	}
	return dom
}

// The reports of compare (LeNet, and ResNet-20 where ../shared has
// CIFAR-10) and debug open in a real browser and draw every chart; a
// tensor name made to break out of the page stays text; a screenshot
// comes out as a PNG.
func TestReportInChromium(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	t.Run("compare LeNet", func(t *testing.T) {
		page, r := compareReport(t, dir)
		dom := checkRendered(t, page, r)
		if !strings.Contains(dom, ">Comparison<") || !strings.Contains(dom, "minmax</td>") {
			t.Error("the comparison table was not drawn")
		}
		shot := filepath.Join(dir, "lenet.png")
		chromium(t, "--screenshot="+shot, "--window-size=1280,1600", "file://"+page)
		f, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if img, err := png.Decode(f); err != nil || img.Bounds().Dx() != 1280 {
			t.Errorf("screenshot: %v", err)
		}
	})
	t.Run("debug LeNet", func(t *testing.T) {
		cache, _ := calibratedCache(t, dir)
		page := filepath.Join(dir, "debug.html")
		if code, _, errOut := run("debug", "--datadir", dataDir, "--table", cache, "--batches", "2", "--log-level", "warn", "--report", page); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		dom := checkRendered(t, page, readReport(t, page))
		if !strings.Contains(dom, "Per-layer error") || !strings.Contains(dom, ">conv1</td>") {
			t.Error("the per-layer table was not drawn")
		}
	})
	t.Run("hostile names and a bare tensor", func(t *testing.T) {
		const name = `x</script><script>document.title="pwned"</script><!--"'&`
		s := calib.TensorStats{Name: name, Count: 40, Max: 3.9, Histogram: &calib.Histogram{Range: 4, Counts: []uint64{10, 10, 10, 10}}}
		tensor, err := report.NewTensor(s)
		if err != nil {
			t.Fatal(err)
		}
		tensor.Thresholds = []report.Threshold{report.NewThreshold(name, calib.Range{Amax: 3, Curve: []float64{2, 1, 3}, Chosen: 1}, s)}
		page := filepath.Join(dir, "hostile.html")
		var b bytes.Buffer
		bare, err := report.NewTensor(calib.TensorStats{Name: "zeros", Histogram: &calib.Histogram{Range: 1, Counts: []uint64{0}}})
		if err != nil {
			t.Fatal(err)
		}
		// bare: no threshold, no values.
		if err := report.Write(&b, &report.Report{Title: "t", Model: name, Calibrators: []string{name}, Tensors: []report.Tensor{tensor, bare}}); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(page, b.Bytes(), 0o644)
		dom := checkRendered(t, page, readReport(t, page))
		if strings.Contains(dom, "<title>pwned") || strings.Count(dom, "<script") != 3 {
			t.Errorf("a tensor name changed the page:\n%.3000s", dom)
		}
	})
	t.Run("compare ResNet-20", func(t *testing.T) {
		if _, err := os.Stat(filepath.Join(sharedCIFAR, "cifar10_calib_x.npy")); err != nil {
			t.Skipf("CIFAR-10 arrays not found at %s (they live in ../shared beside the clone), so ResNet-20's report is not checked: %v", sharedCIFAR, err)
		}
		arr := func(name string) string { return filepath.Join(sharedCIFAR, name) }
		page := filepath.Join(dir, "resnet20.html")
		code, _, errOut := run("compare", "--plugin-dir", pluginDir, "--model", "../../testdata/models/resnet20.onnx",
			"--calibrators", "entropy2,legacy,minmax", "--cache", filepath.Join(dir, "resnet20"), "--batch", "100", "score=1", "--cal-batches", "2",
			"--data", "npy", "--data-opt", "scale=1/255", "--data-opt", "mean=0.485,0.456,0.406", "--data-opt", "std=0.229,0.224,0.225",
			"--cal-opt", "x="+arr("cifar10_calib_x.npy"), "--cal-opt", "y="+arr("cifar10_calib_y.npy"),
			"--eval-opt", "x="+arr("cifar10_test_x.npy"), "--eval-opt", "y="+arr("cifar10_test_y.npy"), "--log-level", "warn", "--report", page)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		r := readReport(t, page)
		if len(r.Tensors) < 50 {
			t.Errorf("%d tensors, want ResNet-20's 57 or so", len(r.Tensors))
		}
		checkRendered(t, page, r)
	})
}
