package tensorrt

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/loader/tensorrt/abi"
)

// TestDynamicBatch builds LeNet (whose ONNX input data is [N,1,28,28])
// with batch 4 on each major version's double: one optimization profile
// with data [4,1,28,28] as min, opt and max, the engine's -1 dimensions
// read as 4, setInputShape before the first enqueueV3, and a run of 4
// samples.
func TestDynamicBatch(t *testing.T) {
	for _, major := range abi.Majors {
		t.Run(fmt.Sprintf("TensorRT%d", major), func(t *testing.T) {
			b, r, _ := open(t, major)
			model := lenet(t)
			e, err := b.Build(model, BuildOptions{Precision: precision.FP32, Batch: 4, DLACore: -1})
			if err != nil {
				t.Fatal(err)
			}
			plan := fmt.Sprintf("TRTDOUBLE-ENGINE major=%d flags=0\nnone\nio=dynamic", major)
			if string(e.Plan) != plan {
				t.Errorf("plan %q, want %q", e.Plan, plan)
			}
			r.expect(t, "Build", buildLines(major, len(model), profiled(4), nil, len(plan))...)
			io := e.IO()
			if len(io) != 2 || !slices.Equal(io[0].Shape, []int{4, 1, 28, 28}) || !slices.Equal(io[1].Shape, []int{4, 10}) {
				t.Errorf("IO() = %+v, want data [4 1 28 28], prob [4 10]", io)
			}
			for run := 0; run < 2; run++ {
				in := tensor.New(tensor.Float32, 4, 1, 28, 28)
				for i := range in.F32 {
					in.F32[i] = float32(i/(28*28)) / 784
				}
				out, err := e.Run(map[string]*tensor.Tensor{"data": in})
				if err != nil {
					t.Fatal(err)
				}
				if run == 0 {
					for _, io := range e.io {
						r.name(uintptr(io.ptr), "dev:"+io.Name)
					}
				}
				var want []string
				if run == 0 {
					want = []string{"VExecutionContext.setInputShape this=IExecutionContext.impl name=data dims=[4,1,28,28]",
						"VExecutionContext.setTensorAddress this=IExecutionContext.impl name=data data=dev:data",
						"VExecutionContext.setTensorAddress this=IExecutionContext.impl name=prob data=dev:prob"}
				}
				want = append(want, "VExecutionContext.enqueueV3 this=IExecutionContext.impl stream=stream -> 1",
					"VExecutionContext.enqueueV3 wrote prob[i][j] = sum(data[i]) + j to dev:prob, batch=4")
				r.expect(t, fmt.Sprintf("Run %d", run), want...)
				p := out["prob"]
				if p == nil || !slices.Equal(p.Shape, []int{4, 10}) {
					t.Fatalf("Run returned %v", out)
				}
				for i := 0; i < 4; i++ {
					for j := 0; j < 10; j++ {
						if w := float32(i) + float32(j); p.F32[i*10+j] != w {
							t.Errorf("prob[%d][%d] = %v, want %v", i, j, p.F32[i*10+j], w)
						}
					}
				}
			}
			if _, err := e.Run(map[string]*tensor.Tensor{"data": tensor.New(tensor.Float32, 1, 1, 28, 28)}); err == nil || !strings.Contains(err.Error(), "has shape") {
				t.Errorf("Run with batch 1 on a batch-4 engine: %v", err)
			}
			e.Close()
			r.take()

			if _, err := b.Build(model, BuildOptions{Batch: -2, DLACore: -1}); err == nil || !strings.Contains(err.Error(), "batch size -2") {
				t.Errorf("batch -2: got %v", err)
			}
			checkClean(t, r)
		})
	}
}

// TestDynamicRefusals: a dynamic dimension other than the batch, and
// I/O tensors that are not float32 (getTensorDataType).
func TestDynamicRefusals(t *testing.T) {
	for _, major := range abi.Majors {
		t.Run(fmt.Sprintf("TensorRT%d", major), func(t *testing.T) {
			b, r, _ := open(t, major)
			m := &onnx.Model{IRVersion: 7, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{Name: "hw",
				Nodes:   []*onnx.Node{{Name: "id", OpType: "Identity", Inputs: []string{"data"}, Outputs: []string{"prob"}}},
				Inputs:  []*onnx.ValueInfo{{Name: "data", DType: tensor.Float32, HasShape: true, Dims: []onnx.Dim{{Param: "N"}, {Value: 1}, {Param: "H"}, {Value: 28}}}},
				Outputs: []*onnx.ValueInfo{{Name: "prob", DType: tensor.Float32}}}}
			model, err := onnx.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Build(model, BuildOptions{Batch: 2, DLACore: -1}); err == nil || !strings.Contains(err.Error(), `input "data" has the dynamic dimension 2 (H)`) {
				t.Errorf("a dynamic height: got %v", err)
			}
			r.expect(t, "refused before any call")

			t.Setenv("TRTDOUBLE_INT32_OUTPUT", "1")
			if _, err := b.Build(lenet(t), BuildOptions{DLACore: -1}); err == nil || !strings.Contains(err.Error(), `I/O tensor "prob" is int32 (kINT32); only float32`) {
				t.Errorf("an int32 output: got %v", err)
			}
			lines := r.take()
			if !slices.Contains(lines, "VCudaEngine.getTensorDataType this=ICudaEngine.impl name=prob") {
				t.Errorf("no getTensorDataType for prob:\n\t%s", strings.Join(lines, "\n\t"))
			}
			checkClean(t, r)
		})
	}
}
