package npy

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/int8cal/int8cal/internal/atomicfile"
	"github.com/int8cal/int8cal/internal/boundedread"
	"github.com/int8cal/int8cal/internal/float16"
)

// Magic is the first six bytes of every .npy file.
const Magic = "\x93NUMPY"

// MaxHeaderLen bounds the header length a file may declare. numpy itself
// refuses headers over 10,000 bytes unless told otherwise.
const MaxHeaderLen = 1 << 20

// MaxBytes bounds the data size a header may promise; beyond it the header is
// taken to be corrupt.
const MaxBytes = 1 << 40

// Array is an n-dimensional array as stored in a .npy file: C order, raw
// little-endian element bytes.
type Array struct {
	Descr string // canonical descr: |u1 |i1 |b1 <f2 <f4 <f8 <i4 <i8
	Shape []int  // empty for a 0-d (scalar) array
	Data  []byte // Len()*ItemSize() bytes
}

type dtype struct {
	kind byte // 'u', 'i', 'b' or 'f'
	size int
}

var dtypes = map[string]dtype{
	"u1": {'u', 1}, "i1": {'i', 1}, "b1": {'b', 1},
	"f2": {'f', 2}, "f4": {'f', 4}, "f8": {'f', 8},
	"i4": {'i', 4}, "i8": {'i', 8},
}

const supported = "|u1, |i1, |b1, <f2, <f4, <f8, <i4, <i8"

// canonical maps a descr to its canonical spelling, or explains why it is
// not supported.
func canonical(descr string) (string, dtype, error) {
	if len(descr) < 2 || !strings.ContainsRune("<>|=", rune(descr[0])) {
		return "", dtype{}, fmt.Errorf("unsupported dtype descr %q (supported: %s)", descr, supported)
	}
	order, code := descr[0], descr[1:]
	dt, ok := dtypes[code]
	if !ok {
		return "", dtype{}, fmt.Errorf("unsupported dtype descr %q (supported: %s)", descr, supported)
	}
	if dt.size == 1 {
		return "|" + code, dt, nil
	}
	switch order {
	case '<', '=':
		return "<" + code, dt, nil
	case '>':
		return "", dtype{}, fmt.Errorf("big-endian dtype descr %q is not supported; save a little-endian copy with a.astype('<%s')", descr, code)
	}
	return "", dtype{}, fmt.Errorf("dtype descr %q has no byte order (want <%s)", descr, code)
}

// count multiplies the dimensions of shape, reporting false when they are
// negative or the element count times size exceeds MaxBytes.
func count(shape []int, size int) (int64, bool) {
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			return 0, true
		}
	}
	n := int64(1)
	for _, d := range shape {
		if n > MaxBytes/int64(d) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, n <= MaxBytes/int64(size)
}

// Len returns the number of elements, the product of Shape (1 for a 0-d
// array).
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// check validates the descr, shape and data length of a.
func (a *Array) check() (dtype, int, error) {
	_, dt, err := canonical(a.Descr)
	if err != nil {
		return dt, 0, err
	}
	n, ok := count(a.Shape, dt.size)
	if !ok {
		return dt, 0, fmt.Errorf("invalid shape %s", shapeString(a.Shape))
	}
	if int64(len(a.Data)) != n*int64(dt.size) {
		return dt, 0, fmt.Errorf("shape %s of %s needs %d bytes, Data holds %d", shapeString(a.Shape), a.Descr, n*int64(dt.size), len(a.Data))
	}
	return dt, int(n), nil
}

