package plugintest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/int8cal/int8cal/core/pluginhost"
	"github.com/int8cal/int8cal/internal/testfixture"
)

// The page TestPythonGuide runs, and what each int8cal subcommand it
// runs must print.
const guidePage = "docs/writing-a-python-plugin.md"

var guideExpect = map[string][]string{
	"plugins": {"calibrator pypercentile 1.0.0 (protocol 1", `option percentile (default "99.99")`, "data set npyfolder 1.0.0 (protocol 2", "option dir:"},
	"eval":    {"Top1: 0.98"},
	"compare": {"FP32", "pypercentile ", "pypercentile:percentile=99.9"},
}

// fileName returns NAME of a block opened with ```LANG file=NAME.
func fileName(info string) (string, bool) {
	for _, f := range strings.Fields(info) {
		if name, ok := strings.CutPrefix(f, "file="); ok {
			return name, true
		}
	}
	return "", false
}

// TestPythonGuide does what docs/writing-a-python-plugin.md says, in a
// fresh folder, as someone with only the page would: its files written
// where they appear (the Python ones must be python/examples' files, byte
// for byte), its commands run in order, the int8cal they call built from
// this checkout. Two steps stand in for what needs the network: the
// page's venv is a link to the tests' (the checkout's .venv), and its
// `pip install` of the SDK is PYTHONPATH pointing at this working tree's.
// Last, the conformance suites run on the plugins the page made, as its
// section 5 says.
func TestPythonGuide(t *testing.T) {
	if testing.Short() {
		t.Skip("builds int8cal and runs the guide's commands; not with -short")
	}
	py := python(t)
	root := repoRoot(t)
	mnist := filepath.Join(root, "data", "mnist")
	if _, err := os.Stat(filepath.Join(mnist, "t10k-images-idx3-ubyte")); err != nil {
		t.Skipf("MNIST is not in %s (make data): %v", mnist, err)
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "int8cal"), "./cmd/int8cal")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/int8cal: %v\n%s", err, out)
	}
	// t.TempDir's long name would make the plugins' socket paths too long
	// for Unix sockets once int8cal's directories are added: a short one.
	dir, err := os.MkdirTemp("", "pyguide")
	if err != nil {
		t.Fatal(err)
	}
	top := dir // dir moves into the folder the page makes
	t.Cleanup(func() { os.RemoveAll(top) })
	t.Setenv("TMPDIR", top)
	examples := map[string]bool{}
	ran := 0
	for _, b := range testfixture.CodeBlocks(t, filepath.Join(root, guidePage)) {
		where := fmt.Sprintf("%s:%d", guidePage, b.Line+1)
		if name, ok := fileName(b.Info); ok {
			if strings.HasPrefix(b.Info, "python") {
				want, err := os.ReadFile(filepath.Join(root, "python", "examples", name))
				if err != nil {
					t.Fatalf("%s: %s is not in python/examples: %v", where, name, err)
				}
				if b.Text() != string(want) {
					t.Errorf("%s: the page's %s differs from python/examples/%s", where, name, name)
				}
				examples[name] = true
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(b.Text()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if b.Info != "sh doc-test" {
			continue
		}
		for i, line := range strings.Split(strings.TrimSpace(b.Text()), "\n") {
			where := fmt.Sprintf("%s:%d", guidePage, b.Line+1+i)
			if c, _, ok := strings.Cut(line, " #"); ok {
				line = c
			}
			line = strings.TrimSpace(line)
			args := strings.Fields(os.Expand(line, func(v string) string {
				switch v {
				case "INT8CAL":
					return root
				case "PWD":
					return dir
				}
				t.Fatalf("%s: the test knows $INT8CAL and $PWD only, not $%s", where, v)
				return ""
			}))
			switch {
			case len(args) == 0 || strings.HasPrefix(args[0], "#") || strings.HasPrefix(line, "export INT8CAL="):
				continue
			case len(args) == 5 && args[0] == "mkdir" && args[2] == "&&" && args[3] == "cd" && args[1] == args[4]:
				dir = filepath.Join(dir, args[1])
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				continue
			case line == "python3 -m venv venv":
				if err := os.Symlink(filepath.Dir(filepath.Dir(py)), filepath.Join(dir, "venv")); err != nil {
					t.Fatal(err)
				}
				continue
			case line == "venv/bin/pip install $INT8CAL/python":
				continue // python(t) set PYTHONPATH to this working tree's SDK
			case args[0] == filepath.Join(root, "bin", "int8cal"):
				args[0] = filepath.Join(bin, "int8cal")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			cmd := exec.CommandContext(ctx, args[0], args[1:]...)
			cmd.Dir = dir
			start := time.Now()
			out, err := cmd.CombinedOutput()
			cancel()
			if err != nil {
				t.Fatalf("%s: %s: %v\n%s", where, line, err, out)
			}
			t.Logf("%s: %s (%v)", where, line, time.Since(start).Round(time.Millisecond))
			if len(args) > 1 && args[0] == filepath.Join(bin, "int8cal") {
				for _, want := range guideExpect[args[1]] {
					if !strings.Contains(string(out), want) {
						t.Errorf("%s: %s: the output lacks %q:\n%s", where, line, want, out)
					}
				}
				for _, bad := range []string{"unusable", "[WARN]", "[ERROR]"} {
					if strings.Contains(string(out), bad) {
						t.Errorf("%s: %s: the output holds %q:\n%s", where, line, bad, out)
					}
				}
			}
			ran++
		}
	}
	for _, name := range []string{"percentile_calibrator.py", "npy_folder_dataset.py"} {
		if !examples[name] {
			t.Errorf("%s does not show python/examples/%s", guidePage, name)
		}
	}
	if ran < 5 {
		t.Errorf("%d commands of the page ran; it has more", ran)
	}
	// Section 5: the conformance suites, on the very plugins the page made.
	conformance(t, pluginhost.Found{Kind: pluginhost.CalibratorKind, Name: "pypercentile", Path: filepath.Join(dir, "int8cal-calibrator-pypercentile")}, nil)
	conformance(t, pluginhost.Found{Kind: pluginhost.BatchStreamKind, Name: "npyfolder", Path: filepath.Join(dir, "int8cal-batchstream-npyfolder")},
		map[string]string{"dir": filepath.Join(dir, "mnist-test")})
}
