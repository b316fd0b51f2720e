package batchfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/int8cal/int8cal/internal/atomicfile"
	"github.com/int8cal/int8cal/internal/boundedread"
)

// HeaderSize is the size of a batch file's header: four int32.
const HeaderSize = 16

// MaxBytes bounds the size a header may promise for one file (4 GiB; the
// sampleINT8 files of 50 images of 3×224×224 are 30 MB). A larger promise is
// taken to be corruption rather than allocated.
const MaxBytes = 1 << 32

// MaxLabel bounds the labels Write stores: float32 holds every integer up
// to 2^24 exactly.
const MaxLabel = 1 << 24

// File is one decoded batch file.
type File struct {
	N, C, H, W int
	Images     []float32 // N*C*H*W values, NCHW
	Labels     []float32 // N values, as stored
}

// Name returns the name of batch file k: prefix + k + suffix.
func Name(prefix, suffix string, k int) string {
	return prefix + strconv.Itoa(k) + suffix
}

// dims is a parsed header.
type dims struct{ n, c, h, w int }

func (d dims) String() string { return fmt.Sprintf("N,C,H,W = %d,%d,%d,%d", d.n, d.c, d.h, d.w) }

// vol is the number of values of one image.
func (d dims) vol() int { return d.c * d.h * d.w }

// dataBytes is the size of the data after the header.
func (d dims) dataBytes() int64 { return 4 * int64(d.n) * int64(d.vol()+1) }

func (d dims) what() string {
	return fmt.Sprintf("%s: %d image values and %d labels, float32", d, d.n*d.vol(), d.n)
}

// parseHeader checks a header's dimensions.
func parseHeader(b []byte, name string) (dims, error) {
	var v [4]int64
	for i := range v {
		v[i] = int64(int32(binary.LittleEndian.Uint32(b[4*i:])))
	}
	d := dims{int(v[0]), int(v[1]), int(v[2]), int(v[3])}
	bad := ""
	if v[0] <= 0 || v[1] <= 0 || v[2] <= 0 || v[3] <= 0 {
		bad = "every dimension must be positive"
	} else if !fits(v) {
		bad = fmt.Sprintf("the data would exceed the %d-byte limit", int64(MaxBytes))
	}
	if bad == "" {
		return d, nil
	}
	hint := ""
	var s [4]uint32
	plausible := true
	for i := range s {
		s[i] = binary.BigEndian.Uint32(b[4*i:])
		plausible = plausible && s[i] > 0 && s[i] <= 1<<16
	}
	if plausible {
		hint = fmt.Sprintf("; read big-endian they would be %d,%d,%d,%d: only little-endian batch files are read", s[0], s[1], s[2], s[3])
	}
	return dims{}, fmt.Errorf("batchfile: %s: absurd header %d,%d,%d,%d (N,C,H,W, int32 little-endian): %s%s; is this a TensorRT batch file?",
		name, v[0], v[1], v[2], v[3], bad, hint)
}

// fits reports whether positive dimensions n, c, h, w (each below 2^31)
// give a file of at most MaxBytes, without overflowing.
func fits(v [4]int64) bool {
	for _, x := range v {
		if x <= 0 || x > math.MaxInt32 {
			return false
		}
	}
	p := v[1] * v[2] // < 2^62
	if p > MaxBytes {
		return false
	}
	p *= v[3] // < 2^32 * 2^31
	if p > MaxBytes {
		return false
	}
	return v[0] <= (MaxBytes-HeaderSize)/4/(p+1)
}

// checkSize compares a file's size with what its header promises.
func checkSize(name string, d dims, size int64) error {
	want := HeaderSize + d.dataBytes()
	switch {
	case size < want:
		return fmt.Errorf("batchfile: %s: truncated: %d bytes, the header (%s) needs %d", name, size, d.what(), want)
	case size > want:
		return fmt.Errorf("batchfile: %s: %d bytes, %d more than the header (%s) promises", name, size, size-want, d.what())
	}
	return nil
}

// Decode reads one batch file from r, which must end where the file ends.
// name is used in error messages.
func Decode(r io.Reader, name string) (*File, error) {
	return decode(r, name, -1)
}

