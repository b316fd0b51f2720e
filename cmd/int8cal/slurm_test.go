//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/int8cal/int8cal/internal/testfixture"
)

// TestSlurmJobArray: a Slurm job array of 4 shards (--shard env) and a
// merge job that depends on it (--dependency=afterok) on a single-node
// cluster started by the test write the table and sidecar of a
// one-process calibration, byte for byte.
func TestSlurmJobArray(t *testing.T) {
	needMNIST(t)
	if testing.Short() {
		t.Skip("Slurm cluster test skipped in -short mode")
	}
	slurm := testfixture.StartSlurm(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "int8cal")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building int8cal: %v\n%s", err, out)
	}
	data, err := filepath.Abs(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	// The job scripts of docs/sharded-calibration.md, configured through
	// the environment that sbatch passes on.
	table := filepath.Join(dir, "CalibrationTablelenet")
	options := fmt.Sprintf("--datadir %s --plugin-dir %s --calibrator entropy2 --log-level warn", data, pluginDir)
	env := []string{"INT8CAL=" + bin, "INT8CAL_TABLE=" + table, "INT8CAL_OPTIONS=" + options, "INT8CAL_DATA_OPTIONS=--cal-batches 8"}
	shards := slurm.Submit(env, "--array=1-4", "--chdir="+dir, "--output="+filepath.Join(dir, "shard-%a.log"), "../../docs/slurm/shards.sbatch")
	merge := slurm.Submit(env, "--dependency=afterok:"+shards, "--chdir="+dir, "--output="+filepath.Join(dir, "merge.log"), "../../docs/slurm/merge.sbatch")
	logs := func() string {
		var b bytes.Buffer
		files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		for _, f := range files {
			out, _ := os.ReadFile(f)
			fmt.Fprintf(&b, "== %s\n%s", filepath.Base(f), out)
		}
		return b.String()
	}
	if states := slurm.Wait(shards, 2*time.Minute); slices.ContainsFunc(states, func(s string) bool { return s != "COMPLETED" }) {
		t.Fatalf("shard tasks ended %v:\n%s", states, logs())
	}
	if states := slurm.Wait(merge, 2*time.Minute); !slices.Equal(states, []string{"COMPLETED"}) {
		t.Fatalf("merge job ended %v:\n%s", states, logs())
	}
	stats, _ := filepath.Glob(table + ".shard-*-of-4.stats")
	if len(stats) != 4 {
		t.Errorf("statistics files %v, want 4", stats)
	}
	single := filepath.Join(t.TempDir(), "CalibrationTablelenet")
	if code, _, errOut := run("calibrate", "--cache", single, "--datadir", data, "--plugin-dir", pluginDir, "--calibrator", "entropy2", "--cal-batches", "8", "--log-level", "warn"); code != 0 {
		t.Fatalf("single calibration: exit %d: %s", code, errOut)
	}
	for _, suffix := range []string{"", ".int8cal.json"} {
		got, err := os.ReadFile(table + suffix)
		if err != nil {
			t.Fatalf("%v\n%s", err, logs())
		}
		want, _ := os.ReadFile(single + suffix)
		if !bytes.Equal(got, want) {
			t.Errorf("the Slurm run's %s differs from the single run's:\n%s\nwant\n%s", filepath.Base(table+suffix), got, want)
		}
	}
}