// Float32 converts the elements to float32: integers and booleans by value
// (integers beyond 2^24 round), float16 exactly, float64 by rounding.
func (a *Array) Float32() ([]float32, error) {
	dt, n, err := a.check()
	if err != nil {
		return nil, fmt.Errorf("npy: Float32: %v", err)
	}
	out := make([]float32, n)
	d := a.Data
	switch dt {
	case dtype{'u', 1}, dtype{'b', 1}:
		for i := range out {
			out[i] = float32(d[i])
		}
	case dtype{'i', 1}:
		for i := range out {
			out[i] = float32(int8(d[i]))
		}
	case dtype{'f', 2}:
		for i := range out {
			out[i] = float16.ToFloat32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case dtype{'f', 4}:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case dtype{'f', 8}:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:])))
		}
	case dtype{'i', 4}:
		for i := range out {
			out[i] = float32(int32(binary.LittleEndian.Uint32(d[4*i:])))
		}
	case dtype{'i', 8}:
		for i := range out {
			out[i] = float32(int64(binary.LittleEndian.Uint64(d[8*i:])))
		}
	}
	return out, nil
}

// Ints converts integer and boolean elements to int64. Floating-point
// arrays are an error: use Float32.
func (a *Array) Ints() ([]int64, error) {
	dt, n, err := a.check()
	if err != nil {
		return nil, fmt.Errorf("npy: Ints: %v", err)
	}
	if dt.kind == 'f' {
		return nil, fmt.Errorf("npy: Ints: array of %s holds floating-point values; use Float32", a.Descr)
	}
	out := make([]int64, n)
	d := a.Data
	switch dt {
	case dtype{'u', 1}, dtype{'b', 1}:
		for i := range out {
			out[i] = int64(d[i])
		}
	case dtype{'i', 1}:
		for i := range out {
			out[i] = int64(int8(d[i]))
		}
	case dtype{'i', 4}:
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(d[4*i:])))
		}
	case dtype{'i', 8}:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(d[8*i:]))
		}
	}
	return out, nil
}

// NewFloat32 returns a <f4 array of the given shape holding v. It panics if
// len(v) is not the product of shape.
func NewFloat32(shape []int, v []float32) *Array {
	a := &Array{Descr: "<f4", Shape: slices.Clone(shape), Data: make([]byte, 4*len(v))}
	if n, ok := count(shape, 4); !ok || n != int64(len(v)) {
		panic(fmt.Sprintf("npy: NewFloat32: %d values for shape %s", len(v), shapeString(shape)))
	}
	for i, x := range v {
		binary.LittleEndian.PutUint32(a.Data[4*i:], math.Float32bits(x))
	}
	return a
}

// ReadFile reads a .npy file. Bytes after the array's data are an error.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	a, n, err := decode(f, path, size, size >= 0)
	if err != nil {
		return nil, err
	}
	if size > n {
		return nil, fmt.Errorf("npy: %s: %d bytes after the %d bytes of data the header promises (several arrays saved to one file? read them in turn with Decode)", path, size-n, len(a.Data))
	}
	return a, nil
}

// Decode reads one .npy array from r. It reads exactly the array's bytes, so
// arrays saved one after another to a stream can be read in turn. name is
// used in error messages.
func Decode(r io.Reader, name string) (*Array, error) {
	a, _, err := decode(r, name, -1, false)
	return a, err
}

// ReadNPZ reads the .npy members of a .npz archive, stored or deflated,
// keyed by member name without the .npy suffix. Members not ending in .npy
// (np.savez writes none) are ignored.
func ReadNPZ(path string) (map[string]*Array, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		if errors.Is(err, zip.ErrFormat) {
			return nil, fmt.Errorf("npy: %s: not a .npz (zip) archive: %v", path, err)
		}
		return nil, fmt.Errorf("npy: %w", err)
	}
	defer z.Close()
	out := make(map[string]*Array)
	for _, f := range z.File {
		if !strings.HasSuffix(f.Name, ".npy") {
			continue
		}
		key := strings.TrimSuffix(f.Name, ".npy")
		name := fmt.Sprintf("%s[%s]", path, f.Name)
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("npy: %s: archive holds %s twice", path, f.Name)
		}
		a, err := readMember(f, name)
		if err != nil {
			return nil, err
		}
		out[key] = a
	}
	return out, nil
}

