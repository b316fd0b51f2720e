package stats

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/internal/atomicfile"
)

// Key is what statistics were computed from. Statistics merge only when
// their keys are equal: the same model, the same data with the same
// options, batches and first sample, the same kind of statistics.
type Key struct {
	ModelSHA256 string `json:"model_sha256"`
	// Dataset names the data set and its options (the sidecar's
	// dataset).
	Dataset     string `json:"dataset"`
	BatchSize   int    `json:"batch_size"`
	Batches     int    `json:"batches"` // of the whole calibration, every shard's
	FirstSample int    `json:"first_sample"`
	// Statistics is the kind (calib.StatisticsKind's name); Bins the
	// number of bins of each histogram, 0 for min-max.
	Statistics string `json:"statistics"`
	Bins       int    `json:"bins"`
}

// KindKey returns the statistics part of a Key for what need asks for:
// its kind and, for the histogram kinds, the bins of HistogramConfig.
func KindKey(need calib.Info) (statistics string, bins int, err error) {
	switch need.Statistics {
	case calib.AbsHistogram, calib.SignedHistogram:
		h, err := histogram.NewConfig(HistogramConfig(need))
		if err != nil {
			return "", 0, err
		}
		return need.Statistics.String(), h.NumBins(), nil
	case calib.MinMax:
		return need.Statistics.String(), 0, nil
	}
	return "", 0, fmt.Errorf("%s statistics are not kept in statistics files; only the histogram kinds and min-max are", need.Statistics)
}

// SameCalibration reports whether k and o are of one calibration (model,
// data and batches), whatever their statistics.
func (k Key) SameCalibration(o Key) bool {
	k.Statistics, k.Bins = o.Statistics, o.Bins
	return k == o
}

// Serves reports why statistics of this key cannot give what need asks
// for ("" when they can): statistics of the same kind and bins can, and
// a histogram holds the count and extremes min-max statistics need.
func (k Key) Serves(need calib.Info) string {
	statistics, bins, err := KindKey(need)
	switch {
	case err != nil:
		return err.Error()
	case statistics == calib.MinMax.String():
		return ""
	case k.Statistics != statistics || k.Bins != bins:
		return fmt.Sprintf("they are %s, the calibrator asks for %s", k.describeKind(), Key{Statistics: statistics, Bins: bins}.describeKind())
	}
	return ""
}

func (k Key) describeKind() string {
	if k.Bins == 0 {
		return k.Statistics + " statistics"
	}
	return fmt.Sprintf("%s statistics of %d bins", k.Statistics, k.Bins)
}

// File is the statistics of batches [From, To) of a calibration (Key):
// one shard's, several shards' merged (Merge), or the whole
// calibration's when complete. Tensors are in the order the network
// computes them.
type File struct {
	Key
	From, To int
	Tensors  []*Tensor

	// name is where the file was read from, for errors.
	name string
}

// Complete reports whether f holds every batch of the calibration.
func (f *File) Complete() bool { return f.From == 0 && f.To == f.Batches }

// Name is the path f was read from, or "statistics" for one made here.
func (f *File) Name() string {
	if f.name == "" {
		return "statistics"
	}
	return f.name
}

// Calib returns the statistics need asks for, in f's order, as a
// calibrator receives them; an error when f cannot serve need (Serves)
// or holds non-finite values.
func (f *File) Calib(need calib.Info) ([]calib.TensorStats, error) {
	if why := f.Serves(need); why != "" {
		return nil, fmt.Errorf("%s: %s", f.Name(), why)
	}
	out := make([]calib.TensorStats, len(f.Tensors))
	for i, t := range f.Tensors {
		s, err := t.Calib(need.Statistics)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name(), err)
		}
		out[i] = s
	}
	return out, nil
}

// The file, little-endian:
//
//	magic "int8cal statistics\n" (19 bytes)
//	uint32 format (1)
//	uint32 length of the header, then the header: JSON, header's fields
//	per tensor: uint32 length of the name, the name (UTF-8), uint32
//	  length of the statistics, then the statistics: the histogram's
//	  binary form (calib/histogram) or, for min-max, count, NaN and Inf
//	  (uint64 each) and min and max (float32 bits)
//	SHA-256 of every byte before it (32 bytes)
//
// The checksum comes first when reading, so a truncated or altered file
// is refused as such before anything in it is believed. Equal statistics
// encode to identical bytes.
const (
	magic = "int8cal statistics\n"
	// Format is the version of the statistics file this int8cal reads
	// and writes.
	Format = 1
	// maxFile bounds what ReadFile reads: a thousand tensors of histograms
	// of 2^16 bins fit many times over.
	maxFile = 1 << 30
	// maxName bounds a tensor's name.
	maxName = 1 << 16
	// minMaxSize is the size of min-max statistics.
	minMaxSize = 3*8 + 2*4
)

