package calibtable

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const goldenPath = "testdata/CalibrationTablemnist"

// lenetTRT7 is the TensorRT 7.0 sampleINT8 README table (anchors §1.1).
var lenetTRT7 = []struct {
	name string
	hex  uint32
}{
	{"data", 0x3c008912},
	{"conv1", 0x3c88edfc},
	{"pool1", 0x3c88edfc},
	{"conv2", 0x3ddc858b},
	{"pool2", 0x3ddc858b},
	{"ip1", 0x3db6bd6e},
	{"ip2", 0x3e691968},
	{"prob", 0x3c010a14},
}

func lenetTable() *Table {
	t := &Table{Version: "7000", Algorithm: EntropyCalibration2}
	for _, e := range lenetTRT7 {
		t.Entries = append(t.Entries, Entry{Name: e.name, Scale: math.Float32frombits(e.hex)})
	}
	return t
}

// sameTable compares tables bit for bit (NaN scales included).
func sameTable(a, b *Table) bool {
	if a.Version != b.Version || a.Algorithm != b.Algorithm || len(a.Entries) != len(b.Entries) {
		return false
	}
	for i := range a.Entries {
		if a.Entries[i].Name != b.Entries[i].Name || a.Entries[i].Bits() != b.Entries[i].Bits() {
			return false
		}
	}
	return true
}

// TestPublishedHexFromAmax reproduces every published cache value whose amax
// the anchors give (§1.2 table, §9 golden vectors) from that amax, in float32
// arithmetic, and checks that 127*scale gives the amax back.
func TestPublishedHexFromAmax(t *testing.T) {
	cases := []struct {
		what string
		amax float32
		hex  string
	}{
		{"amax exactly 1", 1, "3c010204"},
		{"TRT 7 MNIST data, (2040+0.5)/2048 * 1.0", float32(2040.5) / 2048 * 1.0, "3c008912"},
		{"TRT 5.1 MNIST data, (2040+0.5)/2048 * 255/256", float32(2040.5) / 2048 * (float32(255) / 256), "3c000889"},
		{"TRT 5.1 and 7 softmax prob, (2048+0.5)/2048 * 1.0", float32(2048.5) / 2048 * 1.0, "3c010a14"},
	}
	for _, c := range cases {
		e := Entry{Name: "x", Scale: ScaleFromAmax(c.amax)}
		if got := e.Hex(); got != c.hex {
			t.Errorf("%s: ScaleFromAmax(%v) = %s, want %s", c.what, c.amax, got, c.hex)
		}
		if got := e.Amax(); got != c.amax {
			t.Errorf("%s: Amax() = %v, want %v", c.what, got, c.amax)
		}
	}
}

