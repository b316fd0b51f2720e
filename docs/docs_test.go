// Package docs_test keeps the plugin guides true: they are built and run
// as a newcomer would run them. (The numbers protocol.md states are
// checked against the code by core/pluginhost's protocol_doc_test.go.)
package docs_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/core/pluginhost"
	"github.com/int8cal/int8cal/internal/testfixture"
	"github.com/int8cal/int8cal/plugins/sdk/calibratortest"
)

// repoRoot is the module's directory, the parent of docs/.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information to find the module")
	}
	return filepath.Dir(filepath.Dir(file))
}

// The markers docs/writing-a-*.md use: a code block whose first line is
// fileMarker NAME is the file NAME of the plugin's folder, and a block
// opened with runFence holds the commands a newcomer types, run here line
// by line.
const (
	fileMarker = "// file: "
	runFence   = "sh doc-test"
)

// host builds, once per test binary, what the guides call
// $INT8CAL/bin: the int8cal command and the bundled entropy2 calibrator
// that the calibrator guide's compare runs beside the new plugin (a build
// here rather than the checkout's bin/, which may be stale or absent).
var host struct {
	once sync.Once
	dir  string
	err  error
}

func hostBin(t *testing.T, root string) string {
	t.Helper()
	host.once.Do(func() {
		host.dir, host.err = os.MkdirTemp("", "int8cal-docs-host")
		if host.err != nil {
			return
		}
		for out, pkg := range map[string]string{"int8cal": "./cmd/int8cal", "int8cal-calibrator-entropy2": "./plugins/entropy2"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(host.dir, out), pkg)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if b, err := cmd.CombinedOutput(); err != nil {
				host.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
				return
			}
		}
	})
	if host.err != nil {
		t.Fatal(host.err)
	}
	return host.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if host.dir != "" {
		os.RemoveAll(host.dir)
	}
	os.Exit(code)
}

// guide is what a guide's run must show beyond exit status 0: per
// int8cal subcommand, text its output must hold.
type guide struct {
	page   string
	expect map[string][]string
	// check drives the built plugin through the host's own code.
	check func(t *testing.T, pluginDir string)
}

func TestCalibratorGuide(t *testing.T) {
	runGuide(t, guide{
		page: "writing-a-calibrator.md",
		expect: map[string][]string{
			"plugins": {"calibrator mypercentile 0.1.0 (protocol 1", `option p (default "99.99")`},
			"compare": {"FP32", "entropy2", "mypercentile:p=99.9"},
		},
		check: checkCalibrator,
	})
}

func TestDatasetGuide(t *testing.T) {
	runGuide(t, guide{
		page:   "writing-a-dataset.md",
		expect: map[string][]string{"plugins": {"data set csv 0.1.0 (protocol 1", "option file:"}},
		check:  checkDataset,
	})
}

// runGuide does what the page says in a fresh folder: the commands of its
// run blocks in order, its files written where they appear, $INT8CAL the
// checkout (so the replace directive points at it) and $INT8CAL/bin/int8cal
// the command built here. Go's caches and flags come from the
// environment, so the plugin's dependencies are compiled once.
func runGuide(t *testing.T, g guide) {
	if testing.Short() {
		t.Skip("builds and runs a plugin module; not with -short")
	}
	root := repoRoot(t)
	bin := hostBin(t, root)
	env := append(os.Environ(), "INT8CAL="+root, "CGO_ENABLED=0")
	mnist := filepath.Join(root, "data", "mnist")
	if _, err := os.Stat(filepath.Join(mnist, "train-images-idx3-ubyte")); err == nil {
		// The checkout's int8cal finds data/mnist beside its bin/; the
		// one built here is elsewhere.
		env = append(env, "INT8CAL_DATA="+mnist)
	}
	dir := t.TempDir()
	offline := false
	ran := 0
	for _, b := range testfixture.CodeBlocks(t, filepath.Join(root, "docs", g.page)) {
		if len(b.Lines) > 0 && strings.HasPrefix(b.Lines[0], fileMarker) {
			name := strings.TrimPrefix(b.Lines[0], fileMarker)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(b.Text()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if b.Info != runFence {
			continue
		}
		for i, line := range b.Lines {
			where := fmt.Sprintf("%s:%d", g.page, b.Line+1+i)
			if c, _, ok := strings.Cut(line, " #"); ok {
				line = c
			}
			line = strings.TrimSpace(line)
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
				continue
			case strings.HasPrefix(line, "export INT8CAL="):
				continue // the test sets $INT8CAL to this checkout
			case strings.HasPrefix(line, "mkdir "):
				// mkdir NAME && cd NAME: the plugin's folder.
				f := strings.Fields(line)
				if len(f) != 5 || f[2] != "&&" || f[3] != "cd" || f[1] != f[4] {
					t.Fatalf("%s: %q: the test knows `mkdir NAME && cd NAME` only", where, line)
				}
				dir = filepath.Join(dir, f[1])
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				continue
			}
			args := strings.Fields(os.Expand(line, func(v string) string {
				if v == "INT8CAL" {
					return root
				}
				return "$" + v
			}))
			sub := ""
			if args[0] == filepath.Join(root, "bin", "int8cal") {
				args[0] = filepath.Join(bin, "int8cal")
				sub = args[1]
				if sub == "compare" && !hasEnv(env, "INT8CAL_DATA") {
					t.Logf("%s: skipped: MNIST is not in %s (make data)", where, mnist)
					continue
				}
			}
			if offline && args[0] == "go" && args[1] == "mod" && args[2] == "tidy" {
				continue
			}
			out, err := command(dir, env, offline, args)
			if err != nil && args[0] == "go" && args[1] == "mod" && args[2] == "tidy" {
				// go mod tidy needs the module proxy for what the cache
				// lacks (test dependencies of dependencies). The page's
				// offline route: int8cal's go.sum, the cache alone, and
				// GOFLAGS=-mod=mod for the go commands after.
				t.Logf("%s: %s failed, going on as the page says to offline: %v\n%s", where, line, err, tail(out))
				sum, rerr := os.ReadFile(filepath.Join(root, "go.sum"))
				if rerr != nil {
					t.Fatal(rerr)
				}
				if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
					t.Fatal(err)
				}
				offline = true
				continue
			}
			if err != nil {
				if offline && strings.Contains(out, "module lookup disabled") {
					t.Skipf("%s: %s: neither the module proxy nor the module cache has int8cal's dependencies: %s", where, line, tail(out))
				}
				t.Fatalf("%s: %s: %v\n%s", where, line, err, out)
			}
			for _, want := range g.expect[sub] {
				if !strings.Contains(out, want) {
					t.Errorf("%s: %s: the output lacks %q:\n%s", where, line, want, out)
				}
			}
			if strings.Contains(out, "unusable") {
				t.Errorf("%s: %s:\n%s", where, line, out)
			}
			ran++
		}
	}
	if ran == 0 {
		t.Fatalf("%s has no %q block that ran", g.page, runFence)
	}
	g.check(t, filepath.Join(dir, "bin"))
}