// header is the file's JSON header.
type header struct {
	Key
	From    int `json:"from"`
	To      int `json:"to"`
	Tensors int `json:"tensors"`
}

// ErrFormat is wrapped by the errors of Decode and ReadFile for bytes
// that are not a valid statistics file.
var ErrFormat = errors.New("not a valid int8cal statistics file")

// MarshalBinary encodes f as the file holds it.
func (f *File) MarshalBinary() ([]byte, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	hdr, err := json.Marshal(header{Key: f.Key, From: f.From, To: f.To, Tensors: len(f.Tensors)})
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	b := []byte(magic)
	b = le.AppendUint32(b, Format)
	b = le.AppendUint32(b, uint32(len(hdr)))
	b = append(b, hdr...)
	for _, t := range f.Tensors {
		b = le.AppendUint32(b, uint32(len(t.Name)))
		b = append(b, t.Name...)
		at := len(b)
		b = append(b, 0, 0, 0, 0)
		if t.Histogram != nil {
			if b, err = t.Histogram.AppendBinary(b); err != nil {
				return nil, err
			}
		} else {
			b = le.AppendUint64(b, t.Count)
			b = le.AppendUint64(b, t.NaN)
			b = le.AppendUint64(b, t.Inf)
			b = le.AppendUint32(b, math.Float32bits(t.Min))
			b = le.AppendUint32(b, math.Float32bits(t.Max))
		}
		le.PutUint32(b[at:], uint32(len(b)-at-4))
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...), nil
}

// Decode reads a statistics file's bytes, checking the checksum, the
// format and that the statistics are consistent and of the header's
// kind. Its errors wrap ErrFormat.
func Decode(data []byte) (*File, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, a...))
	}
	if len(data) < len(magic)+8+sha256.Size || string(data[:len(magic)]) != magic {
		if len(data) >= len(magic) && string(data[:len(magic)]) == magic {
			return nil, bad("%d bytes: truncated", len(data))
		}
		return nil, bad("it does not start with %q", strings.TrimSpace(magic))
	}
	body := data[:len(data)-sha256.Size]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], data[len(body):]) {
		return nil, bad("its checksum does not match: the file is truncated or was changed after it was written")
	}
	le := binary.LittleEndian
	r := body[len(magic):]
	if v := le.Uint32(r); v != Format {
		return nil, fmt.Errorf("%w: format %d; this int8cal reads format %d (write the statistics again with this version)", ErrFormat, v, Format)
	}
	next := func(what string) ([]byte, error) {
		if len(r) < 4 {
			return nil, bad("%s: truncated", what)
		}
		n := le.Uint32(r)
		if uint64(n) > uint64(len(r)-4) {
			return nil, bad("%s: %d bytes, only %d left", what, n, len(r)-4)
		}
		v := r[4 : 4+n]
		r = r[4+n:]
		return v, nil
	}
	r = r[4:]
	raw, err := next("header")
	if err != nil {
		return nil, err
	}
	var h header
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, bad("header: %v", err)
	}
	if again, _ := json.Marshal(h); !bytes.Equal(again, raw) {
		// Equal statistics encode to identical bytes: a header written by
		// hand in another spelling is refused rather than accepted once
		// and rewritten differently.
		return nil, bad("header: not as int8cal writes it: %.200s", raw)
	}
	if h.Tensors < 0 || h.Tensors > len(r)/8 {
		return nil, bad("header: %d tensors in %d bytes", h.Tensors, len(r))
	}
	f := &File{Key: h.Key, From: h.From, To: h.To, Tensors: make([]*Tensor, 0, h.Tensors)}
	for i := range h.Tensors {
		name, err := next(fmt.Sprintf("tensor %d's name", i))
		if err != nil {
			return nil, err
		}
		t := &Tensor{Name: string(name)}
		payload, err := next(fmt.Sprintf("tensor %q's statistics", t.Name))
		if err != nil {
			return nil, err
		}
		if f.Statistics == calib.MinMax.String() {
			if len(payload) != minMaxSize {
				return nil, bad("tensor %q: %d bytes of min-max statistics, want %d", t.Name, len(payload), minMaxSize)
			}
			t.Count, t.NaN, t.Inf = le.Uint64(payload), le.Uint64(payload[8:]), le.Uint64(payload[16:])
			t.Min, t.Max = math.Float32frombits(le.Uint32(payload[24:])), math.Float32frombits(le.Uint32(payload[28:]))
		} else {
			t.Histogram = new(histogram.Histogram)
			if err := t.Histogram.UnmarshalBinary(payload); err != nil {
				return nil, bad("tensor %q: %v", t.Name, err)
			}
		}
		f.Tensors = append(f.Tensors, t)
	}
	if len(r) != 0 {
		return nil, bad("%d bytes after the last tensor", len(r))
	}
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return f, nil
}