// TestPublishedLines decodes every cache line and header published in the
// anchors (§1.1, §1.2, §1.3).
func TestPublishedLines(t *testing.T) {
	cases := []struct {
		text      string
		version   string
		algorithm string
		name      string
		hex       uint32
		amax      float64 // 127*scale as given in the anchors' §1.2 table; 0: not published
	}{
		// §1.1 TRT 7.0 README; §1.2 table.
		{"TRT-7000-EntropyCalibration2\ndata: 3c008912\n", "7000", "EntropyCalibration2", "data", 0x3c008912, 0.996338},
		{"TRT-7000-EntropyCalibration2\nconv1: 3c88edfc\n", "7000", "EntropyCalibration2", "conv1", 0x3c88edfc, 0},
		{"TRT-7000-EntropyCalibration2\npool1: 3c88edfc\n", "7000", "EntropyCalibration2", "pool1", 0x3c88edfc, 0},
		{"TRT-7000-EntropyCalibration2\nconv2: 3ddc858b\n", "7000", "EntropyCalibration2", "conv2", 0x3ddc858b, 0},
		{"TRT-7000-EntropyCalibration2\npool2: 3ddc858b\n", "7000", "EntropyCalibration2", "pool2", 0x3ddc858b, 0},
		{"TRT-7000-EntropyCalibration2\nip1: 3db6bd6e\n", "7000", "EntropyCalibration2", "ip1", 0x3db6bd6e, 0},
		{"TRT-7000-EntropyCalibration2\nip2: 3e691968\n", "7000", "EntropyCalibration2", "ip2", 0x3e691968, 0},
		{"TRT-7000-EntropyCalibration2\nprob: 3c010a14\n", "7000", "EntropyCalibration2", "prob", 0x3c010a14, 1.000244},
		// §1.1 TRT 5.1 README.
		{"TRT-5100-EntropyCalibration2\ndata: 3c000889\n", "5100", "EntropyCalibration2", "data", 0x3c000889, 0.992446},
		// §1.1 forum thread: names with spaces and brackets.
		{"TRT-7000-EntropyCalibration2\n(Unnamed Layer* 4) [Fully Connected]_output: 3dc6a9ed\n", "7000", "EntropyCalibration2",
			"(Unnamed Layer* 4) [Fully Connected]_output", 0x3dc6a9ed, 0},
		// §1.2 amax exactly 1.
		{"TRT-8601-EntropyCalibration2\nx: 3c010204\n", "8601", "EntropyCalibration2", "x", 0x3c010204, 1.000000},
		// §1.1 ONNX-style name (its value is not published; 3c010204 used).
		{"TRT-8601-EntropyCalibration2\n/stage1/unit1/body/conv1/activ/Relu_output_0: 3c010204\n", "8601", "EntropyCalibration2",
			"/stage1/unit1/body/conv1/activ/Relu_output_0", 0x3c010204, 0},
	}
	for _, c := range cases {
		tb, err := Parse(strings.NewReader(c.text), "published")
		if err != nil {
			t.Errorf("%q: %v", c.text, err)
			continue
		}
		if tb.Version != c.version || tb.Algorithm != c.algorithm || len(tb.Entries) != 1 {
			t.Errorf("%q: got %+v", c.text, tb)
			continue
		}
		e := tb.Entries[0]
		if e.Name != c.name || e.Bits() != c.hex {
			t.Errorf("%q: got %q %s, want %q %08x", c.text, e.Name, e.Hex(), c.name, c.hex)
		}
		if c.amax != 0 && math.Abs(float64(e.Amax())-c.amax) > 1e-6 {
			t.Errorf("%q: Amax() = %.7g, want %.6f", c.text, e.Amax(), c.amax)
		}
		// Every published value survives amax -> scale in float32.
		if got := math.Float32bits(ScaleFromAmax(e.Amax())); got != c.hex {
			t.Errorf("%q: ScaleFromAmax(Amax()) = %08x, want %08x", c.text, got, c.hex)
		}
		var buf bytes.Buffer
		if err := Write(&buf, tb); err != nil {
			t.Fatal(err)
		}
		if buf.String() != c.text {
			t.Errorf("rewrite of %q = %q", c.text, buf.String())
		}
	}
	// §1.2: struct.unpack('>f', bytes.fromhex('3c008912')) = 0.0078451801.
	if s := math.Float32frombits(0x3c008912); math.Abs(float64(s)-0.0078451801) > 1e-10 {
		t.Errorf("3c008912 = %.10g, want 0.0078451801", s)
	}
	// Published headers without values (§1.3).
	for _, h := range []struct{ header, version, algorithm string }{
		{"TRT-8501-EntropyCalibration2", "8501", "EntropyCalibration2"},
		{"TRT-8601-EntropyCalibration2", "8601", "EntropyCalibration2"},
		{"TRT-8602-MinMaxCalibration", "8602", "MinMaxCalibration"},
		{"TRT-8600-EntropyCalibration2", "8600", "EntropyCalibration2"},
		{"TRT-7000-EntropyCalibration", "7000", "EntropyCalibration"},
		{"TRT-5100-EntropyCalibration2", "5100", "EntropyCalibration2"},
		// §1.3 gives only the numbers 8203, 100300, 100900; the algorithm is ours.
		{"TRT-8203-EntropyCalibration2", "8203", "EntropyCalibration2"},
		{"TRT-100300-EntropyCalibration2", "100300", "EntropyCalibration2"},
		{"TRT-100900-EntropyCalibration2", "100900", "EntropyCalibration2"},
	} {
		tb, err := Parse(strings.NewReader(h.header+"\n"), "header")
		if err != nil {
			t.Errorf("%s: %v", h.header, err)
			continue
		}
		if tb.Version != h.version || tb.Algorithm != h.algorithm || len(tb.Entries) != 0 || tb.Header() != h.header {
			t.Errorf("%s: got %+v", h.header, tb)
		}
	}
}

