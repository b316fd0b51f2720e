package calibtable

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode"
)

// Algorithm names seen in real caches (anchors §1.3). The legacy calibrator's
// name is not known from any public cache.
const (
	EntropyCalibration2 = "EntropyCalibration2" // IInt8EntropyCalibrator2
	EntropyCalibration  = "EntropyCalibration"  // IInt8EntropyCalibrator
	MinMaxCalibration   = "MinMaxCalibration"   // IInt8MinMaxCalibrator
)

const headerPrefix = "TRT-"

// Bounds on what Parse and ReadJSON read, so that a damaged or hostile file
// fails with an error instead of being held in memory whole: a line holds a
// tensor name and 8 hex digits, and a table has one line per tensor (a
// million tensors fit).
const (
	MaxLine = 64 << 10 // bytes in one line, its newline included
	MaxSize = 64 << 20 // bytes in a whole table
)

// Table is a calibration cache: the header fields and the per-tensor scales
// in file order.
type Table struct {
	// Version is the header's version number as written, e.g. "8601" for
	// TensorRT 8.6.1 or "100300" for 10.3.0; see [HeaderVersion]. It must be
	// non-empty and contain no '-', ':' or white space.
	Version string
	// Algorithm is the calibrator name, e.g. [EntropyCalibration2]. It must
	// be non-empty and contain no ':' or white space.
	Algorithm string
	// Entries are the tensors in file order. Names are unique.
	Entries []Entry
}

// Entry is one tensor's line.
type Entry struct {
	Name string
	// Scale is TensorRT's scale amax/127; the cache stores its float32 bits.
	Scale float32
}

// ScaleFromAmax returns the cache scale for the dynamic range [-amax, amax]:
// amax/127 in float32 arithmetic, as TensorRT computes it (anchors §1.1,
// §1.2). ScaleFromAmax(1) has bits 3c010204.
func ScaleFromAmax(amax float32) float32 {
	return amax / 127
}

// Amax returns the dynamic range that TensorRT's cache readers derive from
// the entry: 127*Scale in float32 (trtexec, ONNX Runtime; anchors §1.2).
// ScaleFromAmax(e.Amax()) is e.Scale for every value published in the
// anchors, but not for every float32.
func (e Entry) Amax() float32 {
	return e.Scale * 127
}

// Bits returns the IEEE-754 bit pattern that the cache stores.
func (e Entry) Bits() uint32 {
	return math.Float32bits(e.Scale)
}

// Hex returns the entry's value as written in the cache: 8 lowercase hex
// digits.
func (e Entry) Hex() string {
	return fmt.Sprintf("%08x", e.Bits())
}

// minNormal is the smallest positive normal float32, 2^-126.
const minNormal = 0x1p-126

// CheckScale reports whether scale can quantize a tensor. Quantizing
// divides by the scale and TensorRT's readers turn it into the range
// 127·scale, so it must be a positive normal float32 (not NaN, ±Inf, zero,
// negative or denormal) whose amax, 127·scale in float32, is finite. A
// table holding any other value is damaged or was not made by a
// calibrator: no reader of this module uses it. The error gives the value
// as the cache stores it and says what is wrong.
func CheckScale(scale float32) error {
	var why string
	switch {
	case scale != scale:
		why = "is NaN"
	case math.IsInf(float64(scale), 0):
		why = "is infinite"
	case scale == 0:
		why = "is zero"
	case scale < 0:
		why = "is negative"
	case scale < minNormal:
		why = "is denormal (below 2^-126, the smallest normal float32)"
	case math.IsInf(float64(float32(scale*127)), 0):
		why = "is so large that its amax, 127·scale, overflows float32"
	default:
		return nil
	}
	value := fmt.Sprintf("%08x", math.Float32bits(scale))
	if scale != 0 && !math.IsInf(float64(scale), 0) && scale == scale {
		value += fmt.Sprintf(" (%v)", scale)
	}
	return fmt.Errorf("scale %s %s; want a positive normal float32 whose amax (127·scale) is finite", value, why)
}

