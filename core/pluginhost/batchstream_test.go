package pluginhost

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/datasets/mnist"
	"github.com/int8cal/int8cal/datasets/sdk"
	"github.com/int8cal/int8cal/internal/batchstreamrpc"
)

// A started data set reads like an in-process source.
var _ session.Source = (*BatchStream)(nil)

// testStreamPrefix names the data set plugins this test binary serves
// itself: started under a link named int8cal-batchstream-test-<mode>, it
// is a plugin instead of a test run (see TestMain).
const testStreamPrefix = "int8cal-batchstream-test-"

// testBinDir holds what the tests build once (the test plugin).
var testBinDir string

func TestMain(m *testing.M) {
	if mode, ok := strings.CutPrefix(filepath.Base(os.Args[0]), testStreamPrefix); ok {
		serveSynthetic(mode)
		return
	}
	if dir := os.Getenv(testHostEnv); dir != "" {
		serveTestHost(dir)
		return
	}
	// Everything the tests and their plugins create, the socket
	// directories included, goes into one directory removed at the end;
	// its short name keeps socket paths within the system's limit.
	tmp, err := os.MkdirTemp("", "ph")
	if err != nil {
		panic(err)
	}
	os.Setenv("TMPDIR", tmp)
	testBinDir = filepath.Join(tmp, "bin")
	os.Mkdir(testBinDir, 0o755)
	code := m.Run()
	// Every plugin the tests started, and whatever those started, has
	// TMPDIR=tmp in its environment: none may be left.
	if left := leftovers(tmp); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "processes left behind by the tests: %v\n", left)
		code = 1
	}
	Shutdown()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// synthetic is the test data set: sample i is a window into a fixed
// pattern starting at i mod 1024, labelled i mod 10. Its behaviour is
// fixed by the mode:
//
//	ok        serves, through shared memory when handed some
//	noshm     ignores the shared memory it is handed
//	crash     exits with status 3 when asked for sample 100 or later
//	hang      never answers for sample 100 or later
//	badlabel  labels every sample 10 of 10 classes
//	impostor  calls itself mnist
type synthetic struct {
	mode    string
	meta    dataset.Meta
	pattern []float32
}

func serveSynthetic(mode string) {
	if strings.HasPrefix(mode, "tensors") {
		sdk.ServeTensors(&syntheticTensors{mode: mode})
		return
	}
	if mode == "noshm" {
		os.Unsetenv(batchstreamrpc.ShmFDEnv)
	}
	sdk.Serve(&synthetic{mode: mode})
}

func (s *synthetic) Info() dataset.Info {
	name := "test-" + s.mode
	if s.mode == "impostor" {
		name = "mnist" // not its file's name
	}
	return dataset.Info{Name: name, Version: "0.0.1", Options: []dataset.Option{
		{Name: "samples", Default: "1000", Description: "number of samples"},
		{Name: "shape", Default: "1x28x28", Description: "sample shape, e.g. 3x32x32"},
	}}
}

func (s *synthetic) Open(options map[string]string) (dataset.Meta, error) {
	m := dataset.Meta{Labels: true, Classes: 10}
	err := dataset.ParseOptions(s.Info().Name, s.Info().Options, options, func(name, value string) error {
		switch name {
		case "samples":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				return errors.New("want a positive integer")
			}
			m.Samples = n
		case "shape":
			m.SampleShape = nil
			for _, f := range strings.Split(value, "x") {
				d, err := strconv.Atoi(f)
				if err != nil || d < 1 {
					return errors.New("want dimensions like 3x32x32")
				}
				m.SampleShape = append(m.SampleShape, d)
			}
		}
		return nil
	})
	if err != nil {
		return dataset.Meta{}, err
	}
	s.meta = m
	s.pattern = make([]float32, m.SampleElements()+1024)
	for i := range s.pattern {
		s.pattern[i] = float32(i%251) / 251
	}
	return m, nil
}

// syntheticSample returns the values of sample i.
func syntheticSample(pattern []float32, elems, i int) []float32 {
	return pattern[i%1024 : i%1024+elems]
}

