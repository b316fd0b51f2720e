package gpulibs

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestTensorRTFindsEachMajor(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, ".trtlibs", rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// 11: the lean runtime, as PyPI has it; 10: the full wheel, with the
	// parser; 9: no library; notes: not a major.
	write("11/tensorrt_lean_libs/libnvinfer_lean.so.11", "")
	write("11/tensorrt_lean_cu13_libs-11.4.0.106.dist-info/top_level.txt", "tensorrt_lean_libs\n")
	write("10/tensorrt_libs/libnvinfer.so.10", "")
	write("10/tensorrt_libs/libnvonnxparser.so.10", "")
	write("10/tensorrt_cu13_libs-10.16.1.11.dist-info/top_level.txt", "tensorrt_libs\n")
	write("9/README", "")
	write("notes/tensorrt_libs/libnvinfer.so.notes", "")
	t.Setenv("INT8CAL_TENSORRT_LIB", "")
	abs := func(rel string) string { return filepath.Join(root, ".trtlibs", rel) }
	want := []TensorRTWheel{
		{Major: 11, Dist: "tensorrt_lean_cu13_libs", Version: "11.4.0.106", Infer: abs("11/tensorrt_lean_libs/libnvinfer_lean.so.11"), Lean: true},
		{Major: 10, Dist: "tensorrt_cu13_libs", Version: "10.16.1.11", Infer: abs("10/tensorrt_libs/libnvinfer.so.10"), Parser: abs("10/tensorrt_libs/libnvonnxparser.so.10")},
	}
	if got := TensorRT(root); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	t.Setenv("INT8CAL_TENSORRT_LIB", "/somewhere/libnvinfer.so.10")
	if got := TensorRT(root); got != nil {
		t.Errorf("with $INT8CAL_TENSORRT_LIB set: %+v, want none", got)
	}
	if got := TensorRT(t.TempDir()); got != nil {
		t.Errorf("without .trtlibs: %+v", got)
	}
}