// ReadFile reads one batch file.
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("batchfile: %w", err)
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return decode(f, path, size)
}

func decode(r io.Reader, name string, size int64) (*File, error) {
	var hdr [HeaderSize]byte
	if n, err := io.ReadFull(r, hdr[:]); err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("batchfile: %s: truncated header: %d of %d bytes", name, n, HeaderSize)
	} else if err != nil {
		return nil, fmt.Errorf("batchfile: %s: reading header: %v", name, err)
	}
	d, err := parseHeader(hdr[:], name)
	if err != nil {
		return nil, err
	}
	if size >= 0 {
		if err := checkSize(name, d, size); err != nil {
			return nil, err
		}
	}
	want := d.dataBytes()
	data, err := boundedread.ReadN(r, want)
	if err == io.ErrUnexpectedEOF {
		return nil, checkSize(name, d, HeaderSize+int64(len(data)))
	} else if err != nil {
		return nil, fmt.Errorf("batchfile: %s: reading data after %d of %d bytes: %v", name, len(data), want, err)
	}
	extra, err := io.Copy(io.Discard, r)
	if err != nil {
		return nil, fmt.Errorf("batchfile: %s: after the data: %v", name, err)
	}
	if extra > 0 {
		return nil, checkSize(name, d, HeaderSize+want+extra)
	}
	f := &File{N: d.n, C: d.c, H: d.h, W: d.w, Images: make([]float32, d.n*d.vol()), Labels: make([]float32, d.n)}
	floats(f.Images, data)
	floats(f.Labels, data[4*len(f.Images):])
	return f, nil
}

// floats decodes len(dst) little-endian float32 from src.
func floats(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

// Stream is a sequence of batch files read as one run of samples. Its
// methods may be called concurrently; reads are serialized.
type Stream struct {
	prefix, suffix string
	d              dims
	files          int

	mu   sync.Mutex
	file *os.File // the file last read, kept open for the next Read
	k    int      // its index
	buf  []byte
}

// Open opens the batch files prefix0, prefix1, ... (no suffix), as
// sampleINT8 names them.
func Open(prefix string) (*Stream, error) {
	return OpenSuffix(prefix, "")
}

// OpenSuffix opens the batch files prefix + k + suffix, k = 0, 1, ...: it
// reads their headers and checks their sizes (see the package
// documentation).
func OpenSuffix(prefix, suffix string) (*Stream, error) {
	s := &Stream{prefix: prefix, suffix: suffix, k: -1}
	for k := 0; ; k++ {
		name := Name(prefix, suffix, k)
		d, size, err := readHeader(name)
		if errors.Is(err, fs.ErrNotExist) {
			if k == 0 {
				return nil, fmt.Errorf("batchfile: %s: no such file; batch files are named <prefix>0<suffix>, <prefix>1<suffix>, ... (sampleINT8 used prefix batches/batch, giving batches/batch0)", name)
			}
			next := Name(prefix, suffix, k+1)
			if _, err := os.Stat(next); err == nil {
				return nil, fmt.Errorf("batchfile: %s is missing but %s exists: the batch files must be numbered without gaps", name, next)
			}
			break
		}
		if err != nil {
			return nil, err
		}
		if k == 0 {
			s.d = d
		} else if d != s.d {
			return nil, fmt.Errorf("batchfile: %s: header %s differs from %s's %s; every batch file must have the same dimensions, as TensorRT's BatchStream requires",
				name, d, Name(prefix, suffix, 0), s.d)
		}
		if err := checkSize(name, d, size); err != nil {
			return nil, err
		}
		s.files = k + 1
	}
	if int64(s.files)*int64(s.d.n) > math.MaxInt32 {
		return nil, fmt.Errorf("batchfile: %s...: %d files of %d samples are more than %d samples", Name(prefix, suffix, 0), s.files, s.d.n, math.MaxInt32)
	}
	return s, nil
}

// readHeader reads and checks the header of one file and returns its size.
func readHeader(name string) (dims, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return dims{}, 0, err
		}
		return dims{}, 0, fmt.Errorf("batchfile: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return dims{}, 0, fmt.Errorf("batchfile: %w", err)
	}
	if !st.Mode().IsRegular() {
		return dims{}, 0, fmt.Errorf("batchfile: %s is not a regular file", name)
	}
	var hdr [HeaderSize]byte
	n, err := io.ReadFull(f, hdr[:])
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return dims{}, 0, fmt.Errorf("batchfile: %s: truncated header: %d of %d bytes", name, n, HeaderSize)
	} else if err != nil {
		return dims{}, 0, fmt.Errorf("batchfile: %s: reading header: %v", name, err)
	}
	d, err := parseHeader(hdr[:], name)
	return d, st.Size(), err
}

