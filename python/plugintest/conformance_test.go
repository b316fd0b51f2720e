package plugintest

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/core/pluginhost"
	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/datasets/sdk/batchstreamtest"
	"github.com/int8cal/int8cal/plugins/sdk/calibratortest"
)

// The plugin TestConformance checks instead of the examples, and its
// options (a data set's Open options; a calibrator is checked at its
// defaults):
//
//	go test ./python/plugintest/ -run '^TestConformance$' -args -plugin /abs/int8cal-batchstream-x -opt dir=/abs/data
var (
	pluginFlag = flag.String("plugin", "", "a plugin program (int8cal-calibrator-NAME or int8cal-batchstream-NAME) to run the conformance suites against, instead of the examples")
	optFlag    optionsFlag
)

func init() {
	flag.Var(&optFlag, "opt", "a data set option KEY=VALUE for -plugin (repeatable)")
}

type optionsFlag map[string]string

func (o *optionsFlag) String() string { return "" }

func (o *optionsFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	if *o == nil {
		*o = optionsFlag{}
	}
	(*o)[k] = val
	return nil
}

// TestConformance runs the Go conformance suites (calibratortest.Run,
// batchstreamtest.RunTensors with batches streamed and through shared
// memory) against plugin programs started by the real host: the examples,
// or the program -plugin names. Each must close within a second and leave
// no warning in the host's log.
func TestConformance(t *testing.T) {
	if *pluginFlag != "" {
		path, err := filepath.Abs(*pluginFlag)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(path)
		for _, kind := range []pluginhost.Kind{pluginhost.CalibratorKind, pluginhost.BatchStreamKind} {
			if name, ok := strings.CutPrefix(base, "int8cal-"+string(kind)+"-"); ok {
				conformance(t, pluginhost.Found{Kind: kind, Name: name, Path: path}, optFlag)
				return
			}
		}
		t.Fatalf("-plugin %s: the name is neither int8cal-calibrator-NAME nor int8cal-batchstream-NAME", path)
	}
	python(t)
	conformance(t, example(t, pluginhost.CalibratorKind, "pypercentile"), nil)
	dir, _, _, _ := npyFolder(t, 150)
	conformance(t, example(t, pluginhost.BatchStreamKind, "npyfolder"), map[string]string{"dir": dir})
}

func conformance(t *testing.T, f pluginhost.Found, options map[string]string) {
	t.Run(f.Name, func(t *testing.T) {
		if f.Kind == pluginhost.CalibratorKind {
			log, logger := newHostLog()
			c, err := pluginhost.StartCalibrator(f, logger)
			if err != nil {
				t.Fatal(err)
			}
			calibratortest.Run(t, calibrator{c})
			timeClose(t, "the calibrator plugin", c.Close)
			checkQuiet(t, log)
			return
		}
		for _, tr := range []pluginhost.Transport{pluginhost.TransportStream, pluginhost.TransportShared} {
			t.Run(tr.String(), func(t *testing.T) {
				log, logger := newHostLog()
				d := startBatchStream(t, f, logger, tr)
				batchstreamtest.RunTensors(t, d, options)
				d.Close()
				checkQuiet(t, log)
			})
		}
	})
}