// check reports what makes f not a file Decode would read back.
func (f *File) check() error {
	k := f.Key
	switch {
	case k.BatchSize <= 0 || k.Batches <= 0 || k.FirstSample < 0:
		return fmt.Errorf("batch size %d, %d batches from sample %d: must be positive", k.BatchSize, k.Batches, k.FirstSample)
	case f.From < 0 || f.From >= f.To || f.To > k.Batches:
		return fmt.Errorf("batches %d to %d of %d: not a part of the calibration", f.From, f.To, k.Batches)
	case len(f.Tensors) == 0:
		return errors.New("no tensors")
	}
	var kind calib.StatisticsKind
	for _, c := range []calib.StatisticsKind{calib.AbsHistogram, calib.SignedHistogram, calib.MinMax} {
		if c.String() == k.Statistics {
			kind = c
		}
	}
	if kind == 0 || (kind == calib.MinMax) != (k.Bins == 0) || k.Bins < 0 {
		return fmt.Errorf("%s: not statistics a file keeps (abs-histogram or signed-histogram with bins, or min-max)", k.describeKind())
	}
	seen := make(map[string]bool, len(f.Tensors))
	for i, t := range f.Tensors {
		switch {
		case t.Name == "" || len(t.Name) > maxName || !utf8.ValidString(t.Name):
			return fmt.Errorf("tensor %d: name %.40q is empty, longer than %d bytes or not UTF-8", i, t.Name, maxName)
		case seen[t.Name]:
			return fmt.Errorf("tensor %q appears twice", t.Name)
		case t.Kind() != kind:
			return fmt.Errorf("tensor %q: %s statistics in a file of %s", t.Name, t.Kind(), k.Statistics)
		}
		seen[t.Name] = true
		if h := t.Histogram; h != nil {
			if h.NumBins() != k.Bins || h.Fixed() {
				return fmt.Errorf("tensor %q: a histogram of %d bins (fixed range %v), not the file's streaming %d", t.Name, h.NumBins(), h.Fixed(), k.Bins)
			}
			continue
		}
		switch {
		case t.Count < t.NaN || t.Count-t.NaN < t.Inf:
			return fmt.Errorf("tensor %q: %d NaN and %d infinite among %d values", t.Name, t.NaN, t.Inf, t.Count)
		case t.finite() == 0 && (math.Float32bits(t.Min) != 0 || math.Float32bits(t.Max) != 0):
			return fmt.Errorf("tensor %q: extremes %v and %v without finite values", t.Name, t.Min, t.Max)
		case t.finite() > 0 && (isInfOrNaN(t.Min) || isInfOrNaN(t.Max) || orderKey(t.Min) > orderKey(t.Max)):
			return fmt.Errorf("tensor %q: extremes %v and %v", t.Name, t.Min, t.Max)
		}
	}
	return nil
}

// orderKey maps v to an int32 in the order of the floats with -0 below
// +0, the order of Min and Max.
func orderKey(v float32) int32 {
	b := int32(math.Float32bits(v))
	return b ^ (b >> 31 & 0x7fffffff)
}

func isInfOrNaN(v float32) bool { return v != v || math.IsInf(float64(v), 0) }

