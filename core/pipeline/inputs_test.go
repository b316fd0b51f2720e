package pipeline

import (
	"bytes"
	"encoding/binary"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/internal/npytensor"
	"github.com/int8cal/int8cal/core/pluginhost"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/datasets/npy"
)

const zooDir = "../../testdata/zoo"

// bertArrays are the zoo's BERT inputs (ONNX Runtime's golden inputs:
// int64 ids and mask, two samples of 16 tokens) as a data set: the mask
// stored as bools, which the model's int64 input takes widened, and
// labels.
func bertArrays(t *testing.T) map[string]*npy.Array {
	t.Helper()
	ids, err := npy.ReadFile(filepath.Join(zooDir, "bert.input.0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	mask, err := npy.ReadFile(filepath.Join(zooDir, "bert.input.1.npy"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mask.Ints()
	if err != nil {
		t.Fatal(err)
	}
	bools := &npy.Array{Descr: "|b1", Shape: mask.Shape, Data: make([]byte, len(m))}
	for i, v := range m {
		bools.Data[i] = byte(v)
	}
	y := &npy.Array{Descr: "<i8", Shape: []int{2}, Data: binary.LittleEndian.AppendUint64(make([]byte, 8), 1)}
	return map[string]*npy.Array{"input_ids": ids, "attention_mask": bools, "y": y}
}

// writeNPZ writes arrays as bert.npz in dir, and each as name.npy beside.
func writeNPZ(t *testing.T, dir string, arrays map[string]*npy.Array) string {
	t.Helper()
	for name, a := range arrays {
		if err := npy.Write(filepath.Join(dir, name+".npy"), a); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "bert.npz")
	if err := npy.WriteNPZ(path, arrays); err != nil {
		t.Fatal(err)
	}
	return path
}

func zooPipeline(t *testing.T, model string) *Pipeline {
	t.Helper()
	p, err := New(Options{Model: filepath.Join(zooDir, model), PluginDir: pluginDir, Log: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// The BERT encoder of the zoo, fed int64 ids and a bool mask by the npy
// plugin over protocol 2 (an .npz of arrays named after its inputs, or an
// explicit inputs= mapping), computes what the engine fed ONNX Runtime's
// inputs directly does, bit for bit, and ONNX Runtime's outputs within
// 1e-4 of the largest; it evaluates and calibrates, the ids and the mask
// never in the table.
func TestNamedInputsFeedBERT(t *testing.T) {
	dir := t.TempDir()
	npz := writeNPZ(t, dir, bertArrays(t))
	for _, exporter := range []string{"torchscript", "dynamo"} {
		for _, opts := range []map[string]string{
			{"x": npz},
			{"inputs": "input_ids=" + filepath.Join(dir, "input_ids.npy") + ",attention_mask=" + npz + ":attention_mask", "y": filepath.Join(dir, "y.npy")},
		} {
			p := zooPipeline(t, "bert."+exporter+".onnx")
			data, err := p.OpenData(Data{Role: EvaluationRole, Plugin: "npy", Options: opts})
			if err != nil {
				t.Fatal(err)
			}
			defer data.Close()
			if err := p.Load(2, data); err != nil {
				t.Fatal(err)
			}
			feed, err := session.NewFeed(data, p.graph.Inputs, 2)
			if err != nil {
				t.Fatal(err)
			}
			labels := make([]int, 2)
			inputs, err := feed.Read(0, labels)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(labels, []int{0, 1}) {
				t.Errorf("labels %v", labels)
			}
			got, err := engine.New(p.graph, engine.Options{}).Run(inputs)
			if err != nil {
				t.Fatal(err)
			}
			direct, err := engine.New(p.graph, engine.Options{}).Run(map[string]*tensor.Tensor{
				"input_ids": npytensor.ReadTyped(t, filepath.Join(zooDir, "bert.input.0.npy")), "attention_mask": npytensor.ReadTyped(t, filepath.Join(zooDir, "bert.input.1.npy")),
			})
			if err != nil {
				t.Fatal(err)
			}
			ort := npytensor.ReadTyped(t, filepath.Join(zooDir, "bert."+exporter+".output.0.npy"))
			largest, worst := 0.0, 0.0
			for i, v := range got["output"].F32 {
				if math.Float32bits(v) != math.Float32bits(direct["output"].F32[i]) {
					t.Fatalf("%s %v: output %d is %v through the plugin, %v fed directly", exporter, opts, i, v, direct["output"].F32[i])
				}
				largest = max(largest, math.Abs(float64(ort.F32[i])))
				worst = max(worst, math.Abs(float64(v-ort.F32[i])))
			}
			if worst > 1e-4*largest {
				t.Errorf("%s: outputs differ from ONNX Runtime's by %g (largest %g)", exporter, worst, largest)
			}
			if s, err := p.Evaluate(data, Evaluation{ScoreConfig: session.ScoreConfig{Batch: 2}}); err != nil || s.Images != 2 {
				t.Errorf("%s: Evaluate: %+v, %v", exporter, s, err)
			}
		}
	}

	p := zooPipeline(t, "bert.torchscript.onnx")
	c := Calibration{Calibrator: "minmax", Batch: 2, Batches: 1, Cache: filepath.Join(dir, "table"),
		Data: Data{Role: CalibrationRole, Plugin: "npy", Options: map[string]string{"x": npz}}}
	cal, err := p.Calibrate(c, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	scales := cal.Scales()
	if len(scales) < 10 {
		t.Errorf("%d tensors calibrated", len(scales))
	}
	for _, name := range []string{"input_ids", "attention_mask"} {
		if _, ok := scales[name]; ok {
			t.Errorf("integer input %s calibrated", name)
		}
	}
}

// Data that does not fit the model's inputs is refused before anything
// runs, naming the model, the data, the input, and what each has.
func TestNamedInputsRefused(t *testing.T) {
	dir := t.TempDir()
	arrays := bertArrays(t)
	ids := filepath.Join(dir, "input_ids.npy")
	writeNPZ(t, dir, arrays)
	f32 := npy.NewFloat32([]int{2, 16}, make([]float32, 32))
	short := &npy.Array{Descr: "<i8", Shape: []int{2, 8}, Data: make([]byte, 8*16)}
	for name, a := range map[string]*npy.Array{"f32.npy": f32, "short.npy": short} {
		if err := npy.Write(filepath.Join(dir, name), a); err != nil {
			t.Fatal(err)
		}
	}
	mask := filepath.Join(dir, "attention_mask.npy")
	for _, tc := range []struct {
		inputs, want string
	}{
		{"input_ids=" + ids + ",mask=" + mask, `the model's input "attention_mask" (int64 [2,16]) is not in the data set, whose inputs are "input_ids" int64 [16], "mask" bool [16]`},
		{"input_ids=" + filepath.Join(dir, "f32.npy") + ",attention_mask=" + mask, `input "input_ids": the model takes int64, the data set gives float32; give bool, uint8, int8, int32 or int64 values`},
		{"input_ids=" + filepath.Join(dir, "short.npy") + ",attention_mask=" + mask, `input "input_ids" of the model has shape [2,16], the data has [2,8]`},
	} {
		p := zooPipeline(t, "bert.torchscript.onnx")
		data, err := p.OpenData(Data{Role: EvaluationRole, Plugin: "npy", Options: map[string]string{"inputs": tc.inputs}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Evaluate(data, Evaluation{ScoreConfig: session.ScoreConfig{Batch: 2}})
		data.Close()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bert.torchscript.onnx") || !strings.Contains(err.Error(), "plugin npy inputs=") {
			t.Errorf("inputs=%s: %v; want an error naming the model, the data and containing %q", tc.inputs, err, tc.want)
		}
	}
}

// A data set plugin of protocol 1 (mnist) still feeds LeNet.
func TestProtocol1PluginStillWorks(t *testing.T) {
	p := lenet(t, Backend{})
	data, err := p.OpenData(Data{Role: EvaluationRole, Plugin: "mnist", Split: Test})
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	if bs := data.Source.(*pluginhost.BatchStream); bs.Protocol != 1 || data.Inputs() != nil {
		t.Errorf("the mnist plugin speaks protocol %d with inputs %v; want 1 and float32 samples", bs.Protocol, data.Inputs())
	}
	s, err := p.Evaluate(data, Evaluation{ScoreConfig: session.ScoreConfig{Batch: 100, Batches: 2}})
	if err != nil || s.Top1 < 0.97 {
		t.Errorf("LeNet through the mnist plugin: %+v, %v", s, err)
	}
}