// TestPercentileCalibrator checks the answers and errors of
// python/examples/percentile_calibrator.py started by the real host, then
// that closing it is quick and that the host logged no warning.
func TestPercentileCalibrator(t *testing.T) {
	python(t)
	log, logger := newHostLog()
	c, err := pluginhost.StartCalibrator(example(t, pluginhost.CalibratorKind, "pypercentile"), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		timeClose(t, "the calibrator plugin", c.Close)
		checkQuiet(t, log)
	}()
	if c.Protocol != 1 || c.Info.Statistics != calib.AbsHistogram || c.Info.Bins != 2048 {
		t.Errorf("protocol %d, Info %+v; want protocol 1, an abs-histogram of 2048 bins", c.Protocol, c.Info)
	}

	t.Run("Percentile", func(t *testing.T) {
		// 1000 values in bins 0..999 (width 1) and one outlier in bin
		// 2000: p=99.9 keeps 999.999 values, reached at bin 999, whose
		// upper edge is 1000; p=100 keeps the outlier, clipped to max |x|.
		counts := make([]uint64, 2048)
		for i := range 1000 {
			counts[i] = 1
		}
		counts[2000] = 1
		stats := []calib.TensorStats{{Name: "t", Count: 1001, Min: -3, Max: 2000.5, Histogram: &calib.Histogram{Range: 2048, Counts: counts}}}
		for _, tc := range []struct {
			p    string
			want float32
		}{{"99.9", 1000}, {"100", 2000.5}, {"50", 501}} {
			if err := c.Configure(map[string]string{"percentile": tc.p}); err != nil {
				t.Fatal(err)
			}
			r, err := c.Calibrate(stats)
			if err != nil {
				t.Fatal(err)
			}
			if r[0].Amax != tc.want {
				t.Errorf("p=%s: amax %v, want %v", tc.p, r[0].Amax, tc.want)
			}
		}
	})

	t.Run("BadOption", func(t *testing.T) {
		for _, v := range []string{"150", "0", "x"} {
			err := c.Configure(map[string]string{"percentile": v})
			want := "pypercentile: option percentile=" + v + ": want a number in (0, 100]"
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `calibrator plugin "pypercentile"`) {
				t.Errorf("p=%s: error %v; want one naming the plugin and saying %q", v, err, want)
			}
		}
		if err := c.Configure(nil); err != nil {
			t.Errorf("back to the defaults: %v", err)
		}
	})

	t.Run("WrongStatistics", func(t *testing.T) {
		// Min and max without the histogram the plugin asked for: refused
		// with the plugin's message, which names the tensor.
		stats := []calib.TensorStats{{Name: "conv1", Count: 4, Min: -1, Max: 1}}
		_, err := c.Calibrate(stats)
		if err == nil || !strings.Contains(err.Error(), `pypercentile: tensor 'conv1': needs a histogram of |x|`) {
			t.Errorf("no histogram: error %v; want the plugin's message naming the tensor", err)
		}
	})
}

// npyFolder writes a folder for python/examples/npy_folder_dataset.py:
// one input of each element type the protocol carries, and labels. It
// returns the values of every input in the data set's input order (names
// sorted) as little-endian bytes, and the labels.
func npyFolder(t *testing.T, samples int) (string, []dataset.Input, [][]byte, []int32) {
	dir := t.TempDir()
	type spec struct {
		name, descr string
		typ         dataset.ElementType
		shape       []int
		value       func(i int) []byte // the i-th value, little-endian
	}
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	specs := []spec{ // in name order: the plugin orders its inputs so
		{"half", "<f2", dataset.Float16, []int{2}, func(i int) []byte { return binary.LittleEndian.AppendUint16(nil, uint16(0x3c00+i%1000)) }},
		{"i32", "<i4", dataset.Int32, []int{4}, func(i int) []byte { return le32(uint32(int32(i*7919 - 100000))) }},
		{"i8", "|i1", dataset.Int8, []int{2}, func(i int) []byte { return []byte{byte(int8(i%256 - 128))} }},
		{"ids", "<i8", dataset.Int64, []int{5}, func(i int) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(int64(i)*1_000_003-7)) }},
		{"image", "<f4", dataset.Float32, []int{3, 4, 4}, func(i int) []byte { return le32(math.Float32bits(float32(i)*0.25 - 300)) }},
		{"mask", "|b1", dataset.Bool, []int{6}, func(i int) []byte { return []byte{byte(i % 3 % 2)} }},
		{"u8", "|u1", dataset.Uint8, []int{3}, func(i int) []byte { return []byte{byte(i * 13)} }},
	}
	var inputs []dataset.Input
	var values [][]byte
	for _, s := range specs {
		in := dataset.Input{Name: s.name, Type: s.typ, Shape: s.shape}
		var data []byte
		for i := range samples * in.Elements() {
			data = append(data, s.value(i)...)
		}
		writeNpy(t, filepath.Join(dir, s.name+".npy"), s.descr, append([]int{samples}, s.shape...), data)
		inputs, values = append(inputs, in), append(values, data)
	}
	labels := make([]int32, samples)
	var lab []byte
	for i := range labels {
		labels[i] = int32(i * 7 % 10)
		lab = binary.LittleEndian.AppendUint64(lab, uint64(labels[i]))
	}
	writeNpy(t, filepath.Join(dir, "labels.npy"), "<i8", []int{samples}, lab)
	return dir, inputs, values, labels
}