func (s *synthetic) Read(first, n int, images []float32, labels []int32) error {
	if first < 0 || n < 0 || first > s.meta.Samples-n {
		return fmt.Errorf("samples [%d, %d) of %d", first, first+n, s.meta.Samples)
	}
	if first+n > 100 {
		switch s.mode {
		case "crash":
			os.Exit(3)
		case "hang":
			<-make(chan struct{})
		}
	}
	elems := s.meta.SampleElements()
	for i := range n {
		copy(images[i*elems:(i+1)*elems], syntheticSample(s.pattern, elems, first+i))
		labels[i] = int32((first + i) % 10)
		if s.mode == "badlabel" {
			labels[i] = 10
		}
	}
	return nil
}

func (s *synthetic) Close() error { return nil }

// linkTestStreams links this test binary into a temporary directory as
// int8cal-batchstream-test-<mode> for each mode.
func linkTestStreams(t testing.TB, modes ...string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, m := range modes {
		if err := os.Symlink(exe, filepath.Join(dir, testStreamPrefix+m)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func startStream(t testing.TB, dir, name string, log hclog.Logger) *BatchStream {
	t.Helper()
	f, err := Lookup(BatchStreamKind, name, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	b, err := StartBatchStream(f, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// checkSynthetic reads samples [first, first+n) from b and compares them
// with the synthetic data set's.
func checkSynthetic(t *testing.T, b *BatchStream, first, n int) {
	t.Helper()
	elems := b.Meta.SampleElements()
	pattern := (&synthetic{})
	if _, err := pattern.Open(map[string]string{"shape": shapeString(b.Meta.SampleShape)}); err != nil {
		t.Fatal(err)
	}
	images := make([]float32, n*elems)
	labels := make([]int, n)
	if err := b.Read(first, n, images, labels); err != nil {
		t.Fatalf("Read(%d, %d): %v", first, n, err)
	}
	for i := range n {
		want := syntheticSample(pattern.pattern, elems, first+i)
		for j, v := range images[i*elems : (i+1)*elems] {
			if v != want[j] {
				t.Fatalf("sample %d value %d: %v, want %v", first+i, j, v, want[j])
			}
		}
		if labels[i] != (first+i)%10 {
			t.Fatalf("sample %d: label %d, want %d", first+i, labels[i], (first+i)%10)
		}
	}
}

func shapeString(shape []int) string {
	s := make([]string, len(shape))
	for i, d := range shape {
		s[i] = strconv.Itoa(d)
	}
	return strings.Join(s, "x")
}

func TestBatchStreamPlugins(t *testing.T) {
	dir := linkTestStreams(t, "ok", "noshm", "crash", "hang", "badlabel")

	t.Run("discovery", func(t *testing.T) {
		found := Find(BatchStreamKind, []string{dir})
		if len(found) != 5 || found[0].Kind != BatchStreamKind || found[0].Name != "test-badlabel" {
			t.Fatalf("found %v", found)
		}
		if c := Find(CalibratorKind, []string{dir}); len(c) != 0 {
			t.Errorf("data set plugins listed as calibrators: %v", c)
		}
	})

	for _, tc := range []struct {
		mode      string
		transport Transport
		shared    bool
	}{
		{"ok", TransportAuto, runtime.GOOS == "linux"},
		{"ok", TransportStream, false},
		{"noshm", TransportAuto, false},
	} {
		t.Run(fmt.Sprintf("%s/%v", tc.mode, tc.transport), func(t *testing.T) {
			b := startStream(t, dir, "test-"+tc.mode, hclog.NewNullLogger())
			if b.Info.Name != "test-"+tc.mode || b.Protocol != 1 {
				t.Errorf("info %+v protocol %d", b.Info, b.Protocol)
			}
			if err := b.Read(0, 1, make([]float32, 784), make([]int, 1)); err == nil || !strings.Contains(err.Error(), "not open") {
				t.Errorf("Read before Open: %v", err)
			}
			b.Transport = tc.transport
			meta, err := b.Open(map[string]string{"samples": "700", "shape": "3x5x7"})
			if err != nil {
				t.Fatal(err)
			}
			if b.Shared != tc.shared || meta.Samples != 700 || b.Len() != 700 || shapeString(b.SampleShape()) != "3x5x7" {
				t.Fatalf("shared %v (want %v), meta %+v", b.Shared, tc.shared, meta)
			}
			// In order (one call), then jumping around (a call each).
			for first := 0; first < 300; first += 50 {
				checkSynthetic(t, b, first, 50)
			}
			checkSynthetic(t, b, 650, 50)
			checkSynthetic(t, b, 3, 1)
			checkSynthetic(t, b, 4, 1)
			checkSynthetic(t, b, 0, 700)
			err = b.Read(690, 11, make([]float32, 11*105), make([]int, 11))
			if err == nil || !strings.Contains(err.Error(), "[690, 701)") || !strings.Contains(err.Error(), b.Path) {
				t.Errorf("out of range: %v", err)
			}
			// Reopened with other options.
			if _, err := b.Open(map[string]string{"shape": "2x2"}); err != nil {
				t.Fatal(err)
			}
			checkSynthetic(t, b, 998, 2)
			// More than one call may carry: several batches.
			if _, err := b.Open(map[string]string{"shape": "3", "samples": "70000"}); err != nil {
				t.Fatal(err)
			}
			checkSynthetic(t, b, 1, 69999)
		})
	}

	t.Run("option errors", func(t *testing.T) {
		b := startStream(t, dir, "test-ok", hclog.NewNullLogger())
		_, err := b.Open(map[string]string{"bogus": "1"})
		if err == nil || !strings.Contains(err.Error(), `unknown option "bogus" (options: samples, shape)`) || !strings.Contains(err.Error(), b.Path) {
			t.Errorf("unknown option: %v", err)
		}
		_, err = b.Open(map[string]string{"samples": "-4"})
		if err == nil || !strings.Contains(err.Error(), "samples=-4") || !strings.Contains(err.Error(), "test-ok") {
			t.Errorf("bad value: %v", err)
		}
	})

	if runtime.GOOS == "linux" {
		t.Run("shared memory required but refused", func(t *testing.T) {
			b := startStream(t, dir, "test-noshm", hclog.NewNullLogger())
			b.Transport = TransportShared
			if _, err := b.Open(nil); err == nil || !strings.Contains(err.Error(), "shared memory") {
				t.Errorf("error %v", err)
			}
		})
	}

	for _, tc := range []struct {
		mode, want string
	}{
		{"crash", "(crashed?): "},
		{"crash", "it ended with exit status 3"},
		{"hang", "no batch within"},
		{"badlabel", "label 10 outside the 10 classes"},
	} {
		for _, transport := range []Transport{TransportStream, TransportAuto} {
			t.Run(fmt.Sprintf("%s/%v", tc.mode, transport), func(t *testing.T) {
				b := startStream(t, dir, "test-"+tc.mode, hclog.NewNullLogger())
				b.Transport = transport
				b.BatchTimeout = 500 * time.Millisecond
				if _, err := b.Open(nil); err != nil {
					t.Fatal(err)
				}
				images, labels := make([]float32, 50*784), make([]int, 50)
				var err error
				for first := 0; first < 1000 && err == nil; first += 50 {
					err = b.Read(first, 50, images, labels)
				}
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), testStreamPrefix+tc.mode) {
					t.Errorf("error %v should contain %q and name the plugin", err, tc.want)
				}
			})
		}
	}
}

const mnistDir = "../../data/mnist"

// buildMNISTPlugin builds datasets/plugins/mnist as int8cal-batchstream-mnist
// into a temporary directory.
func buildMNISTPlugin(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(mnistDir, "train-images-idx3-ubyte")); err != nil {
		t.Skipf("MNIST not placed in %s: run `make data` (%v)", mnistDir, err)
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "int8cal-batchstream-mnist"), "../../datasets/plugins/mnist")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the MNIST plugin: %v\n%s", err, b)
	}
	return dir
}

func TestBatchStreamMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin binary")
	}
	dir := buildMNISTPlugin(t)
	local, err := mnist.Open(mnistDir, mnist.Train)
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	want := make([]float32, n*784)
	wantLabels := make([]int, n)
	if err := local.Read(0, n, want, wantLabels); err != nil {
		t.Fatal(err)
	}

	for _, transport := range []Transport{TransportStream, TransportAuto} {
		t.Run(transport.String(), func(t *testing.T) {
			b := startStream(t, dir, "mnist", hclog.NewNullLogger())
			if b.Info.Name != "mnist" || len(b.Info.Options) != 3 {
				t.Errorf("info %+v", b.Info)
			}
			b.Transport = transport
			// The plugin runs in the host's working directory.
			meta, err := b.Open(map[string]string{"dir": mnistDir})
			if err != nil {
				t.Fatal(err)
			}
			if meta.Samples != 60000 || shapeString(meta.SampleShape) != "1x28x28" || !meta.Labels || meta.Classes != 10 {
				t.Fatalf("meta %+v", meta)
			}
			if transport == TransportAuto && b.Shared != (runtime.GOOS == "linux") {
				t.Errorf("shared memory %v", b.Shared)
			}
			for _, batch := range []int{n, 50, 7} {
				got := make([]float32, n*784)
				labels := make([]int, n)
				for first := 0; first < n; first += batch {
					m := min(batch, n-first)
					if err := b.Read(first, m, got[first*784:(first+m)*784], labels[first:first+m]); err != nil {
						t.Fatal(err)
					}
				}
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("batch %d: value %d (image %d) is %v through the plugin, %v in process", batch, i, i/784, got[i], want[i])
					}
				}
				for i := range labels {
					if labels[i] != wantLabels[i] {
						t.Fatalf("batch %d: label %d is %d through the plugin, %d in process", batch, i, labels[i], wantLabels[i])
					}
				}
			}
		})
	}

	t.Run("open errors", func(t *testing.T) {
		b := startStream(t, dir, "mnist", hclog.NewNullLogger())
		for _, tc := range []struct {
			options map[string]string
			want    string
		}{
			{nil, "option dir is required"},
			{map[string]string{"dir": t.TempDir()}, "train-images-idx3-ubyte"},
			{map[string]string{"dir": mnistDir, "split": "validation"}, "split=validation"},
		} {
			_, err := b.Open(tc.options)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "int8cal-batchstream-mnist") {
				t.Errorf("Open(%v): %v; want an error containing %q and naming the plugin", tc.options, err, tc.want)
			}
		}
	})
}

