package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"

	"github.com/int8cal/int8cal/internal/filehash"
)

// drainGrace is how long the host keeps reading a plugin's stdout and
// stderr once the plugin process has ended and its process group has been
// killed. Whatever still holds the pipes open then (a process that left
// the group) no longer keeps the host waiting: go-plugin reads stdout to
// its end before it notices that the plugin is gone.
const drainGrace = 200 * time.Millisecond

// exitWait is how long an error about a broken connection waits for the
// plugin process to be reaped, to give its exit status.
const exitWait = 500 * time.Millisecond

// stderrTail bounds what the host keeps of a plugin's stderr to explain
// an early death, and stderrShown what such an error shows of it.
const (
	stderrTail  = 16 << 10
	stderrShown = 1024
)

// process is one run of a plugin program, the runner.Runner go-plugin
// drives (through ClientConfig.RunnerFunc) instead of its own: the
// program runs in a process group of its own, with pipes this package
// owns. When the program ends, for whatever reason, its whole group is
// killed and the pipes are read only a moment longer, so neither a child
// it left behind nor one holding stdout open outlives it or keeps the host
// waiting. It also checks the program's SHA-256 right before starting it
// (go-plugin's SecureConfig) and keeps the tail of its stderr and its exit
// status to explain a failed start.
type process struct {
	path    string
	prepare func(*exec.Cmd) // adds files and environment (shared memory)
	secure  *plugin.SecureConfig
	pinned  string // the SHA-256 secure checks, hex, for messages
	pinFrom string // where the pin comes from (the lock file)

	cmd            *exec.Cmd
	stdout, stderr *os.File // the host's ends
	tail           tailBuffer
	proc           atomic.Pointer[os.Process] // once started
	pid            int                        // once started, read by go-plugin's goroutines only
	done           chan struct{}              // closed once reaped
	waitErr        error
	killed         atomic.Bool // the host killed it (else it ended by itself)
	closeOnce      sync.Once
}

var _ runner.Runner = (*process)(nil)

// testHookStarted, when set, learns the process ID of each plugin started.
var testHookStarted func(pid int)

func newProcess(f Found, prepare func(*exec.Cmd)) (*process, error) {
	if !filepath.IsAbs(f.Path) {
		// exec would search $PATH for a bare name.
		return nil, fmt.Errorf("plugin path %q is not absolute", f.Path)
	}
	p := &process{path: f.Path, prepare: prepare, done: make(chan struct{})}
	if f.SHA256 != "" {
		sum, err := hex.DecodeString(f.SHA256)
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("pinned SHA-256 %q is not 64 hex digits", f.SHA256)
		}
		p.secure = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
		p.pinned, p.pinFrom = strings.ToLower(f.SHA256), f.LockFile
	}
	return p, nil
}

// runnerFunc builds the command go-plugin describes in spec (its
// environment: handshake cookie, protocol versions, the socket directory,
// the client certificate) for this program, and returns p as its runner.
func (p *process) runnerFunc(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
	// Not exec.Command: it would search $PATH for a bare name.
	cmd := &exec.Cmd{Path: p.path, Args: []string{p.path}, Env: spec.Env}
	detach(cmd)
	if p.prepare != nil {
		p.prepare(cmd)
	}
	p.cmd = cmd
	return p, nil
}

// ChecksumError is returned when a pinned plugin's program is not the one
// the lock file records.
type ChecksumError struct {
	Path, Want, Got, LockFile string
}

func (e *ChecksumError) Error() string {
	from := "the lock file"
	if e.LockFile != "" {
		from = e.LockFile
	}
	return fmt.Sprintf("%s has SHA-256 %s, but %s pins %s; refusing to run it (if the change is intended, record it again with `int8cal plugins --lock`)", e.Path, e.Got, from, e.Want)
}

func (p *process) Start(context.Context) error {
	if p.secure != nil {
		ok, err := p.secure.Check(p.path)
		if err != nil {
			return fmt.Errorf("checking the SHA-256 of %s: %w", p.path, err)
		}
		if !ok {
			got, _ := filehash.SHA256(p.path)
			return &ChecksumError{Path: p.path, Want: p.pinned, Got: got, LockFile: p.pinFrom}
		}
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return err
	}
	p.cmd.Stdout, p.cmd.Stderr = outW, errW
	err = p.cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return err
	}
	p.stdout, p.stderr, p.pid = outR, errR, p.cmd.Process.Pid
	p.proc.Store(p.cmd.Process)
	if testHookStarted != nil {
		testHookStarted(p.pid)
	}
	go func() {
		p.waitErr = reap(p.cmd)
		// Data already in the pipes is read at once; past the deadline a
		// read that would block ends the stream instead.
		deadline := time.Now().Add(drainGrace)
		p.stdout.SetReadDeadline(deadline)
		p.stderr.SetReadDeadline(deadline)
		close(p.done)
	}()
	return nil
}

// Wait returns once the plugin has ended; go-plugin calls it after reading
// stdout and stderr to their end.
func (p *process) Wait(context.Context) error {
	<-p.done
	p.closeOnce.Do(func() {
		p.stdout.Close()
		p.stderr.Close()
	})
	return p.waitErr
}

// Kill kills the plugin's process group; reaping and the rest of the
// cleanup follow in Start's goroutine.
func (p *process) Kill(context.Context) error {
	p.kill()
	return nil
}

func (p *process) kill() {
	proc := p.proc.Load()
	if proc == nil {
		return
	}
	select {
	case <-p.done:
		return // reaped, and its group killed then
	default:
	}
	p.killed.Store(true)
	killGroup(proc.Pid)
	proc.Kill()
}

