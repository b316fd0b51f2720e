package plugintest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/core/pluginhost"
	"github.com/int8cal/int8cal/datasets/dataset"
)

// closeLimit is how long closing a plugin may take: a Python plugin must
// exit on the host's Shutdown, not wait for go-plugin's 2 s kill.
const closeLimit = time.Second

// repoRoot is the repository, from this package's directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// python returns a Python with grpcio, protobuf and numpy: the
// repository's virtual environment (.venv, `make pydeps`), else one made
// once per test binary in a temporary directory with `python3 -m pip`. It
// skips t, saying why, only where pip cannot install them (no python3, no
// network). It points the plugins started after at that Python and at this
// working tree's SDK, their bytecode caches kept out of the tree.
func python(t testing.TB) string {
	t.Helper()
	root := repoRoot(t)
	tmp := scratchDir(t)
	py := filepath.Join(root, ".venv", "bin", "python")
	if err := hasDeps(py); err != nil {
		fallback.once.Do(func() { fallback.py, fallback.err = makeVenv(root, filepath.Join(tmp, "venv")) })
		if fallback.err != nil {
			t.Skipf("no Python with grpcio, protobuf and numpy: %s has none (%v; `make pydeps` makes it), and python3 -m pip could not install them: %v", py, err, fallback.err)
		}
		py = fallback.py
	}
	t.Setenv("INT8CAL_PYTHON", py)
	t.Setenv("PYTHONPATH", filepath.Join(root, "python"))
	t.Setenv("PYTHONPYCACHEPREFIX", filepath.Join(tmp, "pycache"))
	return py
}

func hasDeps(py string) error {
	if _, err := os.Stat(py); err != nil {
		return err
	}
	if out, err := exec.Command(py, "-c", "import grpc, google.protobuf, numpy").CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, lastLine(out))
	}
	return nil
}

// scratch is a temporary directory shared by the tests of this binary
// (Python's bytecode caches, the fallback virtual environment); TestMain
// removes it.
var scratch struct {
	once sync.Once
	dir  string
	err  error
}

func scratchDir(t testing.TB) string {
	t.Helper()
	scratch.once.Do(func() { scratch.dir, scratch.err = os.MkdirTemp("", "int8cal-pysdk") })
	if scratch.err != nil {
		t.Fatal(scratch.err)
	}
	return scratch.dir
}

// fallback is the virtual environment made when the repository has none.
var fallback struct {
	once sync.Once
	py   string
	err  error
}

// makeVenv makes a virtual environment in dir with the SDK's dependencies,
// installing a copy of python/ (pip builds in the source folder).
func makeVenv(root, dir string) (string, error) {
	src := filepath.Join(dir, "src")
	if err := os.CopyFS(src, os.DirFS(filepath.Join(root, "python"))); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, args := range [][]string{
		{"python3", "-m", "venv", dir},
		{filepath.Join(dir, "bin", "python"), "-m", "pip", "install", "--quiet", "--retries", "1", "--timeout", "20", src},
	} {
		if out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, lastLine(out))
		}
	}
	py := filepath.Join(dir, "bin", "python")
	return py, hasDeps(py)
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// example returns the launcher of an example plugin.
func example(t *testing.T, kind pluginhost.Kind, name string) pluginhost.Found {
	t.Helper()
	path := filepath.Join(repoRoot(t), "python", "examples", "int8cal-"+string(kind)+"-"+name)
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return pluginhost.Found{Kind: kind, Name: name, Path: path}
}

// hostLog is the host's log, kept to check that it holds no warnings.
type hostLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *hostLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *hostLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newHostLog() (*hostLog, hclog.Logger) {
	l := &hostLog{}
	return l, hclog.New(&hclog.LoggerOptions{Name: "int8cal", Level: hclog.Debug, Output: l})
}

