package idx

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// imagesFile builds an IDX images file with the given header fields and
// pixel bytes.
func imagesFile(magic uint32, count, rows, cols int32, pix []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	b = binary.BigEndian.AppendUint32(b, uint32(count))
	b = binary.BigEndian.AppendUint32(b, uint32(rows))
	b = binary.BigEndian.AppendUint32(b, uint32(cols))
	return append(b, pix...)
}

func labelsFile(magic uint32, count int32, labels []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	b = binary.BigEndian.AppendUint32(b, uint32(count))
	return append(b, labels...)
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 37)
	}
	return b
}

// checkErr checks that err is a single line naming the file and containing
// every fragment.
func checkErr(t *testing.T, err error, name string, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	if !strings.Contains(msg, name) {
		t.Errorf("error %q does not name the file %q", msg, name)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q lacks %q", msg, w)
		}
	}
}

func TestImages(t *testing.T) {
	valid := imagesFile(ImagesMagic, 2, 2, 3, seq(12))
	corrupt := gz(t, valid)
	corrupt[len(corrupt)-6] ^= 0xff // CRC-32 in the gzip trailer
	tests := []struct {
		name string
		data []byte
		want []string // error fragments; nil means success
	}{
		{"valid", valid, nil},
		{"valid gzipped", gz(t, valid), nil},
		{"empty images", imagesFile(ImagesMagic, 0, 28, 28, nil), nil},
		{"empty images gzipped", gz(t, imagesFile(ImagesMagic, 0, 28, 28, nil)), nil},
		{"zero rows", imagesFile(ImagesMagic, 1<<30, 0, 28, nil), nil},
		{"empty file", nil, []string{"truncated images header: 0 of 16 bytes"}},
		{"truncated magic", []byte{0, 0, 8}, []string{"truncated images header: 3 of 16 bytes"}},
		{"truncated header", valid[:10], []string{"truncated images header: 10 of 16 bytes"}},
		{"truncated header gzipped", gz(t, valid[:10]), []string{"truncated images header: 10 of 16 bytes after gunzip"}},
		{"labels file", labelsFile(LabelsMagic, 3, []byte{1, 2, 3}), []string{"found magic 2049 (0x00000801", "magic 2051 (0x00000803)", "swapped"}},
		{"other magic", imagesFile(0x12345678, 1, 1, 1, []byte{0}), []string{"found magic 305419896 (0x12345678)", "2051 (0x00000803)", "swapped"}},
		{"truncated data", valid[:len(valid)-7], []string{"holds 5 bytes of pixels, header promises 12 (2 images of 2x3)"}},
		{"truncated data gzipped", gz(t, valid[:len(valid)-7]), []string{"holds 5 bytes of pixels, header promises 12", "after gunzip"}},
		{"truncated gzip stream", gz(t, valid)[:20], []string{"images"}},
		{"corrupt gzip checksum", corrupt, []string{"checksum"}},
		{"not gzip after all", []byte{0x1f, 0x8b, 0, 0, 0}, []string{"gzip"}},
		{"trailing bytes", append(append([]byte{}, valid...), 9, 9), []string{"2 unexpected bytes after the 12 bytes of pixels"}},
		{"negative count", imagesFile(ImagesMagic, -1, 28, 28, nil), []string{"absurd dimensions", "count -1"}},
		{"negative cols", imagesFile(ImagesMagic, 1, 28, -28, nil), []string{"absurd dimensions", "cols -28"}},
		{"huge", imagesFile(ImagesMagic, 1<<30, 1<<16, 1<<16, nil), []string{"absurd dimensions", "1073741824 images of 65536x65536", "limit"}},
		{"just over limit", imagesFile(ImagesMagic, 1<<20, 1<<6, 1<<5+1, nil), []string{"absurd dimensions"}},
		// Exactly at the limit: rejected for lack of data, without a 2 GiB
		// allocation (the file size is known, or the buffer grows as data
		// arrives).
		{"at limit", imagesFile(ImagesMagic, 1<<20, 1<<6, 1<<5, seq(4)), []string{"holds 4 bytes of pixels, header promises 2147483648"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "images.idx")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			fromFile, err1 := ReadImages(path)
			fromReader, err2 := DecodeImages(bytes.NewReader(tt.data), "stream.idx")
			if tt.want != nil {
				checkErr(t, err1, path, tt.want)
				checkErr(t, err2, "stream.idx", tt.want)
				return
			}
			for _, err := range []error{err1, err2} {
				if err != nil {
					t.Fatal(err)
				}
			}
			plain := tt.data
			if plain[0] == 0x1f {
				zr, err := gzip.NewReader(bytes.NewReader(plain))
				if err != nil {
					t.Fatal(err)
				}
				if plain, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			for _, im := range []*Images{fromFile, fromReader} {
				if len(im.Pixels) != im.Count*im.Rows*im.Cols {
					t.Fatalf("%d pixels for %d images of %dx%d", len(im.Pixels), im.Count, im.Rows, im.Cols)
				}
				hdr := imagesFile(ImagesMagic, int32(im.Count), int32(im.Rows), int32(im.Cols), nil)
				if !bytes.Equal(plain[:16], hdr) {
					t.Fatalf("header fields %d, %d, %d do not match the file", im.Count, im.Rows, im.Cols)
				}
				if !bytes.Equal(im.Pixels, plain[16:]) {
					t.Fatalf("pixels %v, want %v", im.Pixels, plain[16:])
				}
			}
		})
	}
}

