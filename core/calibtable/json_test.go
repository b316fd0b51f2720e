package calibtable

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func TestJSON(t *testing.T) {
	tb := lenetTable()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, tb); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Header, Version, Algorithm string
		TRTVersion                 string `json:"trt_version"`
		Tensors                    []struct {
			Name        string
			Amax, Scale json.Number
			Hex         string
		}
	}
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	if doc.Header != "TRT-7000-EntropyCalibration2" || doc.Version != "7000" || doc.Algorithm != "EntropyCalibration2" || doc.TRTVersion != "7.0.0" {
		t.Errorf("header fields %+v", doc)
	}
	if len(doc.Tensors) != len(lenetTRT7) {
		t.Fatalf("%d tensors", len(doc.Tensors))
	}
	for i, e := range doc.Tensors {
		want := tb.Entries[i]
		if e.Name != want.Name || e.Hex != want.Hex() {
			t.Errorf("tensor %d = %+v, want %s %s", i, e, want.Name, want.Hex())
		}
		amax, err1 := strconv.ParseFloat(string(e.Amax), 32)
		scale, err2 := strconv.ParseFloat(string(e.Scale), 32)
		if err1 != nil || err2 != nil || float32(amax) != want.Amax() || float32(scale) != want.Scale {
			t.Errorf("tensor %d amax %s scale %s, want %v %v", i, e.Amax, e.Scale, want.Amax(), want.Scale)
		}
	}
	if !strings.Contains(buf.String(), `"amax": 0.9963379,`) || !strings.Contains(buf.String(), `"hex": "3c010a14"`) {
		t.Errorf("unexpected JSON:\n%s", buf.String())
	}
	back, err := ReadJSON(&buf)
	if err != nil || !sameTable(back, tb) {
		t.Fatalf("ReadJSON = %+v, %v", back, err)
	}
}

func TestReadJSONForms(t *testing.T) {
	in := `{"header": "TRT-8601-EntropyCalibration2", "extra": 1, "tensors": [
		{"name": "a", "amax": 1},
		{"name": "b", "scale": 0.0078451801},
		{"name": "c", "hex": "3C010A14", "amax": 5},
		{"name": "d", "hex": "800000"}
	]}`
	tb, err := ReadJSON(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := "TRT-8601-EntropyCalibration2\na: 3c010204\nb: 3c008912\nc: 3c010a14\nd: 00800000\n"
	var buf bytes.Buffer
	if err := Write(&buf, tb); err != nil || buf.String() != want {
		t.Fatalf("Write = %q, %v; want %q", buf.String(), err, want)
	}
	for _, c := range []struct{ in, want string }{
		{`{"version": "8601", "algorithm": "EntropyCalibration2", "tensors": [{"name": "a"}]}`, `tensor 0 "a": no hex, scale or amax`},
		{`{"version": "8601", "algorithm": "EntropyCalibration2", "tensors": [{"name": "a", "hex": "xyz"}]}`, `bad hex "xyz"`},
		{`{"version": "8601", "algorithm": "EntropyCalibration2", "tensors": [{"name": "a", "amax": 1}, {"name": "a", "amax": 2}]}`, "duplicate tensor name"},
		{`{"header": "8601-EntropyCalibration2", "tensors": []}`, "bad header"},
		{`{"tensors": []}`, "header version"},
		{`[1, 2]`, "calibtable: json:"},
	} {
		if _, err := ReadJSON(strings.NewReader(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadJSON(%s) err = %v, want %q", c.in, err, c.want)
		}
	}
}

func TestJSONInvalidUTF8(t *testing.T) {
	tb := &Table{Version: "8601", Algorithm: EntropyCalibration2, Entries: []Entry{{"ok", 1}, {"bad\xec", 1}}}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, tb); err == nil || !strings.Contains(err.Error(), "entry 1: tensor name \"bad\\xec\" is not valid UTF-8") || buf.Len() != 0 {
		t.Fatalf("err = %v, wrote %q", err, buf.String())
	}
	// The text format keeps the bytes.
	if err := Write(&buf, tb); err != nil {
		t.Fatal(err)
	}
	back, err := Parse(&buf, "utf8")
	if err != nil || !sameTable(back, tb) {
		t.Fatalf("Parse = %+v, %v", back, err)
	}
}
