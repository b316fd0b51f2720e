package npy

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// npyFile builds a .npy file of the given format version with header h
// taken verbatim (no padding) and data appended.
func npyFile(major byte, h string, data []byte) []byte {
	b := append([]byte(Magic), major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(h)))
	}
	b = append(b, h...)
	return append(b, data...)
}

func hdr(descr, shape string) string {
	return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }\n"
}

func le32(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// Files written by numpy 2.4.6 (np.save, np.lib.format.write_array with
// version=(2,0)/(3,0), np.savez, np.savez_compressed), base64.
var numpyFiles = map[string]string{
	// np.arange(6, dtype='<f4').reshape(2,3) - 2.5
	"f4_2x3_v1": "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAACDAAADAvwAAAL8AAAA/AADAPwAAIEA=",
	// np.array([1, 2, 255], dtype='|u1')
	"u1_3_v1": "k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAv8=",
	// np.array(1.5, dtype='<f2')
	"f2_scalar_v1": "k05VTVBZAQB2AHsnZGVzY3InOiAnPGYyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAPg==",
	// np.array([-3, 1<<40], dtype='<i8'), version 2.0
	"i8_2_v2": "k05VTVBZAgB0AAAAeydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr9/////////wAAAAAAAQAA",
	// np.array([True, False, True]), version 3.0
	"b1_3_v3": "k05VTVBZAwB0AAAAeydkZXNjcic6ICd8YjEnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAE=",
	// np.asfortranarray(np.zeros((2,3), dtype='<f4'))
	"f4_fortran": "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	// np.arange(2, dtype='>f4')
	"f4_big": "k05VTVBZAQB2AHsnZGVzY3InOiAnPmY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAP4AAAA==",
	// np.savez(f, x=np.arange(4, dtype='|u1'), y=np.array([0.5, -1], dtype='<f4'))
	"npz_stored": "UEsDBC0AAAAAAAAAIQAkA95Y//////////8FABQAeC5ucHkBABAAhAAAAAAAAACEAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzogJ3x1MScsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICg0LCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKAAECA1BLAwQtAAAAAAAAACEAhKma7///////////BQAUAHkubnB5AQAQAIgAAAAAAAAAiAAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICc8ZjQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgAAAD8AAIC/UEsBAi0DLQAAAAAAAAAhACQD3liEAAAAhAAAAAUAAAAAAAAAAAAAAIABAAAAAHgubnB5UEsBAi0DLQAAAAAAAAAhAISpmu+IAAAAiAAAAAUAAAAAAAAAAAAAAIABuwAAAHkubnB5UEsFBgAAAAACAAIAZgAAAHoBAAAAAA==",
	// np.savez_compressed(f, x=..., y=...), the same arrays
	"npz_deflated": "UEsDBC0AAAAIAAAAIQAkA95Y//////////8FABQAeC5ucHkBABAAhAAAAAAAAABIAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loF5Taqiuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GiY6mjoKtQoUAC4GRiZmAFBLAwQtAAAACAAAACEAhKma7///////////BQAUAHkubnB5AQAQAIgAAAAAAAAATAAAAAAAAACb7BfqGxDJyFDGUK2eklqcXKRupaBuk2airqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RpGOpo6CrUKFAAuBgYGewaGhv0AUEsBAi0DLQAAAAgAAAAhACQD3lhIAAAAhAAAAAUAAAAAAAAAAAAAAIABAAAAAHgubnB5UEsBAi0DLQAAAAgAAAAhAISpmu9MAAAAiAAAAAUAAAAAAAAAAAAAAIABfwAAAHkubnB5UEsFBgAAAAACAAIAZgAAAAIBAAAAAA==",
}

func numpyFile(t testing.TB, key string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(numpyFiles[key])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func checkErr(t *testing.T, err error, name string, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	if !strings.HasPrefix(msg, "npy: ") || !strings.Contains(msg, name) {
		t.Errorf("error %q does not start with npy: or name %q", msg, name)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q lacks %q", msg, w)
		}
	}
}

func TestDecode(t *testing.T) {
	f4 := le32(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5)
	tests := []struct {
		name  string
		data  []byte
		descr string
		shape []int
		f32   []float32 // nil: do not check
		ints  []int64   // nil: do not check
		want  []string  // error fragments; nil means success
	}{
		{name: "numpy f4 v1", data: numpyFile(t, "f4_2x3_v1"), descr: "<f4", shape: []int{2, 3}, f32: []float32{-2.5, -1.5, -0.5, 0.5, 1.5, 2.5}},
		{name: "numpy u1 v1", data: numpyFile(t, "u1_3_v1"), descr: "|u1", shape: []int{3}, f32: []float32{1, 2, 255}, ints: []int64{1, 2, 255}},
		{name: "numpy f2 scalar", data: numpyFile(t, "f2_scalar_v1"), descr: "<f2", shape: []int{}, f32: []float32{1.5}},
		{name: "numpy i8 v2", data: numpyFile(t, "i8_2_v2"), descr: "<i8", shape: []int{2}, f32: []float32{-3, 1 << 40}, ints: []int64{-3, 1 << 40}},
		{name: "numpy b1 v3", data: numpyFile(t, "b1_3_v3"), descr: "|b1", shape: []int{3}, f32: []float32{1, 0, 1}, ints: []int64{1, 0, 1}},
		{name: "v2 built", data: npyFile(2, hdr("<f4", "(2, 3)"), f4), descr: "<f4", shape: []int{2, 3}, f32: []float32{-2.5, -1.5, -0.5, 0.5, 1.5, 2.5}},
		{name: "v3 built", data: npyFile(3, hdr("<f4", "(6,)"), f4), descr: "<f4", shape: []int{6}},
		{name: "i1", data: npyFile(1, hdr("|i1", "(3,)"), []byte{0x80, 0xff, 5}), descr: "|i1", shape: []int{3}, f32: []float32{-128, -1, 5}, ints: []int64{-128, -1, 5}},
		{name: "i4", data: npyFile(1, hdr("<i4", "(2,)"), []byte{0xfe, 0xff, 0xff, 0xff, 7, 0, 0, 0}), descr: "<i4", shape: []int{2}, f32: []float32{-2, 7}, ints: []int64{-2, 7}},
		{name: "f8", data: npyFile(1, hdr("<f8", "(1,)"), binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.1))), descr: "<f8", shape: []int{1}, f32: []float32{0.1}},
		{name: "f2 specials", data: npyFile(1, hdr("<f2", "(4,)"), []byte{0x01, 0x00, 0xff, 0x7b, 0x00, 0xfc, 0x00, 0x80}), descr: "<f2", shape: []int{4},
			f32: []float32{float32(math.Ldexp(1, -24)), 65504, float32(math.Inf(-1)), float32(math.Copysign(0, -1))}},
		{name: "u1 spelled <u1", data: npyFile(1, hdr("<u1", "(1,)"), []byte{9}), descr: "|u1", shape: []int{1}},
		{name: "u1 spelled >u1", data: npyFile(1, hdr(">u1", "(1,)"), []byte{9}), descr: "|u1", shape: []int{1}},
		{name: "native f4", data: npyFile(1, hdr("=f4", "(1,)"), le32(3)), descr: "<f4", shape: []int{1}, f32: []float32{3}},
		{name: "empty array", data: npyFile(1, hdr("<f4", "(0, 32, 32, 3)"), nil), descr: "<f4", shape: []int{0, 32, 32, 3}, f32: []float32{}},
		{name: "double quotes, L suffix, no trailing comma, other order, extra key", descr: "|u1", shape: []int{2, 1},
			data: npyFile(1, `{ "shape" : (2L,1L) , "fortran_order":False,"descr":"|u1", 'extra': [1, (2, None)]}`+"   \n", []byte{1, 2})},
		{name: "shape without tuple comma", data: npyFile(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2)}", []byte{1, 2}), descr: "|u1", shape: []int{2}},
		{name: "fortran order", data: numpyFile(t, "f4_fortran"), want: []string{"Fortran order", "only C order", "np.ascontiguousarray"}},
		{name: "big endian", data: numpyFile(t, "f4_big"), want: []string{`">f4"`, "big-endian", "astype('<f4')"}},
		{name: "no byte order", data: npyFile(1, hdr("|f4", "(1,)"), le32(1)), want: []string{`"|f4"`, "no byte order"}},
		{name: "complex", data: npyFile(1, hdr("<c8", "(1,)"), make([]byte, 8)), want: []string{`unsupported dtype descr "<c8"`, "|u1"}},
		{name: "object", data: npyFile(1, hdr("|O", "(1,)"), make([]byte, 8)), want: []string{`unsupported dtype descr "|O"`}},
		{name: "structured", data: npyFile(1, "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }", make([]byte, 8)), want: []string{"structured dtype"}},
		{name: "truncated data", data: npyFile(1, hdr("<f4", "(2, 3)"), f4[:10]), want: []string{"holds 10 bytes of data, header promises 24 (shape (2, 3) of <f4)"}},
		{name: "truncated numpy file", data: numpyFile(t, "f4_2x3_v1")[:140], want: []string{"holds 12 bytes of data, header promises 24"}},
		{name: "huge shape, no data", data: npyFile(1, hdr("<f4", "(100000, 1000000)"), nil), want: []string{"holds 0 bytes of data, header promises 400000000000"}},
		{name: "absurd shape", data: npyFile(1, hdr("<f4", "(1000000000, 1000000000, 1000)"), nil), want: []string{"implausibly large"}},
		{name: "negative dim", data: npyFile(1, hdr("<f4", "(2, -3)"), nil), want: []string{"dimension -3"}},
		{name: "float dim", data: npyFile(1, hdr("<f4", "(2.5,)"), nil), want: []string{"malformed header"}},
		{name: "truncated header", data: numpyFile(t, "f4_2x3_v1")[:60], want: []string{"truncated header: 50 of 118 bytes"}},
		{name: "truncated header length", data: []byte("\x93NUMPY\x02\x00\x10"), want: []string{"truncated header length: 1 of 4 bytes"}},
		{name: "truncated magic", data: []byte("\x93NUM"), want: []string{"truncated: 4 bytes"}},
		{name: "empty", data: nil, want: []string{"not a .npy file"}},
		{name: "not npy", data: []byte("hello world, this is text"), want: []string{"not a .npy file", `"hello wo"`}},
		{name: "npz given", data: numpyFile(t, "npz_stored"), want: []string{"not a .npy file", "ReadNPZ"}},
		{name: "version 4", data: append([]byte(Magic), 4, 0, 0, 0, 0, 0), want: []string{"unsupported .npy format version 4.0"}},
		{name: "version 1.1", data: append([]byte(Magic), 1, 1, 0, 0), want: []string{"unsupported .npy format version 1.1"}},
		{name: "header too long", data: append([]byte(Magic), 2, 0, 0xff, 0xff, 0xff, 0x7f), want: []string{"header length 2147483647 is implausibly large"}},
		{name: "missing shape", data: npyFile(1, "{'descr': '<f4', 'fortran_order': False}", nil), want: []string{"lacks the key 'shape'"}},
		{name: "not a dict", data: npyFile(1, "('<f4', False, (1,))", nil), want: []string{"not a dict"}},
		{name: "unterminated dict", data: npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", nil), want: []string{"malformed header", "unterminated"}},
		{name: "eval bait", data: npyFile(1, "{'descr': __import__('os').system('true'), 'fortran_order': False, 'shape': (1,)}", nil), want: []string{"malformed header", "unexpected"}},
		{name: "fortran_order not bool", data: npyFile(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", le32(1)), want: []string{"fortran_order is 0"}},
		{name: "trailing garbage in header", data: npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", le32(1)), want: []string{"after the literal"}},
		{name: "repeated key", data: npyFile(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", le32(1)), want: []string{"repeated"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTemp(t, "a.npy", tt.data)
			fromFile, err1 := ReadFile(path)
			fromReader, err2 := Decode(bytes.NewReader(tt.data), "stream.npy")
			if tt.want != nil {
				checkErr(t, err1, path, tt.want)
				checkErr(t, err2, "stream.npy", tt.want)
				return
			}
			for _, err := range []error{err1, err2} {
				if err != nil {
					t.Fatal(err)
				}
			}
			for _, a := range []*Array{fromFile, fromReader} {
				if a.Descr != tt.descr || !reflect.DeepEqual(a.Shape, tt.shape) {
					t.Fatalf("got %s %v, want %s %v", a.Descr, a.Shape, tt.descr, tt.shape)
				}
				if len(a.Data) != a.Len()*dtypes[a.Descr[1:]].size {
					t.Fatalf("%d data bytes for %s %v", len(a.Data), a.Descr, a.Shape)
				}
				if tt.f32 != nil {
					got, err := a.Float32()
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, tt.f32) || (len(got) > 0 && math.Signbit(float64(got[len(got)-1])) != math.Signbit(float64(tt.f32[len(got)-1]))) {
						t.Fatalf("Float32() = %v, want %v", got, tt.f32)
					}
				}
				if tt.ints != nil {
					got, err := a.Ints()
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, tt.ints) {
						t.Fatalf("Ints() = %v, want %v", got, tt.ints)
					}
				}
			}
		})
	}
}

func TestIntsOfFloats(t *testing.T) {
	a := NewFloat32([]int{2}, []float32{1, 2})
	if _, err := a.Ints(); err == nil || !strings.Contains(err.Error(), "use Float32") {
		t.Fatalf("Ints on <f4: err = %v", err)
	}
	bad := &Array{Descr: "<f4", Shape: []int{3}, Data: make([]byte, 8)}
	if _, err := bad.Float32(); err == nil || !strings.Contains(err.Error(), "needs 12 bytes, Data holds 8") {
		t.Fatalf("Float32 on short Data: err = %v", err)
	}
}

func TestReadFileTrailing(t *testing.T) {
	data := append(numpyFile(t, "u1_3_v1"), numpyFile(t, "f4_2x3_v1")...)
	path := writeTemp(t, "two.npy", data)
	_, err := ReadFile(path)
	checkErr(t, err, path, []string{"152 bytes after the 3 bytes of data", "Decode"})

	// Decode reads arrays saved one after another in turn.
	r := bytes.NewReader(data)
	a, err := Decode(r, "two.npy")
	if err != nil || a.Descr != "|u1" {
		t.Fatalf("first array: %v, %v", a, err)
	}
	b, err := Decode(r, "two.npy")
	if err != nil || b.Descr != "<f4" || !reflect.DeepEqual(b.Shape, []int{2, 3}) {
		t.Fatalf("second array: %v, %v", b, err)
	}
	if r.Len() != 0 {
		t.Fatalf("%d bytes left", r.Len())
	}
}

func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.npy")
	_, err := ReadFile(path)
	checkErr(t, err, path, []string{"no such file"})
	_, err = ReadNPZ(path)
	checkErr(t, err, path, []string{"no such file"})
}

