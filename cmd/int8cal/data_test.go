package main

import (
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/datasets/batchfile"
	"github.com/int8cal/int8cal/datasets/mnist"
)

var sharedCIFAR = filepath.Join("..", "..", "..", "shared", "data", "cifar10")

// ResNet-20 through the npy plugin on the 10,000 CIFAR-10 test arrays:
// 80.82%, as PyTorch and ONNX Runtime.
func TestEvalResNet20ThroughNpyPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000-image run skipped in -short mode")
	}
	x := filepath.Join(sharedCIFAR, "cifar10_test_x.npy")
	if _, err := os.Stat(x); err != nil {
		t.Skipf("CIFAR-10 arrays not found at %s (they live in ../shared beside the clone): %v", sharedCIFAR, err)
	}
	code, out, errOut := run("eval", "--plugin-dir", pluginDir, "--model", "../../testdata/models/resnet20.onnx", "--batch", "100",
		"--eval-data", "npy", "--eval-opt", "x="+x, "--eval-opt", "y="+filepath.Join(sharedCIFAR, "cifar10_test_y.npy"),
		"--eval-opt", "scale=1/255", "--eval-opt", "mean=0.485,0.456,0.406", "--eval-opt", "std=0.229,0.224,0.225", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Top1: 0.8082,") || !strings.Contains(out, "Processing 10000 images") {
		t.Errorf("want Top-1 0.8082 on 10000 images:\n%s", out)
	}
}

