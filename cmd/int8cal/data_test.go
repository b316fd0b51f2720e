package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/calibtable"
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
