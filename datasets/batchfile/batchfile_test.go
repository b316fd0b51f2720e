package batchfile

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fileBytes builds a batch file with the given header and contents.
func fileBytes(hdr [4]int32, images, labels []float32) []byte {
	var b []byte
	for _, v := range hdr {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	for _, v := range images {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	for _, v := range labels {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// data returns n samples of vol values, all distinct, and labels i%10.
func data(n, vol int) ([]float32, []int) {
	images := make([]float32, n*vol)
	for i := range images {
		images[i] = float32(i)*0.25 - 7
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 10
	}
	return images, labels
}

func checkErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	if !strings.HasPrefix(msg, "batchfile: ") {
		t.Errorf("error %q lacks the package prefix", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q lacks %q", msg, w)
		}
	}
}

func TestWriteRead(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "batches", "batch")
	shape := [3]int{3, 2, 4}
	vol := 24
	images, labels := data(150, vol)
	if err := Write(prefix, 50, images, labels, shape); err != nil {
		t.Fatal(err)
	}
	s, err := Open(prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Len() != 150 || s.Files() != 3 || s.FileLen() != 50 || !reflect.DeepEqual(s.SampleShape(), []int{3, 2, 4}) {
		t.Fatalf("Len %d Files %d FileLen %d SampleShape %v", s.Len(), s.Files(), s.FileLen(), s.SampleShape())
	}
	if s.Path(2) != prefix+"2" {
		t.Errorf("Path(2) = %s", s.Path(2))
	}
	// Batches of 32 do not divide 50: batches 1, 3 and 4 cross files.
	for first := 0; first < 150; first += 32 {
		n := min(32, 150-first)
		got := make([]float32, n*vol)
		gotLabels := make([]int, n)
		if err := s.Read(first, n, got, gotLabels); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, images[first*vol:(first+n)*vol]) || !reflect.DeepEqual(gotLabels, labels[first:first+n]) {
			t.Errorf("Read(%d, %d) differs", first, n)
		}
	}
	// One run over all three files, and an empty one.
	got := make([]float32, 60*vol)
	gotLabels := make([]int, 60)
	if err := s.Read(45, 60, got, gotLabels); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, images[45*vol:105*vol]) || !reflect.DeepEqual(gotLabels, labels[45:105]) {
		t.Error("Read(45, 60) differs")
	}
	if err := s.Read(150, 0, nil, nil); err != nil {
		t.Errorf("empty read: %v", err)
	}
	checkErr(t, s.Read(140, 11, make([]float32, 11*vol), make([]int, 11)), "samples [140,151) requested", "hold 150 (3 files of 50)")
	checkErr(t, s.Read(0, 2, make([]float32, vol), make([]int, 2)), "needs 48 values and 2 labels, got room for 24 and 2")

	// Each file decodes to its part.
	f, err := ReadFile(prefix + "1")
	if err != nil {
		t.Fatal(err)
	}
	if f.N != 50 || f.C != 3 || f.H != 2 || f.W != 4 || !reflect.DeepEqual(f.Images, images[50*vol:100*vol]) || f.Labels[0] != float32(labels[50]) {
		t.Errorf("ReadFile: %d %d %d %d", f.N, f.C, f.H, f.W)
	}
	raw, _ := os.ReadFile(prefix + "0")
	if len(raw) != HeaderSize+4*50*(vol+1) {
		t.Errorf("file size %d", len(raw))
	}

	// No temporary files are left.
	entries, _ := os.ReadDir(filepath.Dir(prefix))
	if len(entries) != 3 {
		t.Errorf("%d entries in the batch folder", len(entries))
	}
}

func TestSuffix(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "calib_")
	images, labels := data(4, 1)
	if err := WriteSuffix(prefix, ".batch", 2, images, labels, [3]int{1, 1, 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(prefix + "1.batch"); err != nil {
		t.Fatal(err)
	}
	s, err := OpenSuffix(prefix, ".batch")
	if err != nil || s.Len() != 4 {
		t.Fatalf("OpenSuffix: %v", err)
	}
	_, err = Open(prefix)
	checkErr(t, err, prefix+"0: no such file", "batches/batch0")
}

func TestOpenErrors(t *testing.T) {
	good := fileBytes([4]int32{2, 1, 1, 2}, []float32{1, 2, 3, 4}, []float32{0, 1})
	tests := []struct {
		name  string
		files [][]byte // batch0, batch1, ...; nil = absent
		want  []string // fragments; "%p" stands for the prefix
	}{
		{"dims differ", [][]byte{good, fileBytes([4]int32{2, 1, 2, 1}, []float32{1, 2, 3, 4}, []float32{0, 1})},
			[]string{"%p1: header N,C,H,W = 2,1,2,1 differs from %p0's N,C,H,W = 2,1,1,2", "same dimensions"}},
		{"dims differ, short", [][]byte{good, fileBytes([4]int32{2, 3, 1, 2}, nil, nil)},
			[]string{"%p1: header N,C,H,W = 2,3,1,2 differs from %p0's"}},
		{"N differs", [][]byte{good, fileBytes([4]int32{1, 1, 1, 2}, []float32{1, 2}, []float32{0})},
			[]string{"%p1: header N,C,H,W = 1,1,1,2 differs from %p0's N,C,H,W = 2,1,1,2"}},
		{"truncated data", [][]byte{good, good[:30]},
			[]string{"%p1: truncated: 30 bytes, the header (N,C,H,W = 2,1,1,2: 4 image values and 2 labels, float32) needs 40"}},
		{"no labels", [][]byte{good[:32]}, []string{"%p0: truncated: 32 bytes", "needs 40"}},
		{"extra", [][]byte{append(good[:40:40], 0)}, []string{"%p0: 41 bytes, 1 more than the header"}},
		{"short header", [][]byte{good[:10]}, []string{"%p0: truncated header: 10 of 16 bytes"}},
		{"zero", [][]byte{fileBytes([4]int32{0, 1, 1, 1}, nil, nil)}, []string{"%p0: absurd header 0,1,1,1", "every dimension must be positive", "is this a TensorRT batch file?"}},
		{"negative", [][]byte{fileBytes([4]int32{2, -3, 1, 1}, nil, nil)}, []string{"absurd header 2,-3,1,1"}},
		{"huge", [][]byte{fileBytes([4]int32{1 << 30, 3, 224, 224}, nil, nil)}, []string{"absurd header 1073741824,3,224,224", "exceed the 4294967296-byte limit"}},
		{"big-endian", [][]byte{binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 50), 3), 32), 32)},
			[]string{"absurd header 838860800,50331648,536870912,536870912", "read big-endian they would be 50,3,32,32"}},
		{"gap", [][]byte{good, nil, good}, []string{"%p1 is missing but %p2 exists", "without gaps"}},
		{"none", nil, []string{"%p0: no such file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix := filepath.Join(t.TempDir(), "batch")
			for k, b := range tc.files {
				if b != nil {
					if err := os.WriteFile(Name(prefix, "", k), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			_, err := Open(prefix)
			var want []string
			for _, w := range tc.want {
				want = append(want, strings.ReplaceAll(w, "%p", prefix))
			}
			checkErr(t, err, want...)
			// Decode reports the same of a single file.
			if len(tc.files) == 1 {
				_, derr := Decode(bytes.NewReader(tc.files[0]), prefix+"0")
				checkErr(t, derr, want...)
			}
		})
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "b0"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Open(filepath.Join(dir, "b"))
	checkErr(t, err, "b0 is not a regular file")
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name           string
		images, labels []float32
		want           string
	}{
		{"fraction", []float32{1, 2}, []float32{3, 2.5}, "%p1: label of image 1 (sample 3 of the stream) is 2.5, not a non-negative integer"},
		{"negative", []float32{1, 2}, []float32{-1, 0}, "%p1: label of image 0 (sample 2 of the stream) is -1"},
		{"nan label", []float32{1, 2}, []float32{float32(math.NaN()), 0}, "label of image 0 (sample 2 of the stream) is NaN"},
		{"huge label", []float32{1, 2}, []float32{1e10, 0}, "label of image 0 (sample 2 of the stream) is 1e+10"},
		{"nan image", []float32{1, float32(math.Inf(-1))}, []float32{0, 0}, "%p1: image 1 (sample 3 of the stream) holds -Inf at value 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix := filepath.Join(t.TempDir(), "batch")
			os.WriteFile(prefix+"0", fileBytes([4]int32{2, 1, 1, 1}, []float32{5, 6}, []float32{0, 1}), 0o644)
			os.WriteFile(prefix+"1", fileBytes([4]int32{2, 1, 1, 1}, tc.images, tc.labels), 0o644)
			s, err := Open(prefix)
			if err != nil {
				t.Fatal(err)
			}
			images, labels := make([]float32, 4), make([]int, 4)
			checkErr(t, s.Read(0, 4, images, labels), strings.ReplaceAll(tc.want, "%p", prefix))
			// Without labels, only the image values are checked.
			if err := s.Read(0, 4, images, nil); (err == nil) != strings.Contains(tc.want, "label") {
				t.Errorf("Read without labels: %v", err)
			}
			// File 0 alone reads.
			if err := s.Read(0, 2, images, labels); err != nil || images[0] != 5 || labels[1] != 1 {
				t.Errorf("file 0: %v %v %v", images, labels, err)
			}
		})
	}

	// A file cut short after Open.
	prefix := filepath.Join(t.TempDir(), "batch")
	images, labels := data(4, 2)
	if err := Write(prefix, 2, images, labels, [3]int{2, 1, 1}); err != nil {
		t.Fatal(err)
	}
	s, err := Open(prefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(prefix+"1", 20); err != nil {
		t.Fatal(err)
	}
	checkErr(t, s.Read(2, 2, make([]float32, 4), make([]int, 2)), prefix+"1: truncated since Open")
	// -0 is label 0.
	os.WriteFile(prefix+"1", fileBytes([4]int32{2, 2, 1, 1}, []float32{1, 2, 3, 4}, []float32{float32(math.Copysign(0, -1)), 7}), 0o644)
	got := make([]int, 2)
	if err := s.Read(2, 2, make([]float32, 4), got); err != nil || got[0] != 0 || got[1] != 7 {
		t.Errorf("labels %v, %v", got, err)
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "b")
	images, labels := data(6, 2)
	shape := [3]int{2, 1, 1}
	tests := []struct {
		name   string
		batch  int
		images []float32
		labels []int
		shape  [3]int
		want   string
	}{
		{"not a multiple", 4, images, labels, shape, "6 samples do not fill files of 4 (every batch file must hold the same N): drop the last 2"},
		{"values", 3, images[:11], labels, shape, "11 image values for 6 samples of 2x1x1, want 12"},
		{"label", 3, images, []int{0, 1, 2, -1, 0, 0}, shape, "label -1 of sample 3 out of range [0, 16777216]"},
		{"batch", 0, images, labels, shape, "batch size 0: must be positive"},
		{"shape", 3, images, labels, [3]int{2, 0, 1}, "shape 2x0x1"},
		{"empty", 3, nil, nil, shape, "no samples"},
		{"huge", 3, images, labels, [3]int{1 << 20, 1 << 20, 1}, "exceed"},
	}
	for _, tc := range tests {
		err := Write(prefix, tc.batch, tc.images, tc.labels, tc.shape)
		checkErr(t, err, "writing "+prefix+"0...", tc.want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed writes left %d files", len(entries))
	}
	// A longer earlier set: b0..b5 of 1, then 3 files of 2 would leave b3.
	if err := Write(prefix, 1, images, labels, shape); err != nil {
		t.Fatal(err)
	}
	checkErr(t, Write(prefix, 2, images, labels, shape), prefix+"3 exists, left from an earlier set")
	// Rewriting a set of the same length is fine.
	if err := Write(prefix, 1, images, labels, shape); err != nil {
		t.Fatal(err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(fileBytes([4]int32{2, 1, 1, 2}, []float32{1, 2, 3, float32(math.NaN())}, []float32{0, 1.5}))
	f.Add(fileBytes([4]int32{1, 3, 2, 2}, make([]float32, 12), []float32{7}))
	f.Add(fileBytes([4]int32{2, 1, 1, 2}, []float32{1}, nil))
	f.Add(fileBytes([4]int32{1 << 30, 1 << 30, 1, 1}, nil, nil))
	f.Add([]byte{1, 0, 0})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Decode(bytes.NewReader(b), "fuzz")
		// Open must agree with Decode on a file of the same bytes.
		prefix := filepath.Join(dir, "b")
		if werr := os.WriteFile(prefix+"0", b, 0o644); werr != nil {
			t.Fatal(werr)
		}
		s, oerr := Open(prefix)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "batchfile: fuzz: ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error %q", err)
			}
			if oerr == nil {
				t.Fatalf("Open accepts what Decode rejects: %v", err)
			}
			return
		}
		if oerr != nil {
			t.Fatalf("Open: %v, Decode accepted", oerr)
		}
		defer s.Close()
		if file.N <= 0 || len(file.Images) != file.N*file.C*file.H*file.W || len(file.Labels) != file.N {
			t.Fatalf("%d values, %d labels for %d,%d,%d,%d", len(file.Images), len(file.Labels), file.N, file.C, file.H, file.W)
		}
		img := make([]float32, len(file.Images))
		lbl := make([]int, file.N)
		if s.Len() != file.N || !reflect.DeepEqual(s.SampleShape(), []int{file.C, file.H, file.W}) {
			t.Fatalf("stream %d of %v, file %d", s.Len(), s.SampleShape(), file.N)
		}
		if rerr := s.Read(0, file.N, img, lbl); rerr == nil {
			for i, v := range img {
				if math.Float32bits(v) != math.Float32bits(file.Images[i]) {
					t.Fatalf("value %d: stream %v, Decode %v", i, v, file.Images[i])
				}
			}
			for i, l := range lbl {
				if float32(l) != file.Labels[i] {
					t.Fatalf("label %d: stream %d, Decode %v", i, l, file.Labels[i])
				}
			}
		} else if !strings.Contains(rerr.Error(), "label of image") && !strings.Contains(rerr.Error(), " holds ") {
			t.Fatalf("Read: %v", rerr)
		}
		// Re-encoding gives the same bytes.
		var hdr [4]int32 = [4]int32{int32(file.N), int32(file.C), int32(file.H), int32(file.W)}
		if !bytes.Equal(fileBytes(hdr, file.Images, file.Labels), b) {
			t.Fatal("re-encoded file differs")
		}
	})
}
