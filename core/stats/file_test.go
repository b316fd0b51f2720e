package stats

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/calib"
)

// kinds are the statistics a file keeps, small enough to read in a test.
var kinds = []calib.Info{
	{Statistics: calib.AbsHistogram, Bins: 16},
	{Statistics: calib.SignedHistogram, Bins: 16},
	{Statistics: calib.MinMax},
}

// batchValues are the values of tensor t in batch b of a made-up
// calibration: batch-dependent ranges, both signs, zeros of both signs.
func batchValues(t, b int) []float32 {
	r := rand.New(rand.NewPCG(uint64(t), uint64(b)))
	v := make([]float32, 50+b)
	scale := float32(math.Ldexp(1, b%5-2)) * float32(t+1)
	for i := range v {
		v[i] = float32(r.NormFloat64()) * scale
	}
	v[0], v[1] = 0, float32(math.Copysign(0, -1))
	return v
}

var tensorNames = []string{"data", "conv1", "relu1"}

// shardFile is the file of batches [from, to) of a 10-batch calibration.
func shardFile(t testing.TB, need calib.Info, from, to int) *File {
	t.Helper()
	statistics, bins, err := KindKey(need)
	if err != nil {
		t.Fatal(err)
	}
	f := &File{Key: Key{ModelSHA256: "ab12", Dataset: "npy x=a.npy", BatchSize: 50, Batches: 10, Statistics: statistics, Bins: bins}, From: from, To: to}
	for i, name := range tensorNames {
		s, err := NewTensor(name, need)
		if err != nil {
			t.Fatal(err)
		}
		for b := from; b < to; b++ {
			s.Add(batchValues(i, b))
		}
		f.Tensors = append(f.Tensors, s)
	}
	return f
}

func encode(t testing.TB, f *File) []byte {
	t.Helper()
	data, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestMergeEqualsWhole: shards of any sizes, merged in any order or
// tree, give the bytes of the file of all batches.
func TestMergeEqualsWhole(t *testing.T) {
	for _, need := range kinds {
		whole := encode(t, shardFile(t, need, 0, 10))
		for _, cuts := range [][]int{{0, 10}, {0, 5, 10}, {0, 3, 6, 10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 10}, {0, 9, 10}} {
			var shards []*File
			for i := 1; i < len(cuts); i++ {
				shards = append(shards, shardFile(t, need, cuts[i-1], cuts[i]))
			}
			rand.Shuffle(len(shards), func(i, j int) { shards[i], shards[j] = shards[j], shards[i] })
			m, err := Merge(shards)
			if err != nil {
				t.Fatalf("%v %v: %v", need.Statistics, cuts, err)
			}
			if !m.Complete() || !bytes.Equal(encode(t, m), whole) {
				t.Errorf("%v, shards %v: the merge differs from the whole calibration's file", need.Statistics, cuts)
			}
			if len(shards) > 2 {
				// A merge tree: the first two merged, then the rest.
				left, err := Merge(shards[:2])
				if err != nil {
					continue // not adjacent after the shuffle
				}
				m, err := Merge(append([]*File{left}, shards[2:]...))
				if err != nil || !bytes.Equal(encode(t, m), whole) {
					t.Errorf("%v, shards %v as a tree: %v", need.Statistics, cuts, err)
				}
			}
		}
	}
}

// TestMergeRefuses: files of other runs, missing or repeated shards.
func TestMergeRefuses(t *testing.T) {
	need := kinds[0]
	named := func(f *File, name string) *File { f.name = name; return f }
	a := func() *File { return named(shardFile(t, need, 0, 5), "a.stats") }
	b := func() *File { return named(shardFile(t, need, 5, 10), "b.stats") }
	for _, c := range []struct {
		what  string
		files []*File
		want  string
	}{
		{"model", []*File{a(), func() *File { f := b(); f.ModelSHA256 = "cd34"; return f }()}, "a.stats and b.stats are not statistics of one calibration: other models"},
		{"data options", []*File{a(), func() *File { f := b(); f.Dataset = "npy x=b.npy"; return f }()}, `other data or data options ("npy x=a.npy" and "npy x=b.npy")`},
		{"batches", []*File{a(), func() *File { f := b(); f.BatchSize = 25; return f }()}, "other calibration batches"},
		{"statistics", []*File{a(), named(shardFile(t, kinds[1], 5, 10), "b.stats")}, "other statistics (abs-histogram statistics of 16 bins, and signed-histogram statistics of 16 bins)"},
		{"tensors", []*File{a(), func() *File { f := b(); f.Tensors[1].Name = "x"; return f }()}, `tensor 1 is "conv1" in one and "x" in the other`},
		{"repeated", []*File{a(), b(), named(shardFile(t, need, 5, 10), "b2.stats")}, "b.stats (batches 5-9) and b2.stats (batches 5-9) overlap"},
		{"missing", []*File{a(), named(shardFile(t, need, 7, 10), "c.stats")}, "batches 5-6 of 10 are in none of the files: a shard is missing (between a.stats and c.stats)"},
		{"none", nil, "no statistics files"},
	} {
		if _, err := Merge(c.files); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.what, err, c.want)
		}
	}
	// A merge that leaves the last batches out is not complete.
	if m, err := Merge([]*File{a()}); err != nil || m.Complete() {
		t.Errorf("one shard of two: complete %v, %v", m.Complete(), err)
	}
}