// checkQuiet fails t when the host logged a warning or an error, or had
// to kill a plugin that did not exit when asked.
func checkQuiet(t *testing.T, l *hostLog) {
	t.Helper()
	for _, line := range strings.Split(l.String(), "\n") {
		// go-plugin's notice of a plugin it had to kill arrives demoted
		// to DEBUG (core/pluginhost/logger.go): looked for by its text.
		if strings.Contains(line, "[WARN]") || strings.Contains(line, "[ERROR]") || strings.Contains(line, "failed to exit gracefully") {
			t.Errorf("host log: %s", line)
		}
	}
	if t.Failed() {
		t.Logf("the whole host log:\n%s", l.String())
	}
}

// timeClose runs close and fails t when it took closeLimit or more.
func timeClose(t *testing.T, what string, close func()) {
	t.Helper()
	start := time.Now()
	close()
	if d := time.Since(start); d >= closeLimit {
		t.Errorf("closing %s took %v; want under %v", what, d, closeLimit)
	}
}

// calibrator is a running calibrator plugin as a calib.Calibrator, for
// calibratortest.Run: every call goes through the host to the plugin.
type calibrator struct{ c *pluginhost.Calibrator }

func (a calibrator) Info() calib.Info                          { return a.c.Info }
func (a calibrator) Configure(options map[string]string) error { return a.c.Configure(options) }
func (a calibrator) Calibrate(_ context.Context, stats []calib.TensorStats) ([]calib.Range, error) {
	return a.c.Calibrate(stats)
}

// batchStream is a data set plugin as a dataset.TensorStream, for
// batchstreamtest.RunTensors: every call goes through the host to the
// plugin, whose batches travel as transport says. Close closes the plugin
// (its Close call, then the process, timed); the next Open starts it again.
type batchStream struct {
	t         *testing.T
	found     pluginhost.Found
	log       hclog.Logger
	transport pluginhost.Transport
	b         *pluginhost.BatchStream
	info      dataset.Info
}

func startBatchStream(t *testing.T, f pluginhost.Found, log hclog.Logger, transport pluginhost.Transport) *batchStream {
	t.Helper()
	d := &batchStream{t: t, found: f, log: log, transport: transport}
	if err := d.start(); err != nil {
		t.Fatal(err)
	}
	d.info = d.b.Info
	t.Cleanup(func() {
		if d.b != nil {
			d.b.Close()
		}
	})
	return d
}

func (d *batchStream) start() error {
	b, err := pluginhost.StartBatchStream(d.found, d.log)
	if err != nil {
		return err
	}
	if b.Protocol != 2 {
		b.Close()
		return fmt.Errorf("negotiated protocol %d, want 2 (int8cal.batchstream.v2)", b.Protocol)
	}
	b.Transport = d.transport
	d.b = b
	return nil
}

func (d *batchStream) Info() dataset.Info { return d.info }

func (d *batchStream) Open(options map[string]string) (dataset.Meta, error) {
	if d.b == nil {
		if err := d.start(); err != nil {
			return dataset.Meta{}, err
		}
	}
	m, err := d.b.Open(options)
	if err == nil && d.transport == pluginhost.TransportShared && !d.b.Shared {
		return m, fmt.Errorf("batches do not come through shared memory")
	}
	return m, err
}

func (d *batchStream) ReadTensors(first, n int, inputs []dataset.Tensor, labels []int32) error {
	if d.b == nil {
		return fmt.Errorf("the data set plugin was closed")
	}
	lbl := make([]int, max(n, 0))
	if err := d.b.ReadTensors(first, n, inputs, lbl); err != nil {
		return err
	}
	for i := range labels {
		labels[i] = int32(lbl[i])
	}
	return nil
}

func (d *batchStream) Close() error {
	if d.b != nil {
		timeClose(d.t, "the data set plugin", d.b.Close)
		d.b = nil
	}
	return nil
}

// writeNpy writes a NumPy .npy file (format 1.0) of little-endian values.
func writeNpy(t *testing.T, path, descr string, shape []int, data []byte) {
	t.Helper()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	// The magic, version and length take 10 bytes; the header ends with
	// a newline, padded so that the data starts at a multiple of 64.
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	b.WriteString(header)
	b.Write(data)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