// Len returns the number of samples in all files.
func (s *Stream) Len() int { return s.files * s.d.n }

// SampleShape returns {C, H, W}.
func (s *Stream) SampleShape() []int { return []int{s.d.c, s.d.h, s.d.w} }

// Files returns the number of batch files.
func (s *Stream) Files() int { return s.files }

// FileLen returns N, the number of samples in each file.
func (s *Stream) FileLen() int { return s.d.n }

// Path returns the name of file k.
func (s *Stream) Path(k int) string { return Name(s.prefix, s.suffix, k) }

// Close closes the file kept open between reads. The Stream may be read
// again afterwards.
func (s *Stream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file, s.k = nil, -1
	return err
}

// Read writes samples [first, first+n) of the concatenated files into
// images (n·C·H·W values, NCHW) and their labels into labels[:n], unless
// labels is nil (then labels are neither read nor checked).
func (s *Stream) Read(first, n int, images []float32, labels []int) error {
	if first < 0 || n < 0 || first > s.Len()-n {
		return fmt.Errorf("batchfile: samples [%d,%d) requested, %s... hold %d (%d files of %d)", first, first+n, s.Path(0), s.Len(), s.files, s.d.n)
	}
	vol := s.d.vol()
	if len(images) < n*vol || labels != nil && len(labels) < n {
		return fmt.Errorf("batchfile: Read of %d samples of %dx%dx%d needs %d values and %d labels, got room for %d and %d",
			n, s.d.c, s.d.h, s.d.w, n*vol, n, len(images), len(labels))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for pos := first; pos < first+n; {
		k, j := pos/s.d.n, pos%s.d.n
		cnt := min(s.d.n-j, first+n-pos)
		var lbl []int
		if labels != nil {
			lbl = labels[pos-first : pos-first+cnt]
		}
		if err := s.readRun(k, j, cnt, images[(pos-first)*vol:(pos-first+cnt)*vol], lbl); err != nil {
			return err
		}
		pos += cnt
	}
	return nil
}

// readRun reads samples [j, j+cnt) of file k, and their labels unless
// labels is nil.
func (s *Stream) readRun(k, j, cnt int, images []float32, labels []int) error {
	name := s.Path(k)
	if s.k != k {
		if s.file != nil {
			s.file.Close()
			s.file, s.k = nil, -1
		}
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("batchfile: %w", err)
		}
		s.file, s.k = f, k
	}
	vol := s.d.vol()
	// Images, in chunks of whole images of at most about 1 MiB.
	per := max(1, (1<<20)/(4*vol))
	for i := 0; i < cnt; i += per {
		m := min(per, cnt-i)
		off := HeaderSize + 4*int64(j+i)*int64(vol)
		b, err := s.readAt(name, off, 4*m*vol)
		if err != nil {
			return err
		}
		dst := images[i*vol : (i+m)*vol]
		floats(dst, b)
		for e, v := range dst {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				img := j + i + e/vol
				return fmt.Errorf("batchfile: %s: image %d (sample %d of the stream) holds %v at value %d; the file is corrupt, or not a little-endian float32 batch file",
					name, img, k*s.d.n+img, v, e%vol)
			}
		}
	}
	if labels == nil {
		return nil
	}
	b, err := s.readAt(name, HeaderSize+4*int64(s.d.n)*int64(vol)+4*int64(j), 4*cnt)
	if err != nil {
		return err
	}
	for i := range cnt {
		v := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		if !(v >= 0 && v < 1<<31) || v != float32(math.Trunc(float64(v))) {
			return fmt.Errorf("batchfile: %s: label of image %d (sample %d of the stream) is %v, not a non-negative integer class index",
				name, j+i, k*s.d.n+j+i, v)
		}
		labels[i] = int(v)
	}
	return nil
}

