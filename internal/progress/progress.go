// Package progress reports the advance of long passes: a bar redrawn in
// place when stderr is a terminal, a plain log line every tenth of the way
// otherwise (so that logs of scripted runs stay readable).
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/term"
)

// Bar tracks one pass of total units.
type Bar struct {
	mu       sync.Mutex
	label    string
	total    int
	done     int
	started  time.Time
	terminal bool
	out      io.Writer
	log      hclog.Logger
	nextLog  int
}

// New starts a bar. log receives the plain lines when stderr is not a
// terminal; it may be nil to stay silent then.
func New(label string, total int, log hclog.Logger) *Bar {
	return &Bar{
		label: label, total: total, started: time.Now(),
		terminal: term.IsTerminal(int(os.Stderr.Fd())),
		out:      os.Stderr, log: log, nextLog: 1,
	}
}

// Add records n more units done.
func (b *Bar) Add(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if b.terminal {
		b.draw()
		return
	}
	if b.log != nil && b.total > 0 && b.done*10 >= b.nextLog*b.total {
		for b.done*10 >= b.nextLog*b.total {
			b.nextLog++
		}
		b.log.Info(b.label, "done", b.done, "of", b.total, "elapsed", time.Since(b.started).Round(time.Millisecond))
	}
}

func (b *Bar) draw() {
	const width = 30
	frac := 0.0
	if b.total > 0 {
		frac = float64(b.done) / float64(b.total)
	}
	filled := int(frac * width)
	fmt.Fprintf(b.out, "\r%s [%s%s] %d/%d %s", b.label, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), b.done, b.total, time.Since(b.started).Round(100*time.Millisecond))
}

// Finish clears the terminal line.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.terminal {
		fmt.Fprintf(b.out, "\r%s\r", strings.Repeat(" ", 80))
	}
}