func readMember(f *zip.File, name string) (*Array, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("npy: %s: %v", name, err)
	}
	defer rc.Close()
	// The declared size lets a short member be reported before any
	// allocation, but is not trusted for allocating.
	size := int64(f.UncompressedSize64)
	if f.UncompressedSize64 > math.MaxInt64 {
		size = -1
	}
	a, _, err := decode(rc, name, size, false)
	if err != nil {
		return nil, err
	}
	// Read to the end, which makes archive/zip verify the CRC.
	extra, err := io.Copy(io.Discard, rc)
	if err != nil {
		return nil, fmt.Errorf("npy: %s: %v", name, err)
	}
	if extra > 0 {
		return nil, fmt.Errorf("npy: %s: %d bytes after the %d bytes of data the header promises", name, extra, len(a.Data))
	}
	return a, nil
}

// decode reads one array and returns it with the number of bytes consumed.
// size is the input's length if known, else -1; prealloc says the data buffer
// may be allocated at once once the header's promise fits in size.
func decode(r io.Reader, name string, size int64, prealloc bool) (*Array, int64, error) {
	var pre [12]byte
	n, err := io.ReadFull(r, pre[:8])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, 0, fmt.Errorf("npy: %s: %v", name, err)
	}
	if string(pre[:min(n, 6)]) != Magic[:min(n, 6)] || n == 0 {
		hint := ""
		if n >= 2 && pre[0] == 'P' && pre[1] == 'K' {
			hint = " (a zip archive: read .npz files with ReadNPZ)"
		}
		return nil, 0, fmt.Errorf("npy: %s: not a .npy file: starts with %q, want %q%s", name, pre[:n], Magic, hint)
	}
	if n < 8 {
		return nil, 0, fmt.Errorf("npy: %s: truncated: %d bytes, shorter than the 8-byte magic and version", name, n)
	}
	major, minor := pre[6], pre[7]
	lenSize := 4
	switch {
	case major == 1 && minor == 0:
		lenSize = 2
	case (major == 2 || major == 3) && minor == 0:
	default:
		return nil, 0, fmt.Errorf("npy: %s: unsupported .npy format version %d.%d (supported: 1.0, 2.0, 3.0)", name, major, minor)
	}
	if m, err := io.ReadFull(r, pre[8:8+lenSize]); err != nil {
		return nil, 0, fmt.Errorf("npy: %s: truncated header length: %d of %d bytes", name, m, lenSize)
	}
	hlen := int64(binary.LittleEndian.Uint16(pre[8:]))
	if lenSize == 4 {
		hlen = int64(binary.LittleEndian.Uint32(pre[8:]))
	}
	if hlen > MaxHeaderLen {
		return nil, 0, fmt.Errorf("npy: %s: header length %d is implausibly large (limit %d)", name, hlen, MaxHeaderLen)
	}
	start := 8 + int64(lenSize)
	if size >= 0 && start+hlen > size {
		return nil, 0, fmt.Errorf("npy: %s: truncated header: %d of %d bytes", name, max(size-start, 0), hlen)
	}
	hdr := make([]byte, hlen)
	if m, err := io.ReadFull(r, hdr); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return nil, 0, fmt.Errorf("npy: %s: truncated header: %d of %d bytes", name, m, hlen)
		}
		return nil, 0, fmt.Errorf("npy: %s: reading header: %v", name, err)
	}
	start += hlen
	descr, shape, err := parseHeader(string(hdr))
	if err != nil {
		return nil, 0, fmt.Errorf("npy: %s: %v", name, err)
	}
	canon, dt, err := canonical(descr)
	if err != nil {
		return nil, 0, fmt.Errorf("npy: %s: %v", name, err)
	}
	cnt, ok := count(shape, dt.size)
	if !ok {
		return nil, 0, fmt.Errorf("npy: %s: shape %s of %s is implausibly large (over %d bytes)", name, shapeString(shape), canon, int64(MaxBytes))
	}
	want := cnt * int64(dt.size)
	what := fmt.Sprintf("shape %s of %s", shapeString(shape), canon)
	if size >= 0 && want > size-start {
		return nil, 0, fmt.Errorf("npy: %s: holds %d bytes of data, header promises %d (%s)", name, size-start, want, what)
	}
	var data []byte
	if prealloc {
		data = make([]byte, want)
		var m int
		m, err = io.ReadFull(r, data)
		data = data[:m]
	} else {
		data, err = boundedread.ReadN(r, want)
	}
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return nil, 0, fmt.Errorf("npy: %s: holds %d bytes of data, header promises %d (%s)", name, len(data), want, what)
	} else if err != nil {
		return nil, 0, fmt.Errorf("npy: %s: reading data after %d of %d bytes: %v", name, len(data), want, err)
	}
	return &Array{Descr: canon, Shape: shape, Data: data}, start + want, nil
}