// WriteFile writes f to path atomically (a temporary file renamed over
// it), so a reader never sees half a file and a shard run again simply
// replaces its file.
func WriteFile(path string, f *File) error {
	data, err := f.MarshalBinary()
	if err != nil {
		return fmt.Errorf("statistics file %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("statistics file %s: %w", path, err)
	}
	return nil
}

// ReadFile reads the statistics file at path (Decode); errors name it.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("statistics file %s: %w", path, err)
	}
	if len(data) > maxFile {
		return nil, fmt.Errorf("statistics file %s: %w: larger than %d bytes", path, ErrFormat, maxFile)
	}
	f, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("statistics file %s: %w", path, err)
	}
	f.name = path
	return f, nil
}

// Merge merges statistics files of one calibration (equal keys, the same
// tensors in the same order) whose batches do not overlap and leave no
// gap between them: shards, or merges of shards. The result covers their
// batches and, merging being exact, is the file one process would have
// written for them, whatever the order of files and the merge tree.
// Errors name the files and say which shard is missing, repeated or of
// another run.
func Merge(files []*File) (*File, error) {
	if len(files) == 0 {
		return nil, errors.New("no statistics files to merge")
	}
	sorted := slices.Clone(files)
	slices.SortStableFunc(sorted, func(a, b *File) int { return a.From - b.From })
	first := sorted[0]
	for _, f := range sorted[1:] {
		if why := differ(first, f); why != "" {
			return nil, fmt.Errorf("%s and %s are not statistics of one calibration: %s", first.Name(), f.Name(), why)
		}
	}
	for i := 1; i < len(sorted); i++ {
		prev, f := sorted[i-1], sorted[i]
		switch {
		case f.From < prev.To:
			return nil, fmt.Errorf("%s (batches %s) and %s (batches %s) overlap: a shard given twice, or shards of different splits; give each shard once", prev.Name(), span(prev.From, prev.To), f.Name(), span(f.From, f.To))
		case f.From > prev.To:
			return nil, fmt.Errorf("batches %s of %d are in none of the files: a shard is missing (between %s and %s)", span(prev.To, f.From), first.Batches, prev.Name(), f.Name())
		}
	}
	out := &File{Key: first.Key, From: first.From, To: sorted[len(sorted)-1].To, Tensors: make([]*Tensor, len(first.Tensors))}
	for i, t := range first.Tensors {
		m := t.clone()
		for _, f := range sorted[1:] {
			if err := m.Merge(f.Tensors[i]); err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name(), err)
			}
		}
		out.Tensors[i] = m
	}
	return out, nil
}

// span renders batches [from, to) for people, who count from 0 as the
// shards and Slurm's array indices do.
func span(from, to int) string {
	if to == from+1 {
		return fmt.Sprint(from)
	}
	return fmt.Sprintf("%d-%d", from, to-1)
}

// differ says how g's key or tensors differ from f's ("" when they are
// of one calibration).
func differ(f, g *File) string {
	a, b := f.Key, g.Key
	switch {
	case a.ModelSHA256 != b.ModelSHA256:
		return fmt.Sprintf("other models (SHA-256 %.12s… and %.12s…)", a.ModelSHA256, b.ModelSHA256)
	case a.Dataset != b.Dataset:
		return fmt.Sprintf("other data or data options (%q and %q)", a.Dataset, b.Dataset)
	case a.BatchSize != b.BatchSize || a.Batches != b.Batches || a.FirstSample != b.FirstSample:
		return fmt.Sprintf("other calibration batches (%d batches of %d from sample %d, and %d of %d from %d)", a.Batches, a.BatchSize, a.FirstSample, b.Batches, b.BatchSize, b.FirstSample)
	case a != b:
		return fmt.Sprintf("other statistics (%s, and %s)", a.describeKind(), b.describeKind())
	case len(f.Tensors) != len(g.Tensors):
		return fmt.Sprintf("%d tensors and %d", len(f.Tensors), len(g.Tensors))
	}
	for i, t := range f.Tensors {
		if g.Tensors[i].Name != t.Name {
			return fmt.Sprintf("tensor %d is %q in one and %q in the other", i, t.Name, g.Tensors[i].Name)
		}
	}
	return ""
}

// clone returns a copy of t that merging into leaves t as it is.
func (t *Tensor) clone() *Tensor {
	c := *t
	if t.Histogram != nil {
		c.Histogram = t.Histogram.Clone()
	}
	return &c
}
