package pluginhost

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/hashicorp/go-hclog"
)

// panicsGoPlugin says whether go-plugin v1.8.0's log parser (log_entry.go
// parseJSON) would panic on line: a JSON object whose @message, @level or
// @timestamp is not a string.
func panicsGoPlugin(line []byte) bool {
	var entry map[string]any
	if json.Unmarshal(line, &entry) != nil {
		return false
	}
	for _, k := range logFields {
		if v, ok := entry[k]; ok {
			if _, isString := v.(string); !isString {
				return true
			}
		}
	}
	return false
}

func filterLog(t testing.TB, in string, chunk int) string {
	t.Helper()
	var src io.Reader = strings.NewReader(in)
	if chunk > 0 {
		src = iotest.HalfReader(iotest.OneByteReader(src))
	}
	out, err := io.ReadAll(&logLines{src: io.NopCloser(src)})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestLogLines(t *testing.T) {
	long := `{"@message":` + strings.Repeat(" ", maxParsedLogLine) + `1}`
	for _, tc := range []struct{ name, in, want string }{
		{"text", "hello\nworld\n", "hello\nworld\n"},
		{"good json", `{"@message":"hi","@level":"info","n":1}` + "\n", `{"@message":"hi","@level":"info","n":1}` + "\n"},
		{"number message", `{"@message":1}` + "\n", `malformed log line: {"@message":1}` + "\n"},
		{"array level", ` {"@level":["x"]}` + "\r\n", `malformed log line:  {"@level":["x"]}` + "\r\n"},
		{"object timestamp", `{"@timestamp":{}}`, `malformed log line: {"@timestamp":{}}`},
		{"escaped key", `{"\u0040message":null}` + "\n", `malformed log line: {"\u0040message":null}` + "\n"},
		{"not an object", "[1,2]\n1\n\"@message\"\n", "[1,2]\n1\n\"@message\"\n"},
		{"no final newline", "a\nb", "a\nb"},
		{"empty lines", "\n\n", "\n\n"},
		{"too long to be parsed", long + "\nok\n", long + "\nok\n"},
	} {
		for _, chunk := range []int{0, 1} {
			if got := filterLog(t, tc.in, chunk); got != tc.want {
				t.Errorf("%s (chunked %d): got %.80q, want %.80q", tc.name, chunk, got, tc.want)
			}
		}
	}
}

// The filter changes nothing but prefixes, and leaves no line go-plugin
// would parse and panic on, however the bytes arrive.
func FuzzLogLines(f *testing.F) {
	for _, s := range []string{"", "a\n", `{"@message":1}` + "\n", `{"@level":"x"}`, "{\"@timestamp\":[]}\r\nx"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, in string, chunked bool) {
		chunk := 0
		if chunked {
			chunk = 1
		}
		out := filterLog(t, in, chunk)
		inLines, outLines := strings.Split(in, "\n"), strings.Split(out, "\n")
		if len(inLines) != len(outLines) {
			t.Fatalf("%d lines in, %d out", len(inLines), len(outLines))
		}
		for i, l := range outLines {
			if l != inLines[i] && l != "malformed log line: "+inLines[i] {
				t.Fatalf("line %d: %q became %q", i, inLines[i], l)
			}
			if len(l) < maxParsedLogLine && panicsGoPlugin(bytes.TrimSuffix([]byte(l), []byte("\r"))) {
				t.Fatalf("line %d %q would panic go-plugin", i, l)
			}
		}
	})
}

// A plugin's JSON log lines with non-string hclog fields reach the host's
// log as text; before the filter, the first one panicked the host.
func TestMalformedPluginLogLines(t *testing.T) {
	needLinux(t)
	dir := linkTestPlugin(t, "badlog")
	var logs syncBuffer
	c, err := start(t, dir, "badlog", hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Configure(nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(logs.String(), "malformed log line") < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(logs.String(), "malformed log line"); n != 4 {
		t.Errorf("host log shows %d of the 4 malformed lines:\n%s", n, logs.String())
	}
}