// TestFloat16 converts every binary16 value and checks it against the
// definition.
func TestFloat16(t *testing.T) {
	a := &Array{Descr: "<f2", Shape: []int{1 << 16}, Data: make([]byte, 2<<16)}
	for i := range 1 << 16 {
		binary.LittleEndian.PutUint16(a.Data[2*i:], uint16(i))
	}
	all, err := a.Float32()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1 << 16 {
		h := uint16(i)
		sign, exp, mant := h>>15, int(h>>10&0x1f), float64(h&0x3ff)
		var want float64
		switch exp {
		case 0:
			want = math.Ldexp(mant, -24)
		case 0x1f:
			want = math.Inf(1)
			if mant != 0 {
				want = math.NaN()
			}
		default:
			want = math.Ldexp(1+mant/1024, exp-15)
		}
		if sign == 1 {
			want = -want
		}
		got := all[i]
		if math.IsNaN(want) {
			bits := math.Float32bits(got)
			if !math.IsNaN(float64(got)) || bits>>31 != uint32(sign) || bits>>13&0x3ff != uint32(h&0x3ff) {
				t.Fatalf("%#04x: got %v (%#08x), want NaN with sign %d and payload", h, got, bits, sign)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != (sign == 1) {
			t.Fatalf("%#04x: got %v, want %v", h, got, want)
		}
	}
}

func zipOf(t *testing.T, method uint16, members map[string][]byte, order []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, name := range order {
		f, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(members[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadNPZ(t *testing.T) {
	x := npyFile(1, hdr("|u1", "(4,)"), []byte{0, 1, 2, 3})
	y := npyFile(1, hdr("<f4", "(2,)"), le32(0.5, -1))
	members := map[string][]byte{"x.npy": x, "y.npy": y, "notes.txt": []byte("ignored"), "dir/z.npy": y}
	order := []string{"x.npy", "notes.txt", "y.npy", "dir/z.npy"}
	for _, tt := range []struct {
		name string
		data []byte
		keys []string
	}{
		{"numpy savez", numpyFile(t, "npz_stored"), []string{"x", "y"}},
		{"numpy savez_compressed", numpyFile(t, "npz_deflated"), []string{"x", "y"}},
		{"built stored", zipOf(t, zip.Store, members, order), []string{"x", "y", "dir/z"}},
		{"built deflated", zipOf(t, zip.Deflate, members, order), []string{"x", "y", "dir/z"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ReadNPZ(writeTemp(t, "a.npz", tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if len(m) != len(tt.keys) {
				t.Fatalf("got %d arrays, want %v", len(m), tt.keys)
			}
			for _, k := range tt.keys {
				if m[k] == nil {
					t.Fatalf("no array %q", k)
				}
			}
			if got, _ := m["x"].Ints(); !reflect.DeepEqual(got, []int64{0, 1, 2, 3}) {
				t.Errorf("x = %v", got)
			}
			if got, _ := m["y"].Float32(); !reflect.DeepEqual(got, []float32{0.5, -1}) {
				t.Errorf("y = %v", got)
			}
		})
	}

	short := map[string][]byte{"x.npy": x[:len(x)-1]}
	path := writeTemp(t, "short.npz", zipOf(t, zip.Deflate, short, []string{"x.npy"}))
	_, err := ReadNPZ(path)
	checkErr(t, err, path+"[x.npy]", []string{"holds 3 bytes of data, header promises 4"})

	long := map[string][]byte{"x.npy": append(append([]byte{}, x...), 0, 0)}
	path = writeTemp(t, "long.npz", zipOf(t, zip.Store, long, []string{"x.npy"}))
	_, err = ReadNPZ(path)
	checkErr(t, err, path+"[x.npy]", []string{"2 bytes after the 4 bytes of data"})

	bad := map[string][]byte{"x.npy": []byte("not numpy")}
	path = writeTemp(t, "bad.npz", zipOf(t, zip.Store, bad, []string{"x.npy"}))
	_, err = ReadNPZ(path)
	checkErr(t, err, path+"[x.npy]", []string{"not a .npy file"})

	path = writeTemp(t, "plain.npz", x)
	_, err = ReadNPZ(path)
	checkErr(t, err, path, []string{"not a .npz (zip) archive"})

	corrupt := numpyFile(t, "npz_stored")
	corrupt[bytes.Index(corrupt, []byte("\n\x00\x01\x02\x03"))+2] ^= 0x40 // a data byte of x.npy; the CRC no longer matches
	path = writeTemp(t, "corrupt.npz", corrupt)
	_, err = ReadNPZ(path)
	checkErr(t, err, path+"[x.npy]", []string{"checksum"})
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	// Write lays files out byte for byte as numpy.save does.
	for _, key := range []string{"f4_2x3_v1", "u1_3_v1", "f2_scalar_v1"} {
		want := numpyFile(t, key)
		a, err := Decode(bytes.NewReader(want), key)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, key+".npy")
		if err := Write(path, a); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Write produced\n%q\nnumpy.save\n%q", key, got, want)
		}
	}

	// Round trip, overwriting an existing file, for each type and some shapes.
	path := filepath.Join(dir, "x.npy")
	for _, a := range []*Array{
		NewFloat32([]int{2, 1, 3}, []float32{1, 2, 3, 4, 5, float32(math.Inf(-1))}),
		NewFloat32([]int{0, 5}, nil),
		NewFloat32(nil, []float32{7}),
		{Descr: "|u1", Shape: []int{123456789012, 0}, Data: []byte{}},
		{Descr: "<i8", Shape: []int{1}, Data: make([]byte, 8)},
		{Descr: "=i4", Shape: []int{2}, Data: make([]byte, 8)},
		{Descr: "|b1", Shape: []int{1}, Data: []byte{1}},
		{Descr: "<f2", Shape: []int{1}, Data: []byte{0, 0x3c}},
	} {
		if err := Write(path, a); err != nil {
			t.Fatal(err)
		}
		b, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		canon, _, _ := canonical(a.Descr)
		if b.Descr != canon || b.Len() != a.Len() || len(b.Shape) != len(a.Shape) || !bytes.Equal(b.Data, a.Data) {
			t.Fatalf("wrote %s %v, read %s %v", a.Descr, a.Shape, b.Descr, b.Shape)
		}
		raw, _ := os.ReadFile(path)
		if off := len(raw) - len(a.Data); off%64 != 0 {
			t.Errorf("data of %v starts at offset %d, not a multiple of 64", a.Shape, off)
		}
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode of written file: %v, %v", st.Mode(), err)
	}

	// Invalid arrays are refused and leave the old file alone.
	before, _ := os.ReadFile(path)
	for _, a := range []*Array{
		{Descr: "<f4", Shape: []int{3}, Data: make([]byte, 8)},
		{Descr: ">f4", Shape: []int{1}, Data: make([]byte, 4)},
		{Descr: "<c8", Shape: []int{1}, Data: make([]byte, 8)},
		{Descr: "<f4", Shape: []int{-1}, Data: nil},
	} {
		if err := Write(path, a); err == nil {
			t.Errorf("Write(%s %v, %d bytes) succeeded", a.Descr, a.Shape, len(a.Data))
		} else {
			checkErr(t, err, path, nil)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a refused Write changed the file")
	}
	err := Write(filepath.Join(dir, "no", "such", "dir.npy"), NewFloat32([]int{1}, []float32{1}))
	checkErr(t, err, "dir.npy", []string{"no such file"})

	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestNewFloat32Panics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewFloat32 with 3 values for shape (2, 2) did not panic")
		}
	}()
	NewFloat32([]int{2, 2}, []float32{1, 2, 3})
}

func FuzzDecode(f *testing.F) {
	for _, key := range []string{"f4_2x3_v1", "u1_3_v1", "f2_scalar_v1", "i8_2_v2", "b1_3_v3", "f4_fortran", "f4_big"} {
		f.Add(numpyFile(f, key))
	}
	f.Add(npyFile(1, `{ "shape" : (2L,1L) , "fortran_order":False,"descr":"|u1", 'extra': [1, (2, None)]}`, []byte{1, 2}))
	f.Add(npyFile(1, hdr("<f4", "(1000000, 1000000)"), nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		a, err := Decode(r, "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "npy: fuzz: ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		_, dt, err := canonical(a.Descr)
		if err != nil {
			t.Fatalf("decoded descr %q: %v", a.Descr, err)
		}
		if len(a.Data) != a.Len()*dt.size {
			t.Fatalf("%d bytes for %s %v", len(a.Data), a.Descr, a.Shape)
		}
		if v, err := a.Float32(); err != nil || len(v) != a.Len() {
			t.Fatalf("Float32: %d values, %v", len(v), err)
		}
		if dt.kind != 'f' {
			if v, err := a.Ints(); err != nil || len(v) != a.Len() {
				t.Fatalf("Ints: %d values, %v", len(v), err)
			}
		}
		// What was read is what Write writes back, and reads again the same.
		h, err := header(a)
		if err != nil {
			return // a header too long for format 1.0
		}
		b, err := Decode(bytes.NewReader(append(h, a.Data...)), "rewritten")
		if err != nil || b.Descr != a.Descr || !reflect.DeepEqual(b.Shape, a.Shape) || !bytes.Equal(b.Data, a.Data) {
			t.Fatalf("rewritten array differs: %v", err)
		}
	})
}

// WriteNPZ writes what ReadNPZ reads back, member by member.
func TestWriteNPZRoundTrip(t *testing.T) {
	want := map[string]*Array{
		"input_ids": {Descr: "<i8", Shape: []int{2, 3}, Data: make([]byte, 48)},
		"mask":      {Descr: "|b1", Shape: []int{2, 3}, Data: []byte{1, 1, 0, 1, 0, 0}},
		"x":         NewFloat32([]int{1, 2}, []float32{0.5, -2}),
	}
	want["input_ids"].Data[8] = 7
	path := filepath.Join(t.TempDir(), "a.npz")
	if err := WriteNPZ(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back %v, wrote %v", got, want)
	}
	if err := WriteNPZ(path, map[string]*Array{"bad": {Descr: "<i8", Shape: []int{2}, Data: make([]byte, 3)}}); err == nil || !strings.Contains(err.Error(), "a.npz[bad.npy]") {
		t.Errorf("a bad member: %v", err)
	}
}