// readAt reads n bytes at off of the open file into the Stream's buffer.
func (s *Stream) readAt(name string, off int64, n int) ([]byte, error) {
	if cap(s.buf) < n {
		s.buf = make([]byte, n)
	}
	b := s.buf[:n]
	got, err := s.file.ReadAt(b, off)
	if err == io.EOF {
		return nil, fmt.Errorf("batchfile: %s: truncated since Open: %d bytes at offset %d, wanted %d", name, got, off, n)
	} else if err != nil {
		return nil, fmt.Errorf("batchfile: %s: %v", name, err)
	}
	return b, nil
}

// Write stores images and labels as batch files prefix0, prefix1, ... of
// batchSize samples each (see WriteSuffix).
func Write(prefix string, batchSize int, images []float32, labels []int, shape [3]int) error {
	return WriteSuffix(prefix, "", batchSize, images, labels, shape)
}

// WriteSuffix stores len(labels) samples of shape {C, H, W} (images in
// NCHW order) as batch files prefix + k + suffix of batchSize samples each.
// The count must be a multiple of batchSize, since every file must have the
// same N; labels must lie in [0, MaxLabel]. The parent folder is created if
// need be. Each file is written atomically, the set is not: a file
// prefix + count/batchSize + suffix left from an earlier, longer set is an
// error before anything is written, since readers would take it as part of
// this set.
func WriteSuffix(prefix, suffix string, batchSize int, images []float32, labels []int, shape [3]int) error {
	name0 := Name(prefix, suffix, 0)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("batchfile: writing %s...: %s", name0, fmt.Sprintf(format, args...))
	}
	c, h, w := shape[0], shape[1], shape[2]
	if c <= 0 || h <= 0 || w <= 0 {
		return fail("shape %dx%dx%d: every dimension must be positive", c, h, w)
	}
	if batchSize <= 0 {
		return fail("batch size %d: must be positive", batchSize)
	}
	count := len(labels)
	if count == 0 {
		return fail("no samples")
	}
	if count%batchSize != 0 {
		return fail("%d samples do not fill files of %d (every batch file must hold the same N): drop the last %d or choose a batch size that divides %d",
			count, batchSize, count%batchSize, count)
	}
	d := dims{batchSize, c, h, w}
	if !fits([4]int64{int64(batchSize), int64(c), int64(h), int64(w)}) {
		return fail("files of %s would exceed the %d-byte limit", d, int64(MaxBytes))
	}
	vol := d.vol()
	if len(images) != count*vol {
		return fail("%d image values for %d samples of %dx%dx%d, want %d", len(images), count, c, h, w, count*vol)
	}
	for i, l := range labels {
		if l < 0 || l > MaxLabel {
			return fail("label %d of sample %d out of range [0, %d] (stored as float32)", l, i, MaxLabel)
		}
	}
	files := count / batchSize
	if stale := Name(prefix, suffix, files); exists(stale) {
		return fail("%s exists, left from an earlier set of more files; readers would take it as part of this one: remove the batch files from %s on first", stale, stale)
	}
	if err := os.MkdirAll(filepath.Dir(name0), 0o755); err != nil {
		return fail("%v", err)
	}
	buf := make([]byte, 0, HeaderSize+d.dataBytes())
	for k := range files {
		buf = buf[:0]
		for _, v := range []int{batchSize, c, h, w} {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(v))
		}
		for _, v := range images[k*batchSize*vol : (k+1)*batchSize*vol] {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		for _, l := range labels[k*batchSize : (k+1)*batchSize] {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(l)))
		}
		if err := atomicfile.WriteFile(Name(prefix, suffix, k), buf); err != nil {
			return fmt.Errorf("batchfile: writing %s: %w", Name(prefix, suffix, k), err)
		}
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
