package docs_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The examples of docs/sharded-calibration.md: the Kubernetes Indexed Job
// (kubernetes/shards.yaml, kubernetes/merge.yaml) and the Dask script
// (dask/calibrate_shards.py). The manifests are checked against the
// Kubernetes API's schema (tools/k8s/check_manifest.py, the official
// Python client's models) and their commands run here, pod by pod, with
// the environment Kubernetes gives each pod; the Dask script runs on a
// local Dask cluster. Each must write the table and sidecar of one
// calibrate run, byte for byte.

// venvPython is the project's Python (make pydeps) if it has the modules,
// or skips t, saying so.
func venvPython(t *testing.T, root string, modules ...string) string {
	t.Helper()
	py := filepath.Join(root, ".venv", "bin", "python")
	if _, err := os.Stat(py); err != nil {
		t.Skipf("%s not found (make pydeps installs it): %v", py, err)
	}
	if out, err := exec.Command(py, "-c", "import "+strings.Join(modules, ", ")).CombinedOutput(); err != nil {
		t.Skipf("%s lacks %v (make pydeps installs them): %v\n%s", py, modules, err, out)
	}
	return py
}

// calibrationDir is a directory holding LeNet as model.onnx and the MNIST
// data as mnist/, as the examples' shared volume does.
func calibrationDir(t *testing.T, root string) string {
	t.Helper()
	mnist := filepath.Join(root, "data", "mnist")
	if _, err := os.Stat(filepath.Join(mnist, "train-images-idx3-ubyte")); err != nil {
		t.Skipf("MNIST not found in %s (make data): %v", mnist, err)
	}
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(mnist, "lenet.onnx"), filepath.Join(dir, "model.onnx")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(mnist, filepath.Join(dir, "mnist")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// int8calRun runs the int8cal of bin with env added.
func int8calRun(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "int8cal"), args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("int8cal %v: %v\n%s%s", args, err, out, stderr.String())
	}
	return string(out)
}

// sameAsSingleRun calibrates once in one process, as the examples'
// options say, and compares table and sidecar with table's.
func sameAsSingleRun(t *testing.T, bin, table string, args ...string) {
	t.Helper()
	single := filepath.Join(t.TempDir(), "single")
	int8calRun(t, bin, nil, append([]string{"calibrate", "--cache", single}, args...)...)
	for _, suffix := range []string{"", ".int8cal.json"} {
		got, err := os.ReadFile(table + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := os.ReadFile(single + suffix); !bytes.Equal(got, want) {
			t.Errorf("%s differs from one calibrate run's:\n%s\nwant\n%s", table+suffix, got, want)
		}
	}
}

// manifestJob is what check_manifest.py prints of a document.
type manifestJob struct {
	Kind           string `json:"kind"`
	Name           string `json:"name"`
	CompletionMode string `json:"completion_mode"`
	Completions    int    `json:"completions"`
	Parallelism    int    `json:"parallelism"`
	Containers     []struct {
		Command []string          `json:"command"`
		Args    []string          `json:"args"`
		Mounts  map[string]string `json:"mounts"`
	} `json:"containers"`
}

func TestKubernetesIndexedJob(t *testing.T) {
	root := repoRoot(t)
	py := venvPython(t, root, "kubernetes", "yaml")
	out, err := exec.Command(py, filepath.Join(root, "tools", "k8s", "check_manifest.py"),
		filepath.Join(root, "docs", "kubernetes", "shards.yaml"), filepath.Join(root, "docs", "kubernetes", "merge.yaml")).Output()
	if err != nil {
		t.Fatalf("the manifests do not pass the Kubernetes schema: %v\n%s", err, exitStderr(err))
	}
	var jobs []manifestJob
	if err := json.Unmarshal(out, &jobs); err != nil || len(jobs) != 2 {
		t.Fatalf("check_manifest.py printed %d jobs (%v):\n%s", len(jobs), err, out)
	}
	shards, merge := jobs[0], jobs[1]
	n := shards.Completions
	if shards.Kind != "Job" || shards.CompletionMode != "Indexed" || n < 2 || shards.Parallelism != n || len(shards.Containers) != 1 {
		t.Fatalf("the shards' Job is not an Indexed Job of parallel completions: %+v", shards)
	}
	shardArgs := shards.Containers[0].Args
	if !slices.Contains(shardArgs, fmt.Sprintf("--shard=env/%d", n)) {
		t.Errorf("the shards' arguments %v lack --shard=env/%d", shardArgs, n)
	}
	// The volume every pod mounts is a directory here.
	dir := calibrationDir(t, root)
	mount := shards.Containers[0].Mounts["calib"]
	local := func(args []string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = strings.ReplaceAll(a, mount, dir)
		}
		return out
	}
	bin := hostBin(t, root)
	for i := range n {
		// What the Indexed Job's controller sets in pod i.
		int8calRun(t, bin, []string{fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i)}, local(shardArgs)...)
	}
	if merge.Containers[0].Mounts["calib"] != mount {
		t.Fatalf("the merge mounts the volume at %q, the shards at %q", merge.Containers[0].Mounts["calib"], mount)
	}
	int8calRun(t, bin, nil, local(merge.Containers[0].Args)...)
	var table string
	for _, a := range shardArgs {
		if v, ok := strings.CutPrefix(a, "--cache="); ok {
			table = strings.ReplaceAll(v, mount, dir)
		}
	}
	var single []string
	for _, a := range local(shardArgs[1:]) {
		if !strings.HasPrefix(a, "--shard") && !strings.HasPrefix(a, "--cache") && !strings.HasPrefix(a, "--format") {
			single = append(single, a)
		}
	}
	sameAsSingleRun(t, bin, table, single...)
}

func TestDaskExample(t *testing.T) {
	root := repoRoot(t)
	py := venvPython(t, root, "dask.distributed")
	dir := calibrationDir(t, root)
	bin := hostBin(t, root)
	options := []string{"--model=" + filepath.Join(dir, "model.onnx"), "--datadir=" + filepath.Join(dir, "mnist"),
		"--calibrator=entropy2", "--cal-batches=6", "--log-level=warn"}
	table := filepath.Join(dir, "CalibrationTable")
	cmd := exec.Command(py, filepath.Join(root, "docs", "dask", "calibrate_shards.py"), "--shards", "3", "--out", filepath.Join(dir, "stats"),
		"--int8cal", filepath.Join(bin, "int8cal"), "--")
	cmd.Args = append(cmd.Args, append(options, "--cache="+table)...)
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("calibrate_shards.py: %v\n%s%s", err, out, exitStderr(err))
	}
	var merged struct {
		Table    string `json:"table"`
		Complete bool   `json:"complete"`
	}
	if err := json.Unmarshal(out, &merged); err != nil || merged.Table != table || !merged.Complete {
		t.Fatalf("the script printed %+v (%v):\n%s", merged, err, out)
	}
	sameAsSingleRun(t, bin, table, options...)
}

// exitStderr is what a failed command wrote to stderr.
func exitStderr(err error) string {
	if e, ok := err.(*exec.ExitError); ok {
		return string(e.Stderr)
	}
	return ""
}