func shapeString(shape []int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// growthAxisMaxDigits is numpy's GROWTH_AXIS_MAX_DIGITS: numpy.save pads the
// header so the first dimension can grow to this many digits in place.
const growthAxisMaxDigits = 21

// header returns the complete version 1.0 header of a, laid out as numpy.save
// lays it out, padded so the data starts at a multiple of 64 bytes.
func header(a *Array) ([]byte, error) {
	canon, _, err := canonical(a.Descr)
	if err != nil {
		return nil, err
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", canon, shapeString(a.Shape))
	if len(a.Shape) > 0 {
		dict += strings.Repeat(" ", max(growthAxisMaxDigits-len(strconv.Itoa(a.Shape[0])), 0))
	}
	hlen := len(dict) + 1 // the newline
	pad := 64 - (len(Magic)+2+2+hlen)%64
	hlen += pad
	if hlen > math.MaxUint16 {
		return nil, fmt.Errorf("header of %d bytes does not fit format 1.0", hlen)
	}
	b := append([]byte(Magic), 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(hlen))
	b = append(b, dict...)
	b = append(b, strings.Repeat(" ", pad)...)
	return append(b, '\n'), nil
}

// Write stores a as a version 1.0 .npy file at path, as numpy.save would,
// atomically: the bytes go to a temporary file in the same directory, which
// is synced and renamed over path.
func Write(path string, a *Array) error {
	if _, _, err := a.check(); err != nil {
		return fmt.Errorf("npy: writing %s: %v", path, err)
	}
	hdr, err := header(a)
	if err != nil {
		return fmt.Errorf("npy: writing %s: %v", path, err)
	}
	if err := atomicfile.WriteFile(path, append(hdr, a.Data...)); err != nil {
		return fmt.Errorf("npy: writing %s: %w", path, err)
	}
	return nil
}

// WriteNPZ stores arrays as a .npz archive at path, as numpy.savez would
// (members name.npy, stored), atomically, in name order.
func WriteNPZ(path string, arrays map[string]*Array) error {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, name := range slices.Sorted(maps.Keys(arrays)) {
		a := arrays[name]
		if _, _, err := a.check(); err != nil {
			return fmt.Errorf("npy: writing %s[%s.npy]: %v", path, name, err)
		}
		hdr, err := header(a)
		if err != nil {
			return fmt.Errorf("npy: writing %s[%s.npy]: %v", path, name, err)
		}
		w, err := z.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: zip.Store})
		if err != nil {
			return fmt.Errorf("npy: writing %s: %v", path, err)
		}
		w.Write(hdr)
		w.Write(a.Data)
	}
	if err := z.Close(); err != nil {
		return fmt.Errorf("npy: writing %s: %v", path, err)
	}
	if err := atomicfile.WriteFile(path, b.Bytes()); err != nil {
		return fmt.Errorf("npy: writing %s: %w", path, err)
	}
	return nil
}