// BenchmarkBatchStreamTransfer measures plugin→host throughput of image
// data (float32 values, labels not counted) through a real plugin process,
// streamed over gRPC and through shared memory, for MNIST-sized and
// CIFAR-sized batches of 256 from the synthetic data set (and CIFAR-sized
// through protocol 2), and for the real MNIST plugin.
func BenchmarkBatchStreamTransfer(b *testing.B) {
	dir := linkTestStreams(b, "ok", "tensors-image")
	const batch = 256
	type source struct {
		name, plugin string
		options      map[string]string
	}
	sources := []source{
		{"mnist-sized", "test-ok", map[string]string{"samples": strconv.Itoa(40 * batch), "shape": "1x28x28"}},
		{"cifar-sized", "test-ok", map[string]string{"samples": strconv.Itoa(40 * batch), "shape": "3x32x32"}},
		{"cifar-sized-v2", "test-tensors-image", map[string]string{"samples": strconv.Itoa(40 * batch), "values": "3072"}},
	}
	mnistPlugins := ""
	if _, err := os.Stat(filepath.Join(mnistDir, "train-images-idx3-ubyte")); err == nil {
		mnistPlugins = buildMNISTPlugin(b)
		sources = append(sources, source{"mnist-plugin", "mnist", map[string]string{"dir": mnistDir}})
	}
	for _, src := range sources {
		for _, transport := range []Transport{TransportStream, TransportShared} {
			name := src.name + "/stream"
			if transport == TransportShared {
				name = src.name + "/shm"
			}
			b.Run(name, func(b *testing.B) {
				d := dir
				if src.plugin == "mnist" {
					d = mnistPlugins
				}
				s := startStream(b, d, src.plugin, hclog.NewNullLogger())
				s.Transport = transport
				meta, err := s.Open(src.options)
				if err != nil {
					b.Skip(err)
				}
				elems := 1 // SampleShape, not meta's: protocol 2 describes inputs
				for _, d := range s.SampleShape() {
					elems *= d
				}
				images := make([]float32, batch*elems)
				labels := make([]int, batch)
				batches := meta.Samples / batch
				b.SetBytes(int64(batch * elems * 4))
				b.ResetTimer()
				for i := range b.N {
					if err := s.Read(i%batches*batch, batch, images, labels); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