// reseal recomputes the checksum of a file whose body a test changed.
func reseal(data []byte) []byte {
	body := data[:len(data)-sha256.Size]
	sum := sha256.Sum256(body)
	return append(body, sum[:]...)
}

// TestDecodeRefuses: truncated, tampered and inconsistent files.
func TestDecodeRefuses(t *testing.T) {
	good := encode(t, shardFile(t, kinds[0], 2, 4))
	if _, err := Decode(good); err != nil {
		t.Fatal(err)
	}
	hdr := bytes.Index(good, []byte(`"from":2`))
	for _, c := range []struct {
		what string
		data []byte
		want string
	}{
		{"empty", nil, "does not start with"},
		{"other file", []byte("TRT-8601-EntropyCalibration2\n"), "does not start with"},
		{"truncated", good[:len(good)-100], "checksum does not match"},
		{"header only", good[:len(magic)+3], "truncated"},
		{"tampered", func() []byte { d := bytes.Clone(good); d[len(d)/2] ^= 1; return d }(), "checksum does not match"},
		{"format", func() []byte {
			d := bytes.Clone(good)
			binary.LittleEndian.PutUint32(d[len(magic):], 2)
			return reseal(d)
		}(), "format 2; this int8cal reads format 1"},
		{"batches", func() []byte {
			d := bytes.Clone(good)
			copy(d[hdr:], `"from":5`)
			return reseal(d)
		}(), "batches 5 to 4 of 10"},
		{"trailing", reseal(append(bytes.Clone(good[:len(good)-sha256.Size]), make([]byte, 5+sha256.Size)...)), "after the last tensor"},
	} {
		_, err := Decode(c.data)
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.what, err, c.want)
		}
	}
}

func TestFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, need := range kinds {
		f := shardFile(t, need, 3, 7)
		path := filepath.Join(dir, "s.stats")
		if err := WriteFile(path, f); err != nil {
			t.Fatal(err)
		}
		back, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if back.Name() != path || !bytes.Equal(encode(t, back), encode(t, f)) {
			t.Errorf("%v: read back differs", need.Statistics)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bad"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(filepath.Join(dir, "bad")); err == nil || !strings.Contains(err.Error(), "statistics file "+filepath.Join(dir, "bad")) {
		t.Errorf("a bad file's error names it: %v", err)
	}
}

