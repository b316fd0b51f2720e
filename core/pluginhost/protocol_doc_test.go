package pluginhost

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/internal/batchstreamrpc"
	"github.com/int8cal/int8cal/internal/calibratorrpc"
)

// protocolDoc is the protocol document, whose numbers these tests hold to
// the code: a plugin written from it in another language must get them
// right, and nothing else would notice them drift.
const protocolDoc = "../../docs/protocol.md"

func readProtocolDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(protocolDoc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docDuration writes a deadline as the document does: 10 s, 5 min, 200 ms.
func docDuration(d time.Duration) string {
	switch {
	case d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return fmt.Sprintf("%d ms", d/time.Millisecond)
}

func code(s string) string { return "`" + s + "`" }

// goPluginSource returns a file of the go-plugin module the host is built
// with, for the values it keeps in unexported code.
func goPluginSource(t *testing.T, file string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/hashicorp/go-plugin").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/hashicorp/go-plugin: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestProtocolDocNumbers checks the document's Numbers table row by row:
// every row names a value the code defines, with the code's value, and
// every value listed here has its row.
func TestProtocolDocNumbers(t *testing.T) {
	n := func(v int) string { return strconv.Itoa(v) }
	want := map[string]string{
		"calibratorrpc.ProtocolVersion":             n(calibratorrpc.ProtocolVersion),
		"batchstreamrpc.ProtocolVersion":            n(batchstreamrpc.ProtocolVersion),
		"batchstreamrpc.TensorsProtocolVersion":     n(batchstreamrpc.TensorsProtocolVersion),
		"calibratorrpc.Handshake.MagicCookieKey":    code(calibratorrpc.Handshake.MagicCookieKey),
		"calibratorrpc.Handshake.MagicCookieValue":  code(calibratorrpc.Handshake.MagicCookieValue),
		"batchstreamrpc.Handshake.MagicCookieKey":   code(batchstreamrpc.Handshake.MagicCookieKey),
		"batchstreamrpc.Handshake.MagicCookieValue": code(batchstreamrpc.Handshake.MagicCookieValue),
		"batchstreamrpc.ShmFDEnv":                   code(batchstreamrpc.ShmFDEnv),
		"pluginhost.StartTimeout":                   docDuration(StartTimeout),
		"pluginhost.CallTimeout":                    docDuration(CallTimeout),
		"pluginhost.CalibrateTimeout":               docDuration(CalibrateTimeout),
		"pluginhost.OpenTimeout":                    docDuration(OpenTimeout),
		"pluginhost.BatchTimeout":                   docDuration(BatchTimeout),
		"pluginhost.closeGrace":                     docDuration(closeGrace),
		"calibratorrpc.MaxMessageSize":              n(calibratorrpc.MaxMessageSize),
		"calibratorrpc.ChunkValues":                 n(calibratorrpc.ChunkValues),
		"calibratorrpc.MaxNameBytes":                n(calibratorrpc.MaxNameBytes),
		"calibratorrpc.MaxTextBytes":                n(calibratorrpc.MaxTextBytes),
		"calibratorrpc.MaxOptions":                  n(calibratorrpc.MaxOptions),
		"calibratorrpc.MaxBins":                     n(calibratorrpc.MaxBins),
		"calibratorrpc.MaxCurve":                    n(calibratorrpc.MaxCurve),
		"batchstreamrpc.MaxMessageSize":             n(batchstreamrpc.MaxMessageSize),
		"batchstreamrpc.ChunkBytes":                 n(batchstreamrpc.ChunkBytes),
		"batchstreamrpc.ChunkValues":                n(batchstreamrpc.ChunkValues),
		"batchstreamrpc.MaxBatch":                   n(batchstreamrpc.MaxBatch),
		"batchstreamrpc.MaxBatchBytes":              n(batchstreamrpc.MaxBatchBytes),
		"batchstreamrpc.MaxSlots":                   n(batchstreamrpc.MaxSlots),
		"batchstreamrpc.DefaultSlots":               n(batchstreamrpc.DefaultSlots),
		"batchstreamrpc.MaxNameBytes":               n(batchstreamrpc.MaxNameBytes),
		"batchstreamrpc.MaxTextBytes":               n(batchstreamrpc.MaxTextBytes),
		"batchstreamrpc.MaxOptions":                 n(batchstreamrpc.MaxOptions),
		"dataset.MaxSampleElements":                 n(dataset.MaxSampleElements),
		"dataset.MaxInputs":                         n(dataset.MaxInputs),
		"pluginhost.MaxErrorText":                   n(MaxErrorText),
		"pluginhost.MaxLogText":                     n(MaxLogText),
		"stderrTail":                                n(stderrTail),
		"stderrShown":                               n(stderrShown),
		"socketDirPrefix":                           code(socketDirPrefix),
		// go-plugin keeps these in its code, not in constants; the test
		// below finds them there.
		"go-plugin's wait for exit after `Shutdown`": "2 s",
		"go-plugin's `PLUGIN_MIN_PORT` default":      "10000",
		"go-plugin's `PLUGIN_MAX_PORT` default":      "25000",
		"go-plugin's longest stderr line read whole": "65536",
	}
	doc := readProtocolDoc(t)
	_, table, ok := strings.Cut(doc, "\n## Numbers\n")
	if !ok {
		t.Fatalf("%s has no Numbers section", protocolDoc)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 5 || !strings.HasPrefix(line, "| ") {
			continue
		}
		name, value := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])
		if name == "name" || strings.HasPrefix(name, "---") {
			continue
		}
		if strings.Count(name, "`") == 2 && strings.HasPrefix(name, "`") && strings.HasSuffix(name, "`") {
			name = strings.Trim(name, "`")
		}
		w, known := want[name]
		switch {
		case !known:
			t.Errorf("%s lists %q, which this test does not check: add it to want", protocolDoc, name)
		case value != w && !strings.HasPrefix(value, w+" ("):
			t.Errorf("%s: %s is %s; the code has %s", protocolDoc, name, value, w)
		}
		seen[name] = true
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("%s's Numbers table lacks %s", protocolDoc, name)
		}
	}
}

