package calibtable

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics and that a table it accepts is
// written, read back and written again unchanged.
func FuzzParse(f *testing.F) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(bytes.ReplaceAll(golden, []byte("\n"), []byte("\r\n")))
	f.Add([]byte("TRT-100300-MinMaxCalibration\n(Unnamed Layer* 4) [Fully Connected]_output: 3dc6a9ed\na:b:c: 800000\n\n"))
	f.Add([]byte("TRT-8601-EntropyCalibration2\nx: 7fc00001\ny:FFFFFFFF \n"))
	f.Add([]byte("TRT-8601-EntropyCalibration2\nx: 7f7fffff\ny: 1\nz: 0\n"))
	f.Add([]byte("TRT-8601-EntropyCalibration2\ndata: 3c008912\ndata: 3c008912\n"))
	f.Add([]byte("TRT-8601\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := Parse(bytes.NewReader(data), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "calibtable: fuzz:") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		for _, e := range tb.Entries {
			if err := CheckScale(e.Scale); err != nil {
				t.Fatalf("accepted %q: %v", e.Name, err)
			}
		}
		var out bytes.Buffer
		if err := Write(&out, tb); err != nil {
			t.Fatalf("Write of parsed table: %v", err)
		}
		back, err := Parse(bytes.NewReader(out.Bytes()), "rewritten")
		if err != nil {
			t.Fatalf("re-parse: %v\n%q", err, out.Bytes())
		}
		if !sameTable(tb, back) {
			t.Fatalf("re-parse differs:\n%+v\n%+v", tb, back)
		}
		var again bytes.Buffer
		if err := Write(&again, back); err != nil || !bytes.Equal(again.Bytes(), out.Bytes()) {
			t.Fatalf("second write differs: %v\n%q\n%q", err, out.Bytes(), again.Bytes())
		}
		var js bytes.Buffer
		if err := WriteJSON(&js, tb); err != nil {
			if checkUTF8(tb) == nil {
				t.Fatalf("WriteJSON: %v", err)
			}
			return
		}
		if fromJSON, err := ReadJSON(&js); err != nil || !sameTable(tb, fromJSON) {
			t.Fatalf("JSON round trip: %v\n%s", err, js.Bytes())
		}
	})
}

// FuzzReadJSON checks that ReadJSON, which reads the --json output back,
// never panics and that a table it accepts has usable scales and survives
// WriteJSON and ReadJSON, and the text format, unchanged.
func FuzzReadJSON(f *testing.F) {
	var golden bytes.Buffer
	if err := WriteJSON(&golden, lenetTable()); err != nil {
		f.Fatal(err)
	}
	f.Add(golden.Bytes())
	f.Add([]byte(`{"header": "TRT-8601-EntropyCalibration2", "tensors": [{"name": "a", "amax": 1}, {"name": "b", "scale": 0.0078}, {"name": "c", "hex": "3C010A14"}]}`))
	f.Add([]byte(`{"version": "8601", "algorithm": "X", "tensors": [{"name": "a", "amax": 1e39}, {"name": "b", "hex": "7f800000"}, {"name": "c", "scale": -1}]}`))
	f.Add([]byte(`{"tensors": [{"name": "a\n: 3c010204"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := ReadJSON(bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "calibtable: ") {
				t.Fatalf("error without the package name: %v", err)
			}
			return
		}
		if err := tb.Validate(); err != nil {
			t.Fatalf("accepted an invalid table: %v", err)
		}
		var js bytes.Buffer
		if err := WriteJSON(&js, tb); err != nil {
			t.Fatalf("WriteJSON: %v", err) // JSON strings decode to valid UTF-8
		}
		if back, err := ReadJSON(&js); err != nil || !sameTable(tb, back) {
			t.Fatalf("JSON round trip: %v\n%s", err, js.Bytes())
		}
		var text bytes.Buffer
		if err := Write(&text, tb); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if back, err := Parse(&text, "text"); err != nil || !sameTable(tb, back) {
			t.Fatalf("text round trip: %v", err)
		}
	})
}

// FuzzSidecar checks that reading a sidecar never panics and that one it
// accepts is written and read back the same.
func FuzzSidecar(f *testing.F) {
	good, err := json.Marshal(&Sidecar{Format: SidecarFormat, TableSHA256: "ab", ModelSHA256: "cd", Calibrator: "entropy2",
		Options: map[string]string{"bins": "2048"}, Dataset: "mnist train data/mnist", BatchSize: 50, Batches: 10})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"model_sha256": "x", "batch_size": 1e400}`))
	f.Add([]byte(`{"format": 2} {"format": 3}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeSidecar(bytes.NewReader(data), "fuzz.int8cal.json")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.int8cal.json: ") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		data, err = s.encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeSidecar(bytes.NewReader(data), "again")
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := back.encode(); !bytes.Equal(again, data) {
			t.Fatalf("round trip:\n%s\n%s", data, again)
		}
	})
}
