package idx

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/int8cal/int8cal/internal/boundedread"
)

// Magic numbers of the two IDX file kinds MNIST uses: 0x08 is the unsigned
// byte element type, the last byte the number of dimensions.
const (
	ImagesMagic = 0x00000803 // 2051: uint8, 3 dimensions (count, rows, cols)
	LabelsMagic = 0x00000801 // 2049: uint8, 1 dimension (count)
)

// MaxBytes bounds the data size a header may promise (count*rows*cols for
// images, count for labels). MNIST's largest file holds 47,040,000 pixels;
// a header promising more than 2 GiB is taken to be corrupt rather than
// allocated.
const MaxBytes = 1 << 31

// Images is an IDX images file: Count images of Rows x Cols pixels, stored
// image after image, row-major, one byte per pixel (0 background, 255 ink for
// MNIST).
type Images struct {
	Count, Rows, Cols int
	Pixels            []uint8 // len(Pixels) == Count*Rows*Cols
}

// Image returns the pixels of image i (Rows*Cols bytes, sharing Pixels).
// It panics if i is out of range.
func (im *Images) Image(i int) []uint8 {
	if i < 0 || i >= im.Count {
		panic(fmt.Sprintf("idx: Image(%d) out of range [0, %d)", i, im.Count))
	}
	size := im.Rows * im.Cols
	return im.Pixels[i*size : (i+1)*size : (i+1)*size]
}

// Float32 writes images [first, first+n) into dst[:n*Rows*Cols] as
// float32(pixel)/255, in NCHW order with C=1 (which for one channel is the
// file's own order). This is the scaling of TensorRT's sampleINT8
// MNISTBatchStream; float32 division of a byte by 255 is correctly rounded,
// so the values equal a double-precision division rounded to float32.
//
// It panics if the range lies outside [0, Count) or dst is too short, as a
// slice expression would.
func (im *Images) Float32(dst []float32, first, n int) {
	if first < 0 || n < 0 || first > im.Count-n {
		panic(fmt.Sprintf("idx: Float32: images [%d, %d) out of range [0, %d)", first, first+n, im.Count))
	}
	size := im.Rows * im.Cols
	if len(dst) < n*size {
		panic(fmt.Sprintf("idx: Float32: dst holds %d values, %d images of %dx%d need %d", len(dst), n, im.Rows, im.Cols, n*size))
	}
	src := im.Pixels[first*size : (first+n)*size]
	dst = dst[:len(src)]
	for i, p := range src {
		dst[i] = float32(p) / 255
	}
}

// ReadImages reads an IDX images file, gzipped or not.
func ReadImages(path string) (*Images, error) {
	f, size, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decodeImages(f, path, size)
}

// ReadLabels reads an IDX labels file, gzipped or not. Values are returned
// as stored; nothing requires them to lie in 0..9.
func ReadLabels(path string) ([]uint8, error) {
	f, size, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decodeLabels(f, path, size)
}

// DecodeImages reads an IDX images file, gzipped or not, from r. name is
// used in error messages. It reads r to its end: bytes after the pixels the
// header promises are an error.
func DecodeImages(r io.Reader, name string) (*Images, error) {
	return decodeImages(r, name, -1)
}

// DecodeLabels reads an IDX labels file, gzipped or not, from r, as
// ReadLabels does.
func DecodeLabels(r io.Reader, name string) ([]uint8, error) {
	return decodeLabels(r, name, -1)
}

// open opens path and returns its size, or -1 when it is not a regular file.
func open(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("idx: %w", err)
	}
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return f, size, nil
}

// source wraps r in a gzip reader when it starts with the gzip magic. size is
// the number of bytes the returned reader will deliver, or -1 if unknown.
func source(r io.Reader, name string, size int64) (io.Reader, int64, bool, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2) // a short or failing peek leaves the header check to report it
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, 0, true, fmt.Errorf("idx: %s: starts like a gzip file but is not one: %v", name, err)
		}
		return z, -1, true, nil
	}
	return br, size, false, nil
}

func decodeImages(r io.Reader, name string, size int64) (*Images, error) {
	src, size, gz, err := source(r, name, size)
	if err != nil {
		return nil, err
	}
	var hdr [16]byte
	if err := readHeader(src, hdr[:], name, ImagesMagic, gz); err != nil {
		return nil, err
	}
	count := int32(binary.BigEndian.Uint32(hdr[4:]))
	rows := int32(binary.BigEndian.Uint32(hdr[8:]))
	cols := int32(binary.BigEndian.Uint32(hdr[12:]))
	if count < 0 || rows < 0 || cols < 0 {
		return nil, fmt.Errorf("idx: %s: absurd dimensions in images header: count %d, rows %d, cols %d (negative)", name, count, rows, cols)
	}
	want, ok := product(int64(count), int64(rows), int64(cols))
	if !ok {
		return nil, fmt.Errorf("idx: %s: absurd dimensions in images header: %d images of %dx%d = %.0f bytes of pixels, more than the %d-byte limit", name, count, rows, cols, float64(count)*float64(rows)*float64(cols), MaxBytes)
	}
	what := fmt.Sprintf("%d images of %dx%d", count, rows, cols)
	pix, err := readData(src, name, "pixels", what, want, size-int64(len(hdr)), size >= 0, gz)
	if err != nil {
		return nil, err
	}
	return &Images{Count: int(count), Rows: int(rows), Cols: int(cols), Pixels: pix}, nil
}