// New returns an empty table for TensorRT version v and the calibrator
// algorithm, e.g. New(TRTVersion{8, 6, 1, 0}, EntropyCalibration2) has the
// header "TRT-8601-EntropyCalibration2".
func New(v TRTVersion, algorithm string) *Table {
	return &Table{Version: v.HeaderVersion(), Algorithm: algorithm}
}

// Header returns the header line without its newline, "TRT-<Version>-<Algorithm>".
// TensorRT reuses a cache only when the header matches its own (anchors §1.3).
func (t *Table) Header() string {
	return headerPrefix + t.Version + "-" + t.Algorithm
}

// Lookup returns the entry of the named tensor.
func (t *Table) Lookup(name string) (Entry, bool) {
	if i := t.index(name); i >= 0 {
		return t.Entries[i], true
	}
	return Entry{}, false
}

// Set sets the named tensor's scale to ScaleFromAmax(amax), replacing its
// entry in place or appending a new one. amax is used as given; TensorRT's
// ranges are non-negative.
func (t *Table) Set(name string, amax float32) {
	t.SetScale(name, ScaleFromAmax(amax))
}

// SetScale is like [Table.Set] but takes the scale itself.
func (t *Table) SetScale(name string, scale float32) {
	if i := t.index(name); i >= 0 {
		t.Entries[i].Scale = scale
		return
	}
	t.Entries = append(t.Entries, Entry{Name: name, Scale: scale})
}

func (t *Table) index(name string) int {
	for i := range t.Entries {
		if t.Entries[i].Name == name {
			return i
		}
	}
	return -1
}

// Validate reports whether [Write] can write the table so that [Parse] reads
// it back unchanged: the header fields are well formed, every tensor name
// is non-empty, unique and free of line breaks, and every scale passes
// [CheckScale].
func (t *Table) Validate() error {
	if msg := checkVersion(t.Version); msg != "" {
		return fmt.Errorf("calibtable: header version %q: %s", t.Version, msg)
	}
	if msg := checkAlgorithm(t.Algorithm); msg != "" {
		return fmt.Errorf("calibtable: header algorithm %q: %s", t.Algorithm, msg)
	}
	seen := make(map[string]int, len(t.Entries))
	for i, e := range t.Entries {
		if msg := checkName(e.Name); msg != "" {
			return fmt.Errorf("calibtable: entry %d: tensor name %q: %s", i, e.Name, msg)
		}
		if j, dup := seen[e.Name]; dup {
			return fmt.Errorf("calibtable: entry %d: duplicate tensor name %q (also entry %d)", i, e.Name, j)
		}
		seen[e.Name] = i
		if err := CheckScale(e.Scale); err != nil {
			return fmt.Errorf("calibtable: entry %d: tensor %q: %w", i, e.Name, err)
		}
	}
	return nil
}

// Match checks the table against the tensors of the model it is used
// with and returns the entries' names that are not among them, in table
// order. Such names are ignored by every reader; a TensorRT table also
// names tensors of TensorRT's own making ("(Unnamed Layer* 4) [Fully
// Connected]_output") that an ONNX model does not have. A table none of
// whose entries names a tensor of the model, an empty one included, is an
// error: it was made for another model. The error does not name the
// table; the caller does.
func (t *Table) Match(tensors []string) (unknown []string, err error) {
	known := make(map[string]bool, len(tensors))
	for _, name := range tensors {
		known[name] = true
	}
	for _, e := range t.Entries {
		if !known[e.Name] {
			unknown = append(unknown, e.Name)
		}
	}
	if len(unknown) < len(t.Entries) {
		return unknown, nil
	}
	if len(t.Entries) == 0 {
		return nil, errors.New("the table has no entries")
	}
	return unknown, fmt.Errorf("none of the table's %d tensors (%s) is a tensor of the model (%s); the table was made for another model", len(t.Entries), sample(unknown), sample(tensors))
}