// LeNet through the mnist plugin scores exactly as the in-process reader.
func TestEvalMNISTPluginMatchesInProcess(t *testing.T) {
	needMNIST(t)
	_, inProcess, _ := run("eval", "--datadir", dataDir, "--batch", "100", "--log-level", "warn")
	code, viaPlugin, errOut := run("eval", "--datadir", dataDir, "--plugin-dir", pluginDir, "--eval-data", "mnist", "--batch", "100", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	score := func(out string) string {
		i := strings.Index(out, "Top1:")
		return out[i : i+strings.Index(out[i:], "\n")]
	}
	if score(inProcess) != score(viaPlugin) || !strings.Contains(viaPlugin, "Top1: 0.9902") {
		t.Errorf("in process %q, plugin %q", score(inProcess), score(viaPlugin))
	}
}

// Calibration through the mnist plugin writes the same table as the
// in-process reader: the data, not the transport, decides.
func TestCalibrateThroughDataPlugin(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	base := []string{"calibrate", "--datadir", dataDir, "--plugin-dir", pluginDir, "--calibrator", "entropy2", "--log-level", "warn"}
	if code, _, errOut := run(append(base, "--cache", a)...); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := run(append(base, "--cache", b, "--cal-data", "mnist")...); code != 0 {
		t.Fatal(errOut)
	}
	ta, _ := calibtable.ReadFile(a)
	tb, _ := calibtable.ReadFile(b)
	if ta == nil || tb == nil || len(ta.Entries) != len(tb.Entries) {
		t.Fatalf("tables %v %v", ta, tb)
	}
	for i := range ta.Entries {
		if ta.Entries[i] != tb.Entries[i] {
			t.Errorf("%s: %s in process, %s through the plugin", ta.Entries[i].Name, ta.Entries[i].Hex(), tb.Entries[i].Hex())
		}
	}
}

// A data set whose samples do not fit the model is refused before any
// work, naming both shapes; a bad plugin option names the plugin.
func TestDataErrors(t *testing.T) {
	needMNIST(t)
	code, _, errOut := run("eval", "--datadir", dataDir, "--plugin-dir", pluginDir, "--model", "../../testdata/models/resnet20.onnx", "--eval-data", "mnist", "--log-level", "error")
	if code == 0 || !strings.Contains(errOut, "[N,3,32,32]") || !strings.Contains(errOut, "[32,1,28,28]") {
		t.Errorf("shape mismatch: exit %d, %q", code, errOut)
	}
	code, _, errOut = run("eval", "--plugin-dir", pluginDir, "--eval-data", "npy", "--eval-opt", "x=/nonexistent.npy", "--log-level", "error")
	if code == 0 || !strings.Contains(errOut, "nonexistent.npy") || !strings.Contains(errOut, "npy") {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
	code, _, errOut = run("eval", "--plugin-dir", pluginDir, "--eval-data", "nosuch", "--log-level", "error")
	if code == 0 || !strings.Contains(errOut, "int8cal-batchstream-nosuch") {
		t.Errorf("unknown plugin: exit %d, %q", code, errOut)
	}
}

// The first 200 MNIST test images written as TensorRT batch files and as a
// folder of PNGs (class subfolders) score exactly as read from the IDX
// files, through the batchfile and images plugins as real subprocesses.
func TestBatchfileAndImagesPluginsMatchMNIST(t *testing.T) {
	needMNIST(t)
	src, err := mnist.Open(dataDir, mnist.Test)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	images := make([]float32, n*784)
	labels := make([]int, n)
	if err := src.Read(0, n, images, labels); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := batchfile.Write(filepath.Join(dir, "batches", "batch"), 50, images, labels, [3]int{1, 28, 28}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		for p := range img.Pix {
			img.Pix[p] = uint8(images[i*784+p]*255 + 0.5)
		}
		class := filepath.Join(dir, "png", fmt.Sprint(labels[i]))
		os.MkdirAll(class, 0o755)
		f, err := os.Create(filepath.Join(class, fmt.Sprintf("%03d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, img)
		f.Close()
	}
	score := func(args ...string) string {
		t.Helper()
		code, out, errOut := run(append([]string{"eval", "--datadir", dataDir, "--plugin-dir", pluginDir, "--batch", "20", "--log-level", "warn"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		i := strings.Index(out, "Top1:")
		return out[i : i+strings.Index(out[i:], "\n")]
	}
	want := score("--score", "10")
	if got := score("--eval-data", "batchfile", "--eval-opt", "prefix="+filepath.Join(dir, "batches", "batch")); got != want {
		t.Errorf("batch files: %q, IDX: %q", got, want)
	}
	// Class subfolders sort as strings (0..9 here), so labels match digits.
	if got := score("--eval-data", "images", "--eval-opt", "dir="+filepath.Join(dir, "png"), "--eval-opt", "gray=true", "--eval-opt", "scale=1/255"); got != want {
		t.Errorf("PNG folder: %q, IDX: %q", got, want)
	}
}

// ResNet-20 on CIFAR-10 (calibration on the 1,000 calibration arrays,
// evaluation on the 10,000 test arrays, both through the npy plugin): the
// best calibrator's INT8 Top-1 within 0.2% of FP32's 80.82%.
func TestCompareResNet20INT8(t *testing.T) {
	if testing.Short() {
		t.Skip("CIFAR-10 INT8 comparison skipped in -short mode")
	}
	if _, err := os.Stat(filepath.Join(sharedCIFAR, "cifar10_calib_x.npy")); err != nil {
		t.Skipf("CIFAR-10 arrays not found at %s (they live in ../shared beside the clone): %v", sharedCIFAR, err)
	}
	arr := func(name string) string { return filepath.Join(sharedCIFAR, name) }
	code, out, errOut := run("compare", "--plugin-dir", pluginDir, "--model", "../../testdata/models/resnet20.onnx",
		"--calibrators", "entropy2,minmax,legacy", "--cache", filepath.Join(t.TempDir(), "table"), "--format", "json", "--batch", "100",
		"--data", "npy", "--data-opt", "scale=1/255", "--data-opt", "mean=0.485,0.456,0.406", "--data-opt", "std=0.229,0.224,0.225",
		"--cal-opt", "x="+arr("cifar10_calib_x.npy"), "--cal-opt", "y="+arr("cifar10_calib_y.npy"),
		"--eval-opt", "x="+arr("cifar10_test_x.npy"), "--eval-opt", "y="+arr("cifar10_test_y.npy"), "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rows []compareRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	best := -1.0
	for _, r := range rows {
		t.Logf("%-9s Top-1 %.4f Top-5 %.4f (%+.4f) calibration %.2f s", r.Name, r.Top1, r.Top5, r.DeltaTop1, r.CalibrateS)
		if r.Name != "FP32" {
			best = max(best, float64(r.Top1))
		}
	}
	if rows[0].Top1 != 0.8082 || best < 0.8062 {
		t.Errorf("FP32 %.4f, best INT8 %.4f: want 0.8082 and the best INT8 within 0.2%%", rows[0].Top1, best)
	}
}