// TestMinMaxFromHistogram: a histogram gives a min-max calibrator the
// statistics min-max collection gives, -0, +0 and NaN-free values alike.
func TestMinMaxFromHistogram(t *testing.T) {
	for _, need := range kinds[:2] {
		h, mm := shardFile(t, need, 0, 10), shardFile(t, kinds[2], 0, 10)
		a, err := h.Calib(calib.Info{Statistics: calib.MinMax})
		if err != nil {
			t.Fatal(err)
		}
		b, err := mm.Calib(calib.Info{Statistics: calib.MinMax})
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if a[i].Name != b[i].Name || a[i].Count != b[i].Count || math.Float32bits(a[i].Min) != math.Float32bits(b[i].Min) || math.Float32bits(a[i].Max) != math.Float32bits(b[i].Max) {
				t.Errorf("%v: %+v from the histogram, %+v from min-max", need.Statistics, a[i], b[i])
			}
		}
	}
	// The other way round there is nothing to give.
	if _, err := shardFile(t, kinds[2], 0, 1).Calib(kinds[0]); err == nil || !strings.Contains(err.Error(), "they are min-max statistics, the calibrator asks for abs-histogram statistics of 16 bins") {
		t.Errorf("histogram from min-max: %v", err)
	}
}

// TestMinMaxTensor: counts, non-finite values and the order of zeros.
func TestMinMaxTensor(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	var a, b Tensor
	a.Add([]float32{nan, inf})
	a.Add([]float32{0, 2})
	b.Add([]float32{negZero, 1, -inf})
	b.Add(nil)
	if err := a.Merge(&b); err != nil {
		t.Fatal(err)
	}
	if a.Count != 7 || a.NaN != 1 || a.Inf != 2 || !math.Signbit(float64(a.Min)) || a.Max != 2 {
		t.Errorf("got %+v", a)
	}
	if _, err := a.Calib(calib.MinMax); !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "2 infinite values") {
		t.Errorf("non-finite: %v", err)
	}
}

// FuzzDecode: reading never panics, and what it accepts encodes back to
// the same bytes.
func FuzzDecode(f *testing.F) {
	for _, need := range kinds {
		f.Add(encode(f, shardFile(f, need, 1, 3)))
	}
	good := encode(f, shardFile(f, kinds[2], 0, 1))
	f.Add(good[:len(good)/2])
	f.Add(reseal(bytes.Replace(bytes.Clone(good), []byte(`"tensors":3`), []byte(`"tensors":9`), 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(data []byte) {
			file, err := Decode(data)
			if err != nil {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("an error that is not ErrFormat: %v", err)
				}
				return
			}
			again, err := file.MarshalBinary()
			if err != nil {
				t.Fatalf("accepted file does not encode: %v", err)
			}
			if !bytes.Equal(again, data) {
				t.Fatal("accepted file encodes to other bytes")
			}
		}
		check(data)
		// With its checksum made right, so that the fuzzer reaches past it.
		if len(data) >= sha256.Size {
			check(reseal(bytes.Clone(data)))
		}
	})
}

// BenchmarkMerge reads and merges 16 statistics files of 23 tensors of
// 2048-bin histograms (ResNet-20's shards: 0.94 MB each): the per-file
// cost of a merge, for the estimate of BENCHMARKS.md.
func BenchmarkMerge(b *testing.B) {
	need := calib.Info{Statistics: calib.AbsHistogram, Bins: 2048}
	var files [][]byte
	for s := range 16 {
		f := &File{Key: Key{ModelSHA256: "m", Dataset: "d", BatchSize: 50, Batches: 16, Statistics: "abs-histogram", Bins: 2048}, From: s, To: s + 1}
		for i := range 23 {
			t, _ := NewTensor(fmt.Sprint("t", i), need)
			for range 20 {
				t.Add(batchValues(i, s))
			}
			f.Tensors = append(f.Tensors, t)
		}
		files = append(files, encode(b, f))
	}
	b.SetBytes(int64(len(files[0]) * len(files)))
	b.ResetTimer()
	for range b.N {
		var read []*File
		for _, data := range files {
			f, err := Decode(data)
			if err != nil {
				b.Fatal(err)
			}
			read = append(read, f)
		}
		if _, err := Merge(read); err != nil {
			b.Fatal(err)
		}
	}
}
