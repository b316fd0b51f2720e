package calibtable

import (
	"bytes"
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
	f.Add([]byte("TRT-100300-MinMaxCalibration\n(Unnamed Layer* 4) [Fully Connected]_output: 3dc6a9ed\na:b:c: 0\n\n"))
	f.Add([]byte("TRT-8601-EntropyCalibration2\nx: 7fc00001\ny:FFFFFFFF \n"))
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
