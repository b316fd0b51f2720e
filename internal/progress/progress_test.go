package progress

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// Off a terminal, a pass of 20 units logs one plain line per tenth.
func TestPlainLinesEveryTenth(t *testing.T) {
	var out bytes.Buffer
	b := New("FP32 run", 20, hclog.New(&hclog.LoggerOptions{Output: &out}))
	b.terminal = false
	for i := 0; i < 20; i++ {
		b.Add(1)
	}
	b.Finish()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 10 || !strings.Contains(lines[0], "FP32 run: done=2 of=20") || !strings.Contains(lines[9], "done=20 of=20") {
		t.Errorf("%d lines:\n%s", len(lines), out.String())
	}
}

// On a terminal the bar is redrawn in place and cleared at the end.
func TestBarRedrawnInPlace(t *testing.T) {
	var out bytes.Buffer
	b := New("INT8 run", 4, nil)
	b.terminal, b.out = true, &out
	b.Add(2)
	if s := out.String(); !strings.HasPrefix(s, "\rINT8 run [===============               ] 2/4") {
		t.Errorf("bar %q", s)
	}
	b.Finish()
	if !strings.HasSuffix(out.String(), "\r") {
		t.Errorf("the bar is not cleared: %q", out.String())
	}
}