func decodeLabels(r io.Reader, name string, size int64) ([]uint8, error) {
	src, size, gz, err := source(r, name, size)
	if err != nil {
		return nil, err
	}
	var hdr [8]byte
	if err := readHeader(src, hdr[:], name, LabelsMagic, gz); err != nil {
		return nil, err
	}
	count := int32(binary.BigEndian.Uint32(hdr[4:]))
	if count < 0 {
		return nil, fmt.Errorf("idx: %s: absurd dimensions in labels header: count %d (negative)", name, count)
	}
	want := int64(count) // an int32 is within MaxBytes
	what := fmt.Sprintf("%d labels", count)
	return readData(src, name, "labels", what, want, size-int64(len(hdr)), size >= 0, gz)
}

// product multiplies non-negative dimensions, reporting false when the
// result exceeds MaxBytes.
func product(dims ...int64) (int64, bool) {
	for _, d := range dims {
		if d == 0 {
			return 0, true
		}
	}
	p := int64(1)
	for _, d := range dims {
		if p > MaxBytes/d {
			return 0, false
		}
		p *= d
	}
	return p, p <= MaxBytes
}

func kindOf(magic uint32) string {
	switch magic {
	case ImagesMagic:
		return "images"
	case LabelsMagic:
		return "labels"
	}
	return ""
}

// readHeader fills hdr, checking the magic in its first four bytes.
func readHeader(r io.Reader, hdr []byte, name string, want uint32, gz bool) error {
	n, err := io.ReadFull(r, hdr[:4])
	if err == nil {
		got := binary.BigEndian.Uint32(hdr)
		if got != want {
			return magicError(name, got, want)
		}
		var m int
		m, err = io.ReadFull(r, hdr[4:])
		n += m
	}
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("idx: %s: truncated %s header: %d of %d bytes%s", name, kindOf(want), n, len(hdr), gzNote(gz))
	case err != nil:
		return fmt.Errorf("idx: %s: reading %s header: %v", name, kindOf(want), err)
	}
	return nil
}

func gzNote(gz bool) string {
	if gz {
		return " after gunzip"
	}
	return ""
}

func magicError(name string, got, want uint32) error {
	other := uint32(LabelsMagic)
	if want == LabelsMagic {
		other = ImagesMagic
	}
	if got == other {
		return fmt.Errorf("idx: %s: found magic %d (0x%08x, an IDX %s file) where the %s magic %d (0x%08x) was expected: the images and labels files look swapped",
			name, got, got, kindOf(got), kindOf(want), want, want)
	}
	return fmt.Errorf("idx: %s: found magic %d (0x%08x) where the IDX %s magic %d (0x%08x) was expected: not an MNIST %s file (an images file has %d, a labels file %d; are they swapped or is this another format?)",
		name, got, got, kindOf(want), want, want, kindOf(want), ImagesMagic, LabelsMagic)
}

// readData reads the want bytes of data that follow the header and checks
// that nothing follows them. avail is the number of bytes left in the input
// when known; a header promising more is rejected before anything is
// allocated. Otherwise the buffer grows as data arrives, so a forged header
// cannot make the reader allocate much more than the input holds.
func readData(r io.Reader, name, unit, what string, want, avail int64, known, gz bool) ([]byte, error) {
	if known && want > avail {
		return nil, fmt.Errorf("idx: %s: holds %d bytes of %s, header promises %d (%s)", name, max(avail, 0), unit, want, what)
	}
	var buf []byte
	var err error
	if known {
		buf = make([]byte, want)
		var n int
		n, err = io.ReadFull(r, buf)
		buf = buf[:n]
	} else {
		buf, err = boundedread.ReadN(r, want)
	}
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return nil, fmt.Errorf("idx: %s: holds %d bytes of %s, header promises %d (%s)%s", name, len(buf), unit, want, what, gzNote(gz))
	case err != nil:
		return nil, fmt.Errorf("idx: %s: reading %s after %d of %d bytes: %v", name, unit, len(buf), want, err)
	}
	// Read to the end: this also makes gzip verify its checksum.
	extra, err := io.Copy(io.Discard, r)
	if err != nil {
		return nil, fmt.Errorf("idx: %s: after the %d bytes of %s: %v", name, want, unit, err)
	}
	if extra > 0 {
		return nil, fmt.Errorf("idx: %s: %d unexpected bytes after the %d bytes of %s the header promises (%s)%s", name, extra, want, unit, what, gzNote(gz))
	}
	return buf, nil
}