// TestNpyFolderDataset reads python/examples/npy_folder_dataset.py started
// by the real host, its batches streamed and through shared memory, checks
// the values against the files and its errors, then that closing it is
// quick and that the host logged no warning.
func TestNpyFolderDataset(t *testing.T) {
	python(t)
	const samples = 150
	dir, inputs, values, labels := npyFolder(t, samples)
	options := map[string]string{"dir": dir}
	for _, tr := range []pluginhost.Transport{pluginhost.TransportStream, pluginhost.TransportShared} {
		t.Run(tr.String(), func(t *testing.T) {
			log, logger := newHostLog()
			d := startBatchStream(t, example(t, pluginhost.BatchStreamKind, "npyfolder"), logger, tr)
			t.Run("Values", func(t *testing.T) {
				meta, err := d.Open(options)
				if err != nil {
					t.Fatal(err)
				}
				if d.b.Shared != (tr == pluginhost.TransportShared) {
					t.Errorf("batches through shared memory: %v, with transport %v", d.b.Shared, tr)
				}
				want := dataset.Meta{Samples: samples, Inputs: inputs, Labels: true, Classes: 10}
				if !equalMeta(meta, want) {
					t.Fatalf("Open described %+v, want %+v", meta, want)
				}
				// The SDK's log line about it, an hclog JSON line on the
				// plugin's stderr, is in the host's log at its level, with
				// its fields, as go-plugin shows a Go plugin's.
				// The host reads stderr on its own: the line may come after
				// Open's answer. go-plugin orders the fields as it likes.
				logged := func() bool {
					for _, l := range strings.Split(log.String(), "\n") {
						if strings.Contains(l, "[DEBUG] int8cal.npyfolder.int8cal-batchstream-npyfolder: opened:") &&
							strings.Contains(l, " samples=150") && strings.Contains(l, " inputs=7") && strings.Contains(l, " @module=npyfolder") {
							return true
						}
					}
					return false
				}
				for end := time.Now().Add(2 * time.Second); !logged() && time.Now().Before(end); {
					time.Sleep(10 * time.Millisecond)
				}
				if !logged() {
					t.Errorf("the plugin's log line about Open is not in the host's log:\n%s", log.String())
				}
				for _, batch := range []int{samples, 1, 64} {
					got := make([]dataset.Tensor, len(inputs))
					for i, in := range inputs {
						got[i] = dataset.NewTensor(in.Type, samples*in.Elements())
					}
					lbl := make([]int32, samples)
					for first := 0; first < samples; first += batch {
						n := min(batch, samples-first)
						part := make([]dataset.Tensor, len(inputs))
						for i, in := range inputs {
							size := in.Elements() * in.Type.Size()
							part[i] = dataset.Tensor{Type: in.Type, Data: got[i].Data[first*size : (first+n)*size]}
						}
						if err := d.ReadTensors(first, n, part, lbl[first:first+n]); err != nil {
							t.Fatal(err)
						}
					}
					for i, in := range inputs {
						if !bytes.Equal(got[i].Data, values[i]) {
							t.Errorf("batches of %d: input %q differs from its file", batch, in.Name)
						}
					}
					for i := range labels {
						if lbl[i] != labels[i] {
							t.Fatalf("batches of %d: label %d is %d, want %d", batch, i, lbl[i], labels[i])
						}
					}
				}
			})

			t.Run("MissingFolder", func(t *testing.T) {
				missing := filepath.Join(dir, "nope")
				_, err := d.Open(map[string]string{"dir": missing})
				if err == nil || !strings.Contains(err.Error(), "npyfolder: Open:") || !strings.Contains(err.Error(), missing) {
					t.Errorf("a missing folder: error %v; want the plugin's, naming the folder", err)
				}
				_, err = d.Open(nil)
				if err == nil || !strings.Contains(err.Error(), "option dir is required") {
					t.Errorf("no folder: error %v; want one saying that dir is required", err)
				}
			})

			if err := d.Close(); err != nil {
				t.Error(err)
			}
			checkQuiet(t, log)
		})
	}
}

func equalMeta(a, b dataset.Meta) bool {
	if a.Samples != b.Samples || a.Labels != b.Labels || a.Classes != b.Classes || len(a.Inputs) != len(b.Inputs) {
		return false
	}
	for i := range a.Inputs {
		x, y := a.Inputs[i], b.Inputs[i]
		if x.Name != y.Name || x.Type != y.Type || len(x.Shape) != len(y.Shape) {
			return false
		}
		for k := range x.Shape {
			if x.Shape[k] != y.Shape[k] {
				return false
			}
		}
	}
	return true
}