func TestImagesFields(t *testing.T) {
	im, err := DecodeImages(bytes.NewReader(gz(t, imagesFile(ImagesMagic, 2, 2, 3, seq(12)))), "x")
	if err != nil {
		t.Fatal(err)
	}
	if im.Count != 2 || im.Rows != 2 || im.Cols != 3 {
		t.Fatalf("got %d images of %dx%d, want 2 of 2x3", im.Count, im.Rows, im.Cols)
	}
	if got, want := im.Image(1), seq(12)[6:]; !bytes.Equal(got, want) {
		t.Fatalf("Image(1) = %v, want %v", got, want)
	}
}

func TestLabels(t *testing.T) {
	valid := labelsFile(LabelsMagic, 4, []byte{0, 9, 200, 255}) // 200, 255: not digits, still valid IDX
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"valid", valid, nil},
		{"valid gzipped", gz(t, valid), nil},
		{"empty labels", labelsFile(LabelsMagic, 0, nil), nil},
		{"empty file", nil, []string{"truncated labels header: 0 of 8 bytes"}},
		{"truncated header", valid[:6], []string{"truncated labels header: 6 of 8 bytes"}},
		{"images file", imagesFile(ImagesMagic, 1, 1, 1, []byte{7}), []string{"found magic 2051 (0x00000803", "labels magic 2049 (0x00000801)", "swapped"}},
		{"truncated data", valid[:10], []string{"holds 2 bytes of labels, header promises 4 (4 labels)"}},
		{"truncated data gzipped", gz(t, valid[:10]), []string{"holds 2 bytes of labels, header promises 4", "after gunzip"}},
		{"negative count", labelsFile(LabelsMagic, -5, nil), []string{"absurd dimensions", "count -5"}},
		{"large count, little data", labelsFile(LabelsMagic, 1<<31-1, []byte{1}), []string{"holds 1 bytes of labels, header promises 2147483647"}},
		{"trailing bytes", append(append([]byte{}, valid...), 1), []string{"1 unexpected bytes after the 4 bytes of labels"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "labels.idx")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			fromFile, err1 := ReadLabels(path)
			fromReader, err2 := DecodeLabels(bytes.NewReader(tt.data), "stream.idx")
			if tt.want != nil {
				checkErr(t, err1, path, tt.want)
				checkErr(t, err2, "stream.idx", tt.want)
				return
			}
			for _, err := range []error{err1, err2} {
				if err != nil {
					t.Fatal(err)
				}
			}
			want := tt.data[8:]
			if len(tt.data) > 0 && tt.data[0] == 0x1f {
				want = valid[8:]
			}
			for _, got := range [][]uint8{fromFile, fromReader} {
				if !bytes.Equal(got, want) {
					t.Fatalf("labels %v, want %v", got, want)
				}
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope-images-idx3-ubyte")
	_, err := ReadImages(path)
	checkErr(t, err, path, []string{"no such file"})
	_, err = ReadLabels(path)
	checkErr(t, err, path, []string{"no such file"})
}

func TestFloat32(t *testing.T) {
	pix := make([]byte, 3*2*2)
	for i := range pix {
		pix[i] = byte(i * 23)
	}
	pix[11] = 255
	im := &Images{Count: 3, Rows: 2, Cols: 2, Pixels: pix}
	dst := make([]float32, 9)
	for i := range dst {
		dst[i] = -1
	}
	im.Float32(dst, 1, 2)
	for i := range 8 {
		p := pix[4+i]
		if want := float32(float64(p) / 255.0); dst[i] != want {
			t.Errorf("dst[%d] = %v, want %v (pixel %d)", i, dst[i], want, p)
		}
	}
	if dst[7] != 1 {
		t.Errorf("255 -> %v, want 1", dst[7])
	}
	if dst[8] != -1 {
		t.Errorf("Float32 wrote past n images: dst[8] = %v", dst[8])
	}
	// float32 division equals TensorRT's double division rounded to float.
	for p := range 256 {
		if a, b := float32(p)/255, float32(float64(p)/255.0); a != b {
			t.Errorf("pixel %d: float32 %v, float64 %v", p, a, b)
		}
	}
	for _, bad := range []struct{ first, n, dst int }{{-1, 1, 4}, {2, 2, 8}, {0, 4, 16}, {0, 2, 7}, {3, -1, 0}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Float32(dst[%d], %d, %d) did not panic", bad.dst, bad.first, bad.n)
				}
			}()
			im.Float32(make([]float32, bad.dst), bad.first, bad.n)
		}()
	}
	im.Float32(nil, 3, 0) // an empty range at the end is fine
}