// sample quotes the first few names of a list and counts the rest, for
// messages about lists that may be long.
func sample(names []string) string {
	const shown = 5
	quoted := make([]string, 0, shown)
	for _, name := range names[:min(len(names), shown)] {
		quoted = append(quoted, strconv.Quote(name))
	}
	s := strings.Join(quoted, ", ")
	if len(names) > shown {
		s += fmt.Sprintf(" and %d more", len(names)-shown)
	}
	return s
}

func checkVersion(s string) string {
	if strings.Contains(s, "-") {
		return "contains '-'"
	}
	return checkAlgorithm(s)
}

func checkAlgorithm(s string) string {
	switch {
	case s == "":
		return "is empty"
	case strings.Contains(s, ":"):
		return "contains ':'"
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return "contains white space"
	}
	return ""
}

func checkName(s string) string {
	switch {
	case s == "":
		return "is empty"
	case strings.ContainsAny(s, "\r\n"):
		return "contains a line break"
	}
	return ""
}

// ParseError is an error in a cache file: bad syntax or an invalid scale.
type ParseError struct {
	File string // the name given to Parse, the path for ReadFile
	Line int    // 1-based
	Msg  string // what was wrong and what was expected
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("calibtable: %s:%d: %s", e.File, e.Line, e.Msg)
}

// trailingSpace is what is trimmed from the end of every line.
const trailingSpace = " \t\r\n\v\f"

// Parse reads a calibration cache; name (usually the file name) is used in
// error messages. See the package documentation for what is accepted.
// Lines longer than [MaxLine] and input beyond [MaxSize] are errors, found
// without reading more than that. Syntax errors and invalid scales (see
// [CheckScale]) are *[ParseError] values.
func Parse(r io.Reader, name string) (*Table, error) {
	if name == "" {
		name = "<input>"
	}
	br := bufio.NewReaderSize(io.LimitReader(r, MaxSize+1), MaxLine)
	t := &Table{}
	seen := make(map[string]int)
	lineNo, size := 0, 0
	fail := func(format string, args ...any) (*Table, error) {
		return nil, &ParseError{File: name, Line: lineNo, Msg: fmt.Sprintf(format, args...)}
	}
	for {
		slice, err := br.ReadSlice('\n')
		lineNo++
		size += len(slice)
		switch {
		case size > MaxSize:
			return fail("the input goes on past %d bytes, more than a calibration table of a million tensors; is this a calibration table?", MaxSize)
		case errors.Is(err, bufio.ErrBufferFull):
			return fail("line longer than %d bytes; want \"<tensor name>: <8 hex digits>\" lines (is this a calibration table?)", MaxLine)
		case err != nil && !errors.Is(err, io.EOF):
			return nil, fmt.Errorf("calibtable: %s: %w", name, err)
		}
		if len(slice) == 0 && err != nil {
			lineNo--
			break
		}
		line := strings.TrimRight(string(slice), trailingSpace)
		if lineNo == 1 {
			version, algorithm, msg := parseHeader(line)
			if msg != "" {
				return fail("bad header %q: %s; want \"TRT-<version>-<algorithm>\", e.g. \"TRT-8601-EntropyCalibration2\"", excerpt(line), msg)
			}
			t.Version, t.Algorithm = version, algorithm
		} else if line != "" {
			colon := strings.LastIndexByte(line, ':')
			if colon < 0 {
				return fail("missing ':' in %q; want \"<tensor name>: <8 hex digits>\"", excerpt(line))
			}
			tensor := line[:colon]
			if msg := checkName(tensor); msg != "" {
				return fail("tensor name %q %s; want \"<tensor name>: <8 hex digits>\"", tensor, msg)
			}
			value := strings.TrimLeft(line[colon+1:], " \t")
			bits, ok := parseHex(value)
			if !ok {
				return fail("bad hex value %q for tensor %q; want 1 to 8 hex digits (the float32 bits of amax/127, e.g. 3c010204) after the last ':'", excerpt(value), tensor)
			}
			if first, dup := seen[tensor]; dup {
				return fail("duplicate tensor name %q (first on line %d); want each tensor once", tensor, first)
			}
			scale := math.Float32frombits(bits)
			if err := CheckScale(scale); err != nil {
				return fail("tensor %q: %v; the table is damaged or was not made by a calibrator: calibrate again, or correct the line", tensor, err)
			}
			seen[tensor] = lineNo
			t.Entries = append(t.Entries, Entry{Name: tensor, Scale: scale})
		}
		if err != nil {
			break
		}
	}
	if lineNo == 0 {
		lineNo = 1
		return fail("empty input; want a header line \"TRT-<version>-<algorithm>\", e.g. \"TRT-8601-EntropyCalibration2\"")
	}
	return t, nil
}