func TestGoldenRoundTrip(t *testing.T) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	if want := lenetTable(); !sameTable(tb, want) {
		t.Fatalf("ReadFile = %+v, want %+v", tb, want)
	}
	var buf bytes.Buffer
	if err := Write(&buf, tb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), golden) {
		t.Fatalf("Write =\n%s\nwant\n%s", buf.Bytes(), golden)
	}
	buf.Reset()
	if err := Write(&buf, lenetTable()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), golden) {
		t.Fatalf("Write(lenetTable()) =\n%s\nwant\n%s", buf.Bytes(), golden)
	}
}

// TestParseTolerant checks inputs that differ from the canonical form but
// mean the same table; each is written back canonically.
func TestParseTolerant(t *testing.T) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	g := string(golden)
	cases := map[string]string{
		"CRLF":                 strings.ReplaceAll(g, "\n", "\r\n"),
		"no final newline":     strings.TrimSuffix(g, "\n"),
		"blank final line":     g + "\n",
		"blank final lines":    g + "\r\n  \n\t\n",
		"whitespace-only line": strings.Replace(g, "pool1", " \t\r\npool1", 1),
		"trailing whitespace":  strings.ReplaceAll(g, "\n", " \t\n"),
		"uppercase hex":        strings.Replace(g, "3c88edfc", "3C88EDFC", 2),
		"tab after colon":      strings.Replace(g, "ip1: ", "ip1:\t", 1),
		"no space after colon": strings.Replace(g, "ip2: ", "ip2:", 1),
		"two spaces":           strings.Replace(g, "ip2: ", "ip2:  ", 1),
	}
	for name, in := range cases {
		tb, err := Parse(strings.NewReader(in), name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !sameTable(tb, lenetTable()) {
			t.Errorf("%s: got %+v", name, tb)
		}
		var buf bytes.Buffer
		if err := Write(&buf, tb); err != nil {
			t.Fatal(err)
		}
		if buf.String() != g {
			t.Errorf("%s: rewritten as\n%s", name, buf.String())
		}
	}
}