func FuzzDecodeImages(f *testing.F) {
	valid := imagesFile(ImagesMagic, 2, 2, 3, seq(12))
	f.Add(valid)
	f.Add(gz(f, valid))
	f.Add(valid[:20])
	f.Add(imagesFile(ImagesMagic, 1<<20, 1<<6, 1<<5, nil))
	f.Add(labelsFile(LabelsMagic, 2, []byte{1, 2}))
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := DecodeImages(bytes.NewReader(data), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "idx: fuzz: ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		if im.Count < 0 || im.Rows < 0 || im.Cols < 0 || len(im.Pixels) != im.Count*im.Rows*im.Cols {
			t.Fatalf("%d pixels for %d images of %dx%d", len(im.Pixels), im.Count, im.Rows, im.Cols)
		}
		if im.Count > 0 {
			n := min(im.Count, 4)
			im.Float32(make([]float32, n*im.Rows*im.Cols), im.Count-n, n)
		}
	})
}

func FuzzDecodeLabels(f *testing.F) {
	valid := labelsFile(LabelsMagic, 3, []byte{1, 2, 3})
	f.Add(valid)
	f.Add(gz(f, valid))
	f.Add(valid[:9])
	f.Add(imagesFile(ImagesMagic, 1, 1, 1, []byte{0}))
	f.Fuzz(func(t *testing.T, data []byte) {
		labels, err := DecodeLabels(bytes.NewReader(data), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "idx: fuzz: ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		// Success means the header's count matches the data. The input may
		// be gzipped; compare only when it is not.
		if len(data) >= 8 && data[0] != 0x1f {
			if n := int(binary.BigEndian.Uint32(data[4:])); n != len(labels) || len(data) != 8+n {
				t.Fatalf("%d labels from %d bytes with count %d", len(labels), len(data), n)
			}
		}
	})
}