// excerpt shortens a line quoted in an error (a line may be MaxLine
// bytes long).
func excerpt(s string) string {
	const keep = 80
	if len(s) <= keep {
		return s
	}
	return s[:keep] + "..."
}

// parseHeader splits "TRT-<version>-<algorithm>"; msg says what is wrong.
func parseHeader(line string) (version, algorithm, msg string) {
	rest, ok := strings.CutPrefix(line, headerPrefix)
	if !ok {
		return "", "", "does not start with \"TRT-\""
	}
	version, algorithm, ok = strings.Cut(rest, "-")
	if !ok {
		return "", "", "no '-' between version and algorithm"
	}
	if m := checkVersion(version); m != "" {
		return "", "", "version " + m
	}
	if m := checkAlgorithm(algorithm); m != "" {
		return "", "", "algorithm " + m
	}
	return version, algorithm, ""
}

// parseHex parses 1 to 8 hex digits of either case.
func parseHex(s string) (uint32, bool) {
	if len(s) == 0 || len(s) > 8 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 16, 32)
	return uint32(n), err == nil
}

// ReadFile reads the calibration cache at path.
func ReadFile(path string) (*Table, error) {
	return readFile(path, io.Discard)
}

// ReadFileSHA256 is [ReadFile] that also returns the SHA-256 of the bytes
// it parsed, hex encoded, as a [Sidecar] records it.
func ReadFileSHA256(path string) (*Table, string, error) {
	h := sha256.New()
	t, err := readFile(path, h)
	if err != nil {
		return nil, "", err
	}
	return t, hex.EncodeToString(h.Sum(nil)), nil
}

// ReadFileBytes is [ReadFile] that also returns the bytes it parsed, for
// readers that hand the file on (TensorRT's readCalibrationCache).
func ReadFileBytes(path string) (*Table, []byte, error) {
	var b bytes.Buffer
	t, err := readFile(path, &b)
	if err != nil {
		return nil, nil, err
	}
	return t, b.Bytes(), nil
}

// readFile parses the file at path, copying what it reads to w.
func readFile(path string, w io.Writer) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("calibtable: %w", err)
	}
	defer f.Close()
	return Parse(io.TeeReader(f, w), path)
}

// Write writes t in TensorRT's cache format: the header line, then
// "name: %08x" per entry in order, each line ending in '\n'. The table is
// checked with [Table.Validate] first, and nothing is written if it fails.
// The output is written with a single call to w.Write.
func Write(w io.Writer, t *Table) error {
	b, err := t.encode()
	if err != nil {
		return err
	}
	n, err := w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("calibtable: write: %w", err)
	}
	return nil
}

// SHA256 returns the SHA-256 of the bytes [Write] writes, hex encoded, as
// a [Sidecar] records it.
func (t *Table) SHA256() (string, error) {
	b, err := t.encode()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// encode returns the bytes Write writes.
func (t *Table) encode() ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	n := len(headerPrefix) + len(t.Version) + len(t.Algorithm) + 2
	for _, e := range t.Entries {
		n += len(e.Name) + 11
	}
	b := make([]byte, 0, n)
	b = append(b, t.Header()...)
	b = append(b, '\n')
	for _, e := range t.Entries {
		b = append(b, e.Name...)
		b = append(b, ": "...)
		b = fmt.Appendf(b, "%08x\n", e.Bits())
	}
	return b, nil
}