func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			return true
		}
	}
	return false
}

// command runs args in dir and returns its output; offline, go commands
// use the module cache only.
func command(dir string, env []string, offline bool, args []string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	if offline && args[0] == "go" {
		cmd.Env = append(cmd.Env, "GOPROXY=off", "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"))
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

// checkCalibrator starts the guide's plugin as int8cal does and checks
// its answer: with p=50, the amax of the values 1..1000 is the upper edge
// of the histogram bin holding the 500th.
func checkCalibrator(t *testing.T, pluginDir string) {
	f, err := pluginhost.Lookup(pluginhost.CalibratorKind, "mypercentile", []string{pluginDir})
	if err != nil {
		t.Fatal(err)
	}
	c, err := pluginhost.StartCalibrator(f, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Configure(map[string]string{"p": "50"}); err != nil {
		t.Fatal(err)
	}
	values := make([]float32, 1000)
	for i := range values {
		values[i] = float32(i + 1)
	}
	stats := calibratortest.Summarize("x", values, c.Info)
	ranges, err := c.Calibrate([]calib.TensorStats{stats})
	if err != nil {
		t.Fatal(err)
	}
	w := stats.Histogram.BinWidth()
	if want := float32((math.Floor(500/w) + 1) * w); ranges[0].Name != "x" || ranges[0].Amax != want {
		t.Errorf("p=50 of 1..1000: %+v, want amax %v", ranges[0], want)
	}
	if err := c.Configure(map[string]string{"q": "1"}); err == nil || !strings.Contains(err.Error(), `unknown option "q"`) {
		t.Errorf("an unknown option: %v", err)
	}
}

// checkDataset opens a CSV through the guide's plugin as int8cal does,
// both ways batches travel, and reads it back.
func checkDataset(t *testing.T, pluginDir string) {
	f, err := pluginhost.Lookup(pluginhost.BatchStreamKind, "csv", []string{pluginDir})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rows.csv")
	if err := os.WriteFile(file, []byte("2,0.5,-1\n0,3,4.25\n1,-2,8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, transport := range []pluginhost.Transport{pluginhost.TransportStream, pluginhost.TransportAuto} {
		b, err := pluginhost.StartBatchStream(f, hclog.NewNullLogger())
		if err != nil {
			t.Fatal(err)
		}
		b.Transport = transport
		meta, err := b.Open(map[string]string{"file": file})
		if err != nil {
			b.Close()
			t.Fatal(err)
		}
		if meta.Samples != 3 || fmt.Sprint(meta.SampleShape) != "[2]" || !meta.Labels || meta.Classes != 3 {
			t.Errorf("%v: Open: %+v", transport, meta)
		}
		images, labels := make([]float32, 6), make([]int, 3)
		if err := b.Read(0, 3, images, labels); err != nil {
			t.Error(err)
		}
		if fmt.Sprint(images, labels) != "[0.5 -1 3 4.25 -2 8] [2 0 1]" {
			t.Errorf("%v: read %v %v", transport, images, labels)
		}
		if _, err := b.Open(map[string]string{"fil": file}); err == nil || !strings.Contains(err.Error(), `unknown option "fil"`) {
			t.Errorf("%v: an unknown option: %v", transport, err)
		}
		b.Close()
	}
}
