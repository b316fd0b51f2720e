package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const dataDir = "../../data/mnist"

func needMNIST(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dataDir, "train-images-idx3-ubyte")); err != nil {
		t.Skipf("MNIST not placed in %s: run `make data` (%v)", dataDir, err)
	}
}

func run(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = runMain(args, &o, &e)
	return code, o.String(), e.String()
}

func TestRunSampleReport(t *testing.T) {
	needMNIST(t)
	code, out, errOut := run("run", "--datadir", dataDir, "--plugin-dir", pluginDir, "--cache", filepath.Join(t.TempDir(), "table"), "batch=32", "start=16", "score=20", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"&&&& RUNNING int8cal.run # int8cal run",
		"FP32 run:20 batches of size 32 starting at 16\n",
		"Top1: ", ", Top5: ",
		"Processing 640 images averaged ",
		"FP16 run:20 batches of size 32 starting at 16\n",
		"Writing Calibration Cache for calibrator: TRT-8601-EntropyCalibration2\n",
		"INT8 run:20 batches of size 32 starting at 16\n",
		"&&&& PASSED int8cal.run # int8cal run",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

// Each bad input gives one clear line naming the file, a non-zero exit
// and the sample's FAILED line; none panics.
func TestRunErrors(t *testing.T) {
	needMNIST(t)
	tmp := t.TempDir()
	truncated := filepath.Join(tmp, "truncated")
	os.Mkdir(truncated, 0o755)
	img, err := os.ReadFile(filepath.Join(dataDir, "train-images-idx3-ubyte"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(truncated, "train-images-idx3-ubyte"), img[:5000], 0o644)
	lbl, _ := os.ReadFile(filepath.Join(dataDir, "train-labels-idx1-ubyte"))
	os.WriteFile(filepath.Join(truncated, "train-labels-idx1-ubyte"), lbl, 0o644)
	badModel := filepath.Join(tmp, "bad.onnx")
	os.WriteFile(badModel, []byte("\x08\x07\x3a\xff\xff\xffnot a model"), 0o644)

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"missing data", []string{"--datadir", filepath.Join(tmp, "nowhere")}, []string{"nowhere/train-images-idx3-ubyte", "make data"}},
		{"truncated IDX", []string{"--datadir", truncated}, []string{"truncated/train-images-idx3-ubyte", "4984 bytes"}},
		{"model input mismatch", []string{"--datadir", dataDir, "--model", "../../testdata/models/resnet20.onnx"}, []string{"resnet20.onnx", "[N,3,32,32]", "[32,1,28,28]"}},
		{"malformed ONNX", []string{"--datadir", dataDir, "--model", badModel}, []string{"bad.onnx", "onnx:"}},
		{"missing model", []string{"--datadir", dataDir, "--model", filepath.Join(tmp, "none.onnx")}, []string{"none.onnx"}},
		{"too many batches", []string{"--datadir", dataDir, "score=5000"}, []string{"needs 160512 samples", "60000"}},
		{"unknown precision", []string{"--datadir", dataDir, "--precision", "fp32,bf16"}, []string{`"bf16" unknown`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(append([]string{"run", "--log-level", "error"}, tc.args...)...)
			if code == 0 {
				t.Fatalf("exit 0, want failure\n%s", out)
			}
			if !strings.Contains(out, "&&&& FAILED int8cal.run") {
				t.Errorf("stdout lacks the FAILED line:\n%s", out)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 1 {
				t.Errorf("want a one-line error, got:\n%s", errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("error %q lacks %q", errOut, w)
				}
			}
		})
	}
}

func TestUsage(t *testing.T) {
	if code, out, _ := run("run", "--help"); code != 0 || !strings.Contains(out, "-batch") {
		t.Errorf("run --help: exit %d, output:\n%s", code, out)
	}
	if code, _, errOut := run("run", "--no-such-flag"); code != 2 || !strings.Contains(errOut, "no-such-flag") {
		t.Errorf("bad flag: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := run("frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: exit %d, stderr %q", code, errOut)
	}
	if code, out, _ := run("help"); code != 0 || !strings.Contains(out, "run") {
		t.Errorf("help: exit %d:\n%s", code, out)
	}
}

func TestEval(t *testing.T) {
	needMNIST(t)
	code, out, errOut := run("eval", "--datadir", dataDir, "--split", "t10k", "--batch", "100", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Top1: 0.9902, Top5: 1") {
		t.Errorf("LeNet on t10k should score 0.9902:\n%s", out)
	}
}
