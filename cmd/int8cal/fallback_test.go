package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// LeNet's table with pool1's scale 1e-4 (nearly all of conv2's input
// clips): conv2 must stay FP32. With relu1's too, ip2 must as well.
func spoiledTable(t *testing.T, dir string, bad ...string) string {
	t.Helper()
	cache, before := calibratedCache(t, dir)
	for _, name := range bad {
		before = withLine(t, before, name, name+": 38d1b717")
	}
	path := cache + ".spoiled"
	if err := os.WriteFile(path, before, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fallback finds conv2, writes it for --exclude-file, and run, eval and
// export read it back; JSON parses; an unreachable target is an error that
// writes nothing.
func TestFallbackLeNet(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	table := spoiledTable(t, dir, "pool1")
	mixed := filepath.Join(dir, "mixed.txt")
	code, out, errOut := run("fallback", "--datadir", dataDir, "--table", table, "--max-drop", "0.5%", "score=10", "--out", mixed, "--format", "json", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Metadata  *metadata
		Met       bool
		Out       string
		Drop      float64
		INT8Share float64 `json:"int8_share"`
		Chosen    []struct{ Node, Op string }
		Ranked    []struct{ Node string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if !r.Met || r.Out != mixed || len(r.Chosen) == 0 || r.Chosen[0].Node != "conv2" || r.Chosen[0].Op != "Conv" || r.Drop > 0.005 || len(r.Ranked) != 4 || r.INT8Share <= 0 || r.INT8Share >= 1 {
		t.Errorf("want conv2 chosen, the target met and the file written:\n%s", out)
	}
	checkMetadata(t, r.Metadata, table)
	noFloatNoise(t, out)
	file, err := os.ReadFile(mixed)
	if err != nil || !strings.Contains(string(file), "\nconv2\n") {
		t.Fatalf("%s: %v\n%s", mixed, err, file)
	}

	lenet := filepath.Join(dataDir, "lenet.onnx")
	code, out, errOut = run("run", "--datadir", dataDir, "--precision", "fp32,int8", "score=5", "--table", table, "--exclude-file", mixed)
	if want := `fp32_excluded="conv2 (Conv, by name \"conv2\")"`; !strings.Contains(out+errOut, want) {
		t.Errorf("run --exclude-file: exit %d, output lacks %s:\n%s%s", code, want, out, errOut)
	}
	code, out, errOut = run("eval", "--datadir", dataDir, "--precision", "int8", "--table", table, "--exclude-file", mixed, "score=5")
	if want := `fp32_excluded="conv2 (Conv, by name \"conv2\")"`; code != 0 || !strings.Contains(out+errOut, want) {
		t.Errorf("eval --exclude-file: exit %d, output lacks %s:\n%s%s", code, want, out, errOut)
	}
	code, out, errOut = run("export", "--model", lenet, "--cache", table, "--out", filepath.Join(dir, "q.onnx"), "--exclude-file", mixed)
	if want := `node "conv2" (Conv) kept in FP32: excluded by name "conv2"`; code != 0 || !strings.Contains(out, want) {
		t.Errorf("export --exclude-file: exit %d, output lacks %s:\n%s%s", code, want, out, errOut)
	}

	// Two layers spoiled, one allowed: not met, said so, nothing written.
	table2 := spoiledTable(t, t.TempDir(), "pool1", "relu1")
	none := filepath.Join(dir, "none.txt")
	code, out, errOut = run("fallback", "--datadir", dataDir, "--table", table2, "--max-drop", "0.005", "--max-layers", "1", "score=10", "--out", none, "--log-level", "warn")
	if code == 0 || !strings.Contains(out, "NOT met (best tried)") || !strings.Contains(errOut, "cannot meet --max-drop 0.50% with at most 1 layer(s) in FP32") {
		t.Errorf("unreachable target: exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if _, err := os.Stat(none); err == nil {
		t.Errorf("%s written for a target not met", none)
	}
}

func TestFallbackErrors(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	cache, _ := calibratedCache(t, dir)
	badFile := filepath.Join(dir, "bad.txt")
	os.WriteFile(badFile, []byte("conv1\nconv[2\n"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--max-drop", "1%"}, "--table is required"},
		{[]string{"--table", cache}, "--max-drop is required"},
		{[]string{"--table", cache, "--max-drop", "-1%"}, `--max-drop "-1%"`},
		{[]string{"--table", cache, "--max-drop", "2"}, `--max-drop "2"`},
		{[]string{"--table", cache, "--max-drop", "x%"}, `--max-drop "x%"`},
		{[]string{"--table", cache, "--max-drop", "1%", "--format", "xml"}, `--format "xml" unknown`},
		{[]string{"--table", cache, "--max-drop", "1%", "--max-layers", "-1"}, "--max-layers -1"},
		{[]string{"--table", cache, "--max-drop", "1%", "--sensitivity-batches", "0"}, "--sensitivity-batches 0"},
		{[]string{"--table", cache, "--max-drop", "1%", "--out", cache}, "--out"},
		{[]string{"--table", cache, "--max-drop", "1%", "--exclude-file", badFile}, badFile + `:2: "conv[2" is not a valid node pattern`},
		{[]string{"--table", cache, "--max-drop", "1%", "--exclude-file", filepath.Join(dir, "nothing")}, "exclusions file"},
	}
	for _, tt := range tests {
		code, _, errOut := run(append([]string{"fallback", "--datadir", dataDir, "--log-level", "warn"}, tt.args...)...)
		if code == 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("fallback %v: exit %d, stderr %q; want an error with %q", tt.args, code, errOut, tt.want)
		}
	}
}

func TestParseDrop(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want float64
	}{{"0.3%", 0.003}, {"0.003", 0.003}, {" 1 % ", 0.01}, {"0", 0}} {
		if got, err := parseDrop(tt.in); err != nil || got != tt.want {
			t.Errorf("parseDrop(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