// The values go-plugin keeps in its code are those the document states.
func TestProtocolDocGoPluginValues(t *testing.T) {
	client := goPluginSource(t, "client.go")
	for _, s := range []string{
		"case <-time.After(2 * time.Second):", // Kill: the wait for a graceful exit
		"config.MinPort = 10000",
		"config.MaxPort = 25000",
		"const defaultPluginLogBufferSize = 64 * 1024",
		`fmt.Sprintf("PLUGIN_PROTOCOL_VERSIONS=%s"`,
		`ServerName:   "localhost",`,
	} {
		if !strings.Contains(client, s) {
			t.Errorf("go-plugin's client.go no longer holds %q, which docs/protocol.md relies on", s)
		}
	}
	if !strings.Contains(goPluginSource(t, "server.go"), "base64.RawStdEncoding.EncodeToString(cert.Certificate[0])") {
		t.Error("go-plugin's server.go no longer sends the certificate as unpadded base64 DER, as docs/protocol.md says")
	}
}

// versions lists a plugin set's versions as the host offers them.
func versions(sets map[int]plugin.PluginSet) []int {
	var v []int
	for k := range sets {
		v = append(v, k)
	}
	slices.Sort(v)
	return v
}

// TestProtocolDocProse checks the numbers the document's prose repeats.
func TestProtocolDocProse(t *testing.T) {
	join := func(v []int, sep string) string {
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = strconv.Itoa(x)
		}
		return strings.Join(s, sep)
	}
	cal, ds := versions(calibratorrpc.Plugins(nil)), versions(batchstreamrpc.HostPlugins(nil))
	if len(ds) != 2 {
		t.Fatalf("the host offers data set versions %v; the document describes two", ds)
	}
	rev := slices.Clone(ds)
	slices.Reverse(rev)
	// Compared with every run of white space made one space, so that
	// rewrapping the prose changes nothing.
	flat := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	doc := flat(readProtocolDoc(t))
	for _, s := range []string{
		fmt.Sprintf("| `%s` | `%s` (calibrators), `%s` (data sets) |", calibratorrpc.Handshake.MagicCookieKey, calibratorrpc.Handshake.MagicCookieValue, batchstreamrpc.Handshake.MagicCookieValue),
		fmt.Sprintf("`%s` for calibrators, `%s` or `%s` for data sets", join(cal, ","), join(ds, ","), join(rev, ",")),
		fmt.Sprintf("| calibrator v1 | %d | `int8cal.calibrator.v1` | `%s` |", calibratorrpc.ProtocolVersion, join(cal, ",")),
		fmt.Sprintf("| data set v1: float32 samples | %d | `int8cal.batchstream.v1` | `%s` |", batchstreamrpc.ProtocolVersion, join(ds, ",")),
		fmt.Sprintf("| data set v2: named inputs of several types | %d | `int8cal.batchstream.v2` | `%s` |", batchstreamrpc.TensorsProtocolVersion, join(ds, ",")),
		fmt.Sprintf("go-plugin's core protocol version, always `%d`", plugin.CoreProtocolVersion),
		fmt.Sprintf("`%s=3`", batchstreamrpc.ShmFDEnv),
		// Deadlines
		fmt.Sprintf("Within the start deadline (%s)", docDuration(StartTimeout)),
		fmt.Sprintf("| start to handshake line | %s |", docDuration(StartTimeout)),
		fmt.Sprintf("| `Info`, `Configure`, `Close` | %s each |", docDuration(CallTimeout)),
		fmt.Sprintf("| `Calibrate` (the whole stream) | %s |", docDuration(CalibrateTimeout)),
		fmt.Sprintf("| `Open` | %s |", docDuration(OpenTimeout)),
		fmt.Sprintf("| each batch of `Batches`/`SharedBatches` | %s;", docDuration(BatchTimeout)),
		fmt.Sprintf("no answer within %v; the plugin is hung or too slow", CallTimeout),
		fmt.Sprintf("**`Info(InfoRequest) returns (InfoResponse)`**, right after the\nhandshake, under a %s deadline", docDuration(CallTimeout)),
		fmt.Sprintf("`Calibrate(stream CalibrateChunk) returns (CalibrateResponse)`**, %s", docDuration(CalibrateTimeout)),
		fmt.Sprintf("**`Open(OpenRequest) returns (OpenResponse)`**, %s", docDuration(OpenTimeout)),
		fmt.Sprintf("each within %s", docDuration(BatchTimeout)),
		// Limits
		fmt.Sprintf("longer than %d bytes; or", calibratorrpc.MaxNameBytes),
		fmt.Sprintf("`algorithm` (written in the calibration cache header,\n  `TRT-8601-<algorithm>`) is not 1 to 64 of"),
		fmt.Sprintf("more than %d `bins`", calibratorrpc.MaxBins),
		fmt.Sprintf("`description` is longer than %d bytes; there are more than %d\n  options", calibratorrpc.MaxTextBytes, calibratorrpc.MaxOptions),
		fmt.Sprintf("in `bins` chunks of at most %d\n   counts", calibratorrpc.ChunkValues),
		fmt.Sprintf("in `values` chunks of at most %d values", calibratorrpc.ChunkValues),
		fmt.Sprintf("a name of 1 to %d bytes", calibratorrpc.MaxTextBytes),
		fmt.Sprintf("a `curve` of at most %d\nvalues", calibratorrpc.MaxCurve),
		fmt.Sprintf("A batch size outside 1 to %d, or of more than\n%d bytes", batchstreamrpc.MaxBatch, int64(batchstreamrpc.MaxBatchBytes)),
		fmt.Sprintf("at most %d\nbytes of values and labels\n(v1: %d values and labels together)", batchstreamrpc.ChunkBytes, batchstreamrpc.ChunkValues),
		fmt.Sprintf("fits a gRPC message of %d MiB", batchstreamrpc.MaxMessageSize>>20),
		fmt.Sprintf("accepts replies up to %d MiB", calibratorrpc.MaxMessageSize>>20),
		fmt.Sprintf("a dimension\noutside [1, %d], or more than %d values per sample", dataset.MaxSampleElements, dataset.MaxSampleElements),
		fmt.Sprintf("no inputs or more than %d", dataset.MaxInputs),
		fmt.Sprintf("an input name longer than\n%d bytes", batchstreamrpc.MaxNameBytes),
		fmt.Sprintf("`slots`\n   (1 to %d; the host uses %d)", batchstreamrpc.MaxSlots, batchstreamrpc.DefaultSlots),
		fmt.Sprintf("at most %d bytes (`core/pluginhost/logger.go`", MaxLogText),
		fmt.Sprintf("The last %d KiB of stderr", stderrTail>>10),
		fmt.Sprintf("at most\n%d bytes, a JSON line", stderrShown),
		fmt.Sprintf("the last\n%d bytes of its stderr", stderrShown),
		fmt.Sprintf("errors and descriptions to %d bytes", MaxErrorText),
		fmt.Sprintf("`$TMPDIR/%s<host pid>-*`", socketDirPrefix),
	} {
		if s = flat(s); !strings.Contains(doc, s) {
			t.Errorf("%s does not say %q", protocolDoc, s)
		}
	}
}