func TestParseSpecialEntries(t *testing.T) {
	cases := []struct {
		line string
		name string
		bits uint32
		out  string // canonical line; "" means line itself
	}{
		{"a:b:c: 3c010204", "a:b:c", 0x3c010204, ""},
		{"::: 3c010204", "::", 0x3c010204, ""},
		{"name with spaces : 3c010204", "name with spaces ", 0x3c010204, ""},
		{"  indented: 3c010204", "  indented", 0x3c010204, ""},
		{"short: 800000", "short", 0x800000, "short: 00800000"},          // anchors §1.5: accept < 8 digits
		{"short2: abcdef0", "short2", 0xabcdef0, "short2: 0abcdef0"},     // anchors §1.4: unpadded community writers
		{"utf8 ünïcødé/名前: 3c010204", "utf8 ünïcødé/名前", 0x3c010204, ""}, //
	}
	for _, c := range cases {
		in := "TRT-8601-EntropyCalibration2\n" + c.line + "\n"
		tb, err := Parse(strings.NewReader(in), "special")
		if err != nil {
			t.Errorf("%q: %v", c.line, err)
			continue
		}
		if len(tb.Entries) != 1 || tb.Entries[0].Name != c.name || tb.Entries[0].Bits() != c.bits {
			t.Errorf("%q: got %+v", c.line, tb.Entries)
			continue
		}
		out := c.out
		if out == "" {
			out = c.line
		}
		var buf bytes.Buffer
		if err := Write(&buf, tb); err != nil {
			t.Fatal(err)
		}
		if want := "TRT-8601-EntropyCalibration2\n" + out + "\n"; buf.String() != want {
			t.Errorf("%q: rewritten as %q, want %q", c.line, buf.String(), want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const h = "TRT-8601-EntropyCalibration2\n"
	cases := []struct {
		in   string
		line int
		want string
	}{
		{"", 1, "empty input; want a header line"},
		{"\n", 1, `bad header ""`},
		{"data: 3c008912\n", 1, `bad header "data: 3c008912": does not start with "TRT-"`},
		{"trt-8601-EntropyCalibration2\n", 1, `does not start with "TRT-"`},
		{" TRT-8601-EntropyCalibration2\n", 1, `does not start with "TRT-"`},
		{"TRT-8601\n", 1, "no '-' between version and algorithm"},
		{"TRT--EntropyCalibration2\n", 1, "version is empty"},
		{"TRT-8601-\n", 1, "algorithm is empty"},
		{"TRT-8601-Entropy Calibration2\n", 1, "algorithm contains white space"},
		{"TRT-8601-Entropy:2\n", 1, "algorithm contains ':'"},
		{"TRT-8601-EntropyCalibration2\n" + "\n" + "data 3c008912\n", 3, `missing ':' in "data 3c008912"; want "<tensor name>: <8 hex digits>"`},
		{h + "data: 3c008912\nconv1\n", 3, "missing ':'"},
		{h + "data: xyz\n", 2, `bad hex value "xyz" for tensor "data"; want 1 to 8 hex digits`},
		{h + "data:\n", 2, `bad hex value "" for tensor "data"`},
		{h + "data: \n", 2, `bad hex value ""`},
		{h + "data: 3c0089120\n", 2, `bad hex value "3c0089120"`},
		{h + "data: 0x3c008912\n", 2, `bad hex value "0x3c008912"`},
		{h + "data: +3c00891\n", 2, `bad hex value "+3c00891"`},
		{h + "data: 3c00 8912\n", 2, `bad hex value "3c00 8912"`},
		{h + "data: 3c008912 # comment\n", 2, `bad hex value`},
		{h + ": 3c008912\n", 2, `tensor name "" is empty`},
		{h + "a\rb: 3c008912\n", 2, "contains a line break"},
		{h + "data: 3c008912\nconv1: 3c88edfc\ndata: 3c008912\n", 4, `duplicate tensor name "data" (first on line 2); want each tensor once`},
		{h + "x: 3c010204\r\nx: 3c010204\r\n", 3, `duplicate tensor name "x"`},
		{h + "TRT-8601-EntropyCalibration2\n", 2, `missing ':' in "TRT-8601-EntropyCalibration2"`},
	}
	for _, c := range cases {
		tb, err := Parse(strings.NewReader(c.in), "CalibrationTablemnist")
		if err == nil {
			t.Errorf("%q: no error, got %+v", c.in, tb)
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%q: error %v is not a *ParseError", c.in, err)
			continue
		}
		if pe.File != "CalibrationTablemnist" || pe.Line != c.line {
			t.Errorf("%q: error at %s:%d, want line %d: %v", c.in, pe.File, pe.Line, c.line, err)
		}
		prefix := "calibtable: CalibrationTablemnist:" + strconv.Itoa(c.line) + ": "
		if s := err.Error(); !strings.HasPrefix(s, prefix) || !strings.Contains(s, c.want) {
			t.Errorf("%q: error %q, want prefix %q and %q", c.in, s, prefix, c.want)
		}
	}
}

// maxScale is the largest scale whose amax, 127·scale in float32, is
// finite.
func maxScale() float32 {
	s := float32(math.MaxFloat32 / 127)
	for !math.IsInf(float64(float32(math.Nextafter32(s, 2*s)*127)), 0) {
		s = math.Nextafter32(s, 2*s)
	}
	for math.IsInf(float64(float32(s*127)), 0) {
		s = math.Nextafter32(s, 0)
	}
	return s
}

// TestInvalidScales: a scale no reader can use (NaN, infinite, zero,
// negative, denormal, or so large that 127·scale overflows) is refused by
// Parse with the file, line and tensor, by Validate (so by Write and
// WriteFile), and by ReadJSON; the normal extremes are accepted.
func TestInvalidScales(t *testing.T) {
	largest := math.Float32bits(maxScale())
	for _, c := range []struct {
		bits uint32
		want string // "" for a valid scale
	}{
		{0x7f800000, "7f800000 is infinite"},
		{0xff800000, "ff800000 is infinite"},
		{0x7fc00000, "7fc00000 is NaN"},
		{0xffc00001, "ffc00001 is NaN"},
		{0x00000000, "00000000 is zero"},
		{0x80000000, "80000000 is zero"},
		{0xbc010204, "bc010204 (-0.007874016) is negative"},
		{0x00000001, "00000001 (1e-45) is denormal"},
		{0x007fffff, "is denormal"},
		{0x7f7fffff, "7f7fffff (3.4028235e+38) is so large that its amax, 127·scale, overflows float32"},
		{largest + 1, "overflows float32"},
		{largest, ""},
		{0x00800000, ""},
		{0x3c010204, ""},
	} {
		scale := math.Float32frombits(c.bits)
		line := fmt.Sprintf("TRT-8601-EntropyCalibration2\ndata: 3c010204\nconv1: %08x\n", c.bits)
		_, perr := Parse(strings.NewReader(line), "CalibrationTablelenet")
		verr := (&Table{Version: "8601", Algorithm: EntropyCalibration2, Entries: []Entry{{"conv1", scale}}}).Validate()
		_, jerr := ReadJSON(strings.NewReader(fmt.Sprintf(`{"header": "TRT-8601-EntropyCalibration2", "tensors": [{"name": "conv1", "hex": "%08x"}]}`, c.bits)))
		if c.want == "" {
			if perr != nil || verr != nil || jerr != nil || CheckScale(scale) != nil {
				t.Errorf("%08x: valid scale refused: %v; %v; %v", c.bits, perr, verr, jerr)
			}
			continue
		}
		var pe *ParseError
		if !errors.As(perr, &pe) || pe.Line != 3 || !strings.HasPrefix(perr.Error(), `calibtable: CalibrationTablelenet:3: tensor "conv1": scale `) || !strings.Contains(perr.Error(), c.want) {
			t.Errorf("%08x: Parse error %v, want line 3, tensor conv1 and %q", c.bits, perr, c.want)
		}
		if verr == nil || !strings.Contains(verr.Error(), `entry 0: tensor "conv1": scale `) || !strings.Contains(verr.Error(), c.want) {
			t.Errorf("%08x: Validate error %v, want %q", c.bits, verr, c.want)
		}
		if jerr == nil || !strings.Contains(jerr.Error(), c.want) {
			t.Errorf("%08x: ReadJSON error %v, want %q", c.bits, jerr, c.want)
		}
	}
}

// TestParseBounded: a line longer than MaxLine fails once MaxLine bytes
// are read, and input past MaxSize fails there, without reading the rest.
func TestParseBounded(t *testing.T) {
	long := &countingReader{r: io.MultiReader(strings.NewReader("TRT-8601-EntropyCalibration2\ndata"), repeatReader('x'))}
	_, err := Parse(long, "huge")
	if err == nil || !strings.Contains(err.Error(), "calibtable: huge:2: line longer than 65536 bytes") {
		t.Errorf("long line: %v", err)
	}
	if long.n > 2*MaxLine {
		t.Errorf("long line: read %d bytes", long.n)
	}
	entries := &countingReader{r: io.MultiReader(strings.NewReader("TRT-8601-EntropyCalibration2\n"), blankLines{})}
	_, err = Parse(entries, "many")
	if err == nil || !strings.Contains(err.Error(), "calibtable: many:") || !strings.Contains(err.Error(), "goes on past 67108864 bytes") {
		t.Errorf("big input: %v", err)
	}
	if entries.n > MaxSize+MaxLine {
		t.Errorf("big input: read %d bytes", entries.n)
	}
	_, err = ReadJSON(io.MultiReader(strings.NewReader(`{"tensors": [`), repeatReader(' ')))
	if err == nil || !strings.Contains(err.Error(), "goes on past 67108864 bytes") {
		t.Errorf("big JSON: %v", err)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// repeatReader is an endless stream of one byte.
type repeatReader byte

func (b repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// blankLines is an endless stream of white-space lines, which tables may
// hold anywhere after the header.
type blankLines struct{}

func (blankLines) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
		if i%1000 == 999 {
			p[i] = '\n'
		}
	}
	return len(p), nil
}

// TestMatch: entries are checked against the model's tensors.
func TestMatch(t *testing.T) {
	tb := lenetTable()
	tensors := []string{"data", "conv1", "pool1", "conv2", "pool2", "ip1", "relu1", "ip2", "prob"}
	if unknown, err := tb.Match(tensors); err != nil || unknown != nil {
		t.Errorf("all known: %q, %v", unknown, err)
	}
	tb.SetScale("(Unnamed Layer* 4) [Fully Connected]_output", 1)
	if unknown, err := tb.Match(tensors); err != nil || !slices.Equal(unknown, []string{"(Unnamed Layer* 4) [Fully Connected]_output"}) {
		t.Errorf("one unknown: %q, %v", unknown, err)
	}
	unknown, err := tb.Match([]string{"input", "a", "b", "c", "d", "e", "f"})
	if err == nil || len(unknown) != len(tb.Entries) || !strings.Contains(err.Error(), `none of the table's 9 tensors ("data", "conv1", "pool1", "conv2", "pool2" and 4 more) is a tensor of the model ("input", "a", "b", "c", "d" and 2 more)`) {
		t.Errorf("none known: %q, %v", unknown, err)
	}
	if _, err := (&Table{Version: "8601", Algorithm: EntropyCalibration2}).Match(tensors); err == nil || !strings.Contains(err.Error(), "no entries") {
		t.Errorf("empty table: %v", err)
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		r.n++
		return copy(p, "TRT-8601-EntropyCalibration2\ndata: 3c"), nil
	}
	return 0, errors.New("disk on fire")
}

func TestParseReadError(t *testing.T) {
	_, err := Parse(&failingReader{}, "f")
	if err == nil || !strings.Contains(err.Error(), "calibtable: f: disk on fire") {
		t.Fatalf("err = %v", err)
	}
}

func TestReadFileMissing(t *testing.T) {
	_, err := ReadFile("testdata/does-not-exist")
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "testdata/does-not-exist") {
		t.Fatalf("err = %v", err)
	}
}

func TestLookupSet(t *testing.T) {
	tb := New(TRTVersion{Major: 8, Minor: 6, Patch: 1}, EntropyCalibration2)
	if tb.Header() != "TRT-8601-EntropyCalibration2" {
		t.Fatalf("Header() = %q", tb.Header())
	}
	if _, ok := tb.Lookup("data"); ok {
		t.Fatal("Lookup in empty table succeeded")
	}
	tb.Set("data", float32(2040.5)/2048)
	tb.Set("prob", 1)
	tb.Set("prob", float32(2048.5)/2048) // replaces in place
	tb.SetScale("a:b", math.Float32frombits(0x3c010204))
	want := "TRT-8601-EntropyCalibration2\ndata: 3c008912\nprob: 3c010a14\na:b: 3c010204\n"
	var buf bytes.Buffer
	if err := Write(&buf, tb); err != nil {
		t.Fatal(err)
	}
	if buf.String() != want {
		t.Fatalf("Write = %q, want %q", buf.String(), want)
	}
	e, ok := tb.Lookup("prob")
	if !ok || e.Hex() != "3c010a14" || e.Amax() != float32(2048.5)/2048 {
		t.Fatalf("Lookup(prob) = %+v %v", e, ok)
	}
	if e, ok := tb.Lookup("a:b"); !ok || e.Amax() != 1 {
		t.Fatalf("Lookup(a:b) = %+v %v", e, ok)
	}
}

func TestWriteInvalid(t *testing.T) {
	ok := func() *Table { return lenetTable() }
	cases := []struct {
		what string
		mod  func(*Table)
		want string
	}{
		{"empty version", func(t *Table) { t.Version = "" }, `header version "": is empty`},
		{"version with '-'", func(t *Table) { t.Version = "8-6" }, "contains '-'"},
		{"version with space", func(t *Table) { t.Version = "86 01" }, "white space"},
		{"empty algorithm", func(t *Table) { t.Algorithm = "" }, `header algorithm "": is empty`},
		{"algorithm with newline", func(t *Table) { t.Algorithm = "a\nb" }, "white space"},
		{"algorithm with ':'", func(t *Table) { t.Algorithm = "a:b" }, "contains ':'"},
		{"empty name", func(t *Table) { t.Entries[3].Name = "" }, `entry 3: tensor name "": is empty`},
		{"name with newline", func(t *Table) { t.Entries[0].Name = "a\nb: 3c010204" }, "line break"},
		{"name with CR", func(t *Table) { t.Entries[0].Name = "a\r" }, "line break"},
		{"duplicate", func(t *Table) { t.Entries[5].Name = "conv1" }, `entry 5: duplicate tensor name "conv1" (also entry 1)`},
	}
	for _, c := range cases {
		tb := ok()
		c.mod(tb)
		var buf bytes.Buffer
		err := Write(&buf, tb)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.what, err, c.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %q", c.what, buf.String())
		}
		if err2 := tb.Validate(); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("%s: Validate = %v", c.what, err2)
		}
	}
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestWriteShort(t *testing.T) {
	if err := Write(shortWriter{}, lenetTable()); !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("err = %v", err)
	}
}

// TestLongLinesQuotedShort: an error quotes at most the start of a line.
func TestLongLinesQuotedShort(t *testing.T) {
	long := strings.Repeat("x", 1000)
	for _, in := range []string{long + "\n", "TRT-8601-MinMaxCalibration\n" + long + "\n", "TRT-8601-MinMaxCalibration\na: " + long + "\n"} {
		_, err := Parse(strings.NewReader(in), "t")
		if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), strings.Repeat("x", 80)+`..."`) {
			t.Errorf("%d bytes: %v", len(in), err)
		}
	}
}