func (p *process) Stdout() io.ReadCloser { return pipeReader{f: p.stdout} }
func (p *process) Stderr() io.ReadCloser {
	return &logLines{src: pipeReader{f: p.stderr, tee: &p.tail}}
}
func (p *process) Name() string { return p.path }

func (p *process) ID() string {
	if p.pid == 0 {
		return ""
	}
	return strconv.Itoa(p.pid)
}

// Diagnose adds nothing to go-plugin's message: startError explains a
// failed start with the plugin's stderr and exit status instead.
func (p *process) Diagnose(context.Context) string { return "" }

func (p *process) PluginToHost(network, address string) (string, string, error) {
	return network, address, nil
}

func (p *process) HostToPlugin(network, address string) (string, string, error) {
	return network, address, nil
}

// exitedByItself returns the plugin's exit status ("exit status 3",
// "signal: segmentation fault") when it has ended other than by the
// host's kill.
func (p *process) exitedByItself() (string, bool) {
	if p.proc.Load() == nil {
		return "", false
	}
	select {
	case <-p.done:
	default:
		return "", false
	}
	st := p.cmd.ProcessState
	if st == nil {
		return "", false
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL && p.killed.Load() {
		return "", false
	}
	return st.String(), true
}

// exitNote says how the plugin ended, for an error about a call it did
// not answer: its exit status and the end of its stderr, once it has been
// reaped (waiting up to wait for that), or "" while it runs or when the
// host killed it.
func (p *process) exitNote(wait time.Duration) string {
	select {
	case <-p.done:
	case <-time.After(wait):
	}
	status, ok := p.exitedByItself()
	if !ok {
		return ""
	}
	note := "; it ended with " + status
	if tail := p.tail.String(); tail != "" {
		note += "; its stderr ended with: " + tail
	}
	return note
}

// pipeReader reads one of the plugin's pipes, turning the end of the
// drain period into the end of the stream, and keeps a copy of what it
// read when tee is set.
type pipeReader struct {
	f   *os.File
	tee *tailBuffer
}

func (r pipeReader) Read(b []byte) (int, error) {
	n, err := r.f.Read(b)
	if r.tee != nil && n > 0 {
		r.tee.Write(b[:n])
	}
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, os.ErrClosed) {
		err = io.EOF
	}
	return n, err
}

func (r pipeReader) Close() error { return nil } // Wait closes the pipes

// tailBuffer keeps the last stderrTail bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(b) >= stderrTail {
		t.buf = append(t.buf[:0], b[len(b)-stderrTail:]...)
		return len(b), nil
	}
	if over := len(t.buf) + len(b) - stderrTail; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, b...)
	return len(b), nil
}

// String returns the last lines held, cleaned and bounded: a JSON log line
// (the SDK's logger) is shown as its level and message.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	text := string(t.buf)
	t.mu.Unlock()
	lines := strings.Split(strings.TrimRight(text, "\r\n"), "\n")
	var kept []string
	size := 0
	for i := len(lines) - 1; i >= 0 && size < stderrShown; i-- {
		l := strings.TrimSpace(logLine(lines[i]))
		if l == "" {
			continue
		}
		kept = append(kept, l)
		size += len(l) + 3
	}
	for i, j := 0, len(kept)-1; i < j; i, j = i+1, j-1 {
		kept[i], kept[j] = kept[j], kept[i]
	}
	s := Clean(strings.Join(kept, "\n"), 4*stderrShown)
	if len(s) > stderrShown {
		cut := len(s) - stderrShown
		for cut < len(s) && !utf8.RuneStart(s[cut]) {
			cut++
		}
		s = "…" + s[cut:]
	}
	return s
}

// startError explains why a plugin did not start: go-plugin's reason
// (its first line: the rest is a checklist that rarely applies), and,
// when the plugin ended by itself, its exit status and the tail of its
// stderr. Call it after client.Kill, when both are complete.
func (p *process) startError(err error) string {
	var ce *ChecksumError
	if errors.As(err, &ce) {
		return ce.Error()
	}
	msg := err.Error()
	const unrecognized = "Unrecognized remote plugin message: "
	var reason string
	switch {
	case strings.HasPrefix(msg, unrecognized):
		line, _, _ := strings.Cut(strings.TrimPrefix(msg, unrecognized), "\n")
		if strings.TrimSpace(line) != "" {
			reason = "its stdout began with " + strconv.Quote(Clean(line, 200)) + ", not an int8cal plugin handshake"
		}
	case msg == "plugin exited before we could connect":
	default:
		reason = Clean(msg, MaxErrorText)
	}
	var parts []string
	status, exited := p.exitedByItself()
	if exited {
		parts = append(parts, fmt.Sprintf("the plugin exited (%s) before its handshake", status))
	}
	if reason != "" {
		parts = append(parts, reason)
	}
	if len(parts) == 0 {
		parts = append(parts, "the plugin printed no handshake line on stdout")
	}
	if tail := p.tail.String(); tail != "" {
		parts = append(parts, "its stderr ended with: "+tail)
	} else if exited {
		parts = append(parts, "it wrote nothing to stderr")
	}
	return strings.Join(parts, "; ")
}

// logLine renders a JSON log line of the plugin SDKs' logger as its level
// and message (and error, if any); other lines are returned as they are.
func logLine(line string) string {
	if !strings.HasPrefix(strings.TrimSpace(line), "{") {
		return line
	}
	var entry map[string]any
	if json.Unmarshal([]byte(line), &entry) != nil {
		return line
	}
	msg, ok := entry["@message"].(string)
	if !ok {
		return line
	}
	if level, ok := entry["@level"].(string); ok {
		msg = level + ": " + msg
	}
	if e, ok := entry["error"]; ok {
		msg += fmt.Sprintf(" (error: %v)", e)
	}
	return msg
}
