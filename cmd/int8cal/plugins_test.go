package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/pluginhost"
	"github.com/int8cal/int8cal/internal/filehash"
)

// copyPlugin copies a plugin program from pluginDir into dir.
func copyPlugin(t *testing.T, dir, file string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(pluginDir, file))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// `plugins --lock` records the plugins' hashes; with --plugin-lock a
// changed or unlisted plugin is refused, by `plugins` and by the commands
// that run one.
func TestPluginLockFile(t *testing.T) {
	dir := t.TempDir()
	minmax := copyPlugin(t, dir, "int8cal-calibrator-minmax")
	copyPlugin(t, dir, "int8cal-batchstream-npy")
	lock := filepath.Join(t.TempDir(), "plugins.lock")

	code, out, errOut := run("plugins", "--plugin-dir", dir, "--lock", lock, "--log-level", "off")
	if code != 0 || !strings.Contains(out, "Recorded 2 plugin(s) in "+lock) {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var l pluginhost.Lock
	data, _ := os.ReadFile(lock)
	if err := json.Unmarshal(data, &l); err != nil || l.Version != pluginhost.LockVersion || len(l.Plugins) != 2 ||
		l.Plugins[0].Name != "npy" || l.Plugins[1].Name != "minmax" || l.Plugins[1].Path != minmax {
		t.Fatalf("lock file %v:\n%s", err, data)
	}
	sum, _ := filehash.SHA256(minmax)
	if l.Plugins[1].SHA256 != sum {
		t.Errorf("minmax recorded as %s, hashes to %s", l.Plugins[1].SHA256, sum)
	}

	code, out, _ = run("plugins", "--plugin-dir", dir, "--plugin-lock", lock, "--log-level", "off")
	if code != 0 || strings.Contains(out, "unusable") || !strings.Contains(out, "sha256 "+sum) {
		t.Errorf("pinned listing: exit %d\n%s", code, out)
	}

	// minmax changes; a plugin the lock does not list appears.
	f, _ := os.OpenFile(minmax, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{0})
	f.Close()
	copyPlugin(t, dir, "int8cal-calibrator-legacy")
	code, out, _ = run("plugins", "--plugin-dir", dir, "--plugin-lock", lock, "--log-level", "off")
	if code != 0 || !strings.Contains(out, "calibrator minmax ("+minmax+")\n  unusable: ") || !strings.Contains(out, "but "+lock+" pins "+sum) ||
		!strings.Contains(out, "calibrator legacy") || !strings.Contains(out, "is not listed in the plugin lock file") {
		t.Errorf("changed and unlisted plugins:\n%s", out)
	}
	// --plugin-lock none pins nothing.
	if code, out, _ = run("plugins", "--plugin-dir", dir, "--plugin-lock", "none", "--log-level", "off"); code != 0 || strings.Contains(out, "unusable") {
		t.Errorf("--plugin-lock none: exit %d\n%s", code, out)
	}
	// A broken lock file fails the command.
	os.WriteFile(lock, []byte(`{"format":"int8cal-plugin-lock","version":9}`), 0o644)
	if code, _, errOut = run("plugins", "--plugin-dir", dir, "--plugin-lock", lock); code == 0 || !strings.Contains(errOut, "version 9") {
		t.Errorf("broken lock: exit %d, %q", code, errOut)
	}

	needMNIST(t)
	if err := os.WriteFile(lock, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(t.TempDir(), "table")
	code, _, errOut = run("calibrate", "--datadir", dataDir, "--plugin-dir", dir, "--plugin-lock", lock, "--calibrator", "minmax", "--cache", cache, "--log-level", "error")
	if code == 0 || !strings.Contains(errOut, "SHA-256") || !strings.Contains(errOut, sum) {
		t.Errorf("changed calibrator: exit %d, %q", code, errOut)
	}
	code, _, errOut = run("calibrate", "--datadir", dataDir, "--plugin-dir", dir, "--plugin-lock", lock, "--calibrator", "legacy", "--cache", cache, "--log-level", "error")
	if code == 0 || !strings.Contains(errOut, "not listed") {
		t.Errorf("unlisted calibrator: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(cache); err == nil {
		t.Error("a refused calibrator wrote a cache")
	}
}

// A plugin's error text reaches the terminal on one line, without escape
// sequences.
func TestPluginErrorTextSanitized(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-ldflags", "-X main.mode=ansi", "-o", filepath.Join(dir, "int8cal-calibrator-test-ansi"), "../../core/pluginhost/testdata/testplugin")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	code, _, errOut := run("calibrate", "--datadir", dataDir, "--plugin-dir", dir, "--calibrator", "test-ansi", "--calibrator-opt", "scale=2",
		"--cache", filepath.Join(t.TempDir(), "table"), "--log-level", "warn")
	if code == 0 || !strings.Contains(errOut, "red alert | second line") || strings.ContainsAny(errOut, "\x1b\x07") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	for _, l := range strings.Split(strings.TrimSpace(errOut), "\n") {
		if !strings.Contains(l, "[WARN]") && !strings.HasPrefix(l, "int8cal calibrate:") {
			t.Errorf("a line of plugin text on its own: %q", l)
		}
	}
}

// plugins --format json holds what the text lists, as fields.
func TestPluginsJSON(t *testing.T) {
	dir := t.TempDir()
	path := copyPlugin(t, dir, "int8cal-calibrator-minmax")
	copyPlugin(t, dir, "int8cal-batchstream-npy")
	code, out, errOut := run("plugins", "--plugin-dir", dir, "--log-level", "off", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var got pluginsJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Plugins) != 2 || got.Searched[0] != dir {
		t.Fatalf("%v:\n%s", err, out)
	}
	m := got.Plugins[0]
	if m.Kind != "calibrator" || m.Name != "minmax" || m.Path != path || m.Protocol == 0 || m.Version == "" || m.Algorithm == "" || m.Statistics == "" {
		t.Errorf("minmax: %+v", m)
	}
	if n := got.Plugins[1]; n.Kind != "batchstream" || n.Name != "npy" || len(n.Options) == 0 || n.Options[0].Description == "" {
		t.Errorf("npy: %+v", n)
	}
}
