package imagefolder

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/datasets/preprocess"
)

// solid returns an h×w image of colour c, with pixel (0,0) set to c0 when
// c0 is not nil.
func solid(h, w int, c color.Color, c0 color.Color) image.Image {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, c)
		}
	}
	if c0 != nil {
		m.Set(0, 0, c0)
	}
	return m
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// write creates root/rel with data, making folders.
func write(t testing.TB, root, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkErr checks that err is one line containing every fragment.
func checkErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	if !strings.HasPrefix(msg, "imagefolder: ") {
		t.Errorf("error %q lacks the package prefix", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q lacks %q", msg, w)
		}
	}
}

func rels(f *Folder) []string {
	var out []string
	for i := range f.Len() {
		r, err := filepath.Rel(f.dir, f.Path(i))
		if err != nil {
			panic(err)
		}
		out = append(out, filepath.ToSlash(r))
	}
	return out
}

func labelsOf(f *Folder) []int {
	var out []int
	for i := range f.Len() {
		out = append(out, f.Label(i))
	}
	return out
}

// classTree builds a class-subfolder tree exercising the ordering rules.
func classTree(t *testing.T) string {
	dir := t.TempDir()
	red := encodePNG(t, solid(2, 3, color.NRGBA{200, 10, 20, 255}, nil))
	write(t, dir, "cat/b.png", red)
	write(t, dir, "cat/a.JPG", encodeJPEG(t, solid(2, 3, color.NRGBA{128, 128, 128, 255}, nil)))
	write(t, dir, "cat/sub/c.png", red)
	write(t, dir, "cat/a-b/d.png", red) // "a-b" sorts before "sub" and after ""
	write(t, dir, "cat/._a.jpg", []byte("AppleDouble junk"))
	write(t, dir, "dog/x.PNG", red)
	write(t, dir, "dog/notes.txt", []byte("hi"))
	write(t, dir, "dog/y.webp", []byte("RIFF\x00\x00\x00\x00WEBP"))
	write(t, dir, ".ipynb_checkpoints/z.png", red)
	write(t, dir, "readme.txt", []byte("top-level files are ignored"))
	write(t, dir, "loose.png", red)
	return dir
}

func TestClassFolders(t *testing.T) {
	dir := classTree(t)
	f, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantPaths := []string{"cat/a.JPG", "cat/b.png", "cat/a-b/d.png", "cat/sub/c.png", "dog/x.PNG"}
	if got := rels(f); !reflect.DeepEqual(got, wantPaths) {
		t.Errorf("paths %q, want %q", got, wantPaths)
	}
	if got := labelsOf(f); !reflect.DeepEqual(got, []int{0, 0, 0, 0, 1}) {
		t.Errorf("labels %v", got)
	}
	if got := f.Classes(); !reflect.DeepEqual(got, []string{"cat", "dog"}) {
		t.Errorf("classes %q", got)
	}
	if got := f.Skipped(); !reflect.DeepEqual(got, []string{filepath.Join("dog", "notes.txt"), filepath.Join("dog", "y.webp")}) {
		t.Errorf("skipped %q", got)
	}
	if got := f.SampleShape(); !reflect.DeepEqual(got, []int{3, 2, 3}) {
		t.Errorf("SampleShape %v", got)
	}
	img, err := f.Load(1)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{200, 10, 20}
	if img.H != 2 || img.W != 3 || img.C != 3 || !reflect.DeepEqual(img.Pix[:3], want) || !reflect.DeepEqual(img.Pix[15:], want) {
		t.Errorf("Load(1) = %dx%dx%d %v", img.H, img.W, img.C, img.Pix)
	}
	// The JPEG of flat grey decodes to (nearly) that grey.
	img, err = f.Load(0)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range img.Pix {
		if math.Abs(float64(v)-128) > 2 {
			t.Fatalf("JPEG value %d = %v, want about 128", i, v)
		}
	}
	if _, err := f.Load(5); err == nil {
		t.Error("Load(5) of 5 images: no error")
	}
}

func TestUnlabeled(t *testing.T) {
	dir := classTree(t)
	f, err := Open(dir, Options{Unlabeled: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"loose.png", "cat/a.JPG", "cat/b.png", "cat/a-b/d.png", "cat/sub/c.png", "dog/x.PNG"}
	if got := rels(f); !reflect.DeepEqual(got, want) {
		t.Errorf("paths %q, want %q", got, want)
	}
	if got := labelsOf(f); !reflect.DeepEqual(got, []int{-1, -1, -1, -1, -1, -1}) {
		t.Errorf("labels %v", got)
	}
	if f.Classes() != nil {
		t.Errorf("classes %q", f.Classes())
	}
	if _, err := Open(dir, Options{Unlabeled: true, Labels: "x.txt"}); err == nil {
		t.Error("labels file and unlabeled: no error")
	}
}

func TestLabelsFile(t *testing.T) {
	dir := t.TempDir()
	px := encodePNG(t, solid(1, 1, color.NRGBA{1, 2, 3, 255}, nil))
	write(t, dir, "val/ILSVRC2012_val_00000002.png", px)
	write(t, dir, "val/ILSVRC2012_val_00000001.png", px)
	write(t, dir, "my photos/a b.png", px)
	write(t, dir, "c,d.png", px)

	txt := filepath.Join(dir, "val.txt")
	write(t, dir, "val.txt", []byte("# ImageNet style\n"+
		"val/ILSVRC2012_val_00000002.png 65\n"+
		"\n"+
		"  my photos/a b.png\t 3  \n"+
		"val/ILSVRC2012_val_00000001.png 970\n"))
	f, err := Open(dir, Options{Labels: txt})
	if err != nil {
		t.Fatal(err)
	}
	// The file's order is kept.
	if got, want := rels(f), []string{"val/ILSVRC2012_val_00000002.png", "my photos/a b.png", "val/ILSVRC2012_val_00000001.png"}; !reflect.DeepEqual(got, want) {
		t.Errorf("paths %q, want %q", got, want)
	}
	if got := labelsOf(f); !reflect.DeepEqual(got, []int{65, 3, 970}) {
		t.Errorf("labels %v", got)
	}

	csvPath := filepath.Join(dir, "labels.csv")
	write(t, dir, "labels.csv", []byte("path,label\n\"c,d.png\",2\nmy photos/a b.png, 0\n"))
	f, err = Open(dir, Options{Labels: csvPath})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rels(f), []string{"c,d.png", "my photos/a b.png"}; !reflect.DeepEqual(got, want) {
		t.Errorf("csv paths %q, want %q", got, want)
	}
	if got := labelsOf(f); !reflect.DeepEqual(got, []int{2, 0}) {
		t.Errorf("csv labels %v", got)
	}
	// Without a header the first row is data.
	write(t, dir, "noheader.csv", []byte("c,d.png,1\n"))
	if _, err := Open(dir, Options{Labels: filepath.Join(dir, "noheader.csv")}); err == nil {
		t.Error("unquoted comma: no error")
	}
	write(t, dir, "noheader.csv", []byte("\"c,d.png\",1\n"))
	if f, err := Open(dir, Options{Labels: filepath.Join(dir, "noheader.csv")}); err != nil || f.Len() != 1 || f.Label(0) != 1 {
		t.Errorf("csv without header: %v", err)
	}

	tests := []struct {
		name, file, content string
		want                []string
	}{
		{"bad label", "l.txt", "val/ILSVRC2012_val_00000001.png cat\n", []string{"l.txt:1", `label "cat"`, "not a non-negative integer"}},
		{"negative", "l.txt", "# c\nval/ILSVRC2012_val_00000001.png -1\n", []string{"l.txt:2", `label "-1"`}},
		{"no label", "l.txt", "val/ILSVRC2012_val_00000001.png\n", []string{"l.txt:1", "has no label", "relative/path label"}},
		{"missing", "l.txt", "val/nope.png 1\n", []string{"l.txt:1", "nope.png", "no such file"}},
		{"twice", "l.txt", "c,d.png 1\nval/../c,d.png 2\n", []string{"l.txt:2", "listed again (first on line 1)"}},
		{"extension", "l.txt", "val.txt 1\n", []string{"l.txt:1", `extension ".txt" is not supported`}},
		{"folder", "l.txt", "val 1\n", []string{"l.txt:1", `extension "" is not supported`}},
		{"empty", "l.txt", "# nothing\n\n", []string{"l.txt lists no images"}},
		{"csv fields", "l.csv", "path,label\na.png,1,2\n", []string{"l.csv:2", "3 fields, want 2"}},
		{"csv label", "l.csv", "path,label\nc,d.png\n", []string{"l.csv:2", `label "d.png"`}},
		{"csv quote", "l.csv", "\"c,d.png,1\n", []string{"l.csv", "quote"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			write(t, dir, tc.file, []byte(tc.content))
			_, err := Open(dir, Options{Labels: filepath.Join(dir, tc.file)})
			checkErr(t, err, tc.want...)
		})
	}
	_, err = Open(dir, Options{Labels: filepath.Join(dir, "absent.txt")})
	checkErr(t, err, "labels file", "absent.txt")
}

func TestDecode(t *testing.T) {
	// RGBA with transparent pixels: colour kept, alpha dropped.
	rgba := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	rgba.Pix = []uint8{255, 0, 0, 0, 10, 20, 30, 128}
	gray := image.NewGray(image.Rect(0, 0, 2, 1))
	gray.Pix = []uint8{7, 250}
	gray16 := image.NewGray16(image.Rect(0, 0, 1, 1))
	gray16.Pix = []uint8{0x12, 0x34} // 0x1234 = 4660
	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.RGBA{0, 0, 255, 255}, color.NRGBA{9, 8, 7, 0}})
	pal.Pix = []uint8{0, 1}
	rgb48 := image.NewRGBA64(image.Rect(0, 0, 1, 1))
	rgb48.Set(0, 0, color.RGBA64{0xffff, 0x8080, 0, 0xffff})
	tests := []struct {
		name     string
		m        image.Image
		channels int
		want     []float32
	}{
		{"rgba", rgba, 3, []float32{255, 0, 0, 10, 20, 30}},
		{"rgba gray", rgba, 1, []float32{76, 18}}, // PIL: red is 76; (10,20,30) is 18
		{"gray", gray, 3, []float32{7, 7, 7, 250, 250, 250}},
		{"gray 1", gray, 1, []float32{7, 250}},
		{"gray16", gray16, 1, []float32{4660.0 / 257}},
		{"gray16 rgb", gray16, 3, []float32{4660.0 / 257, 4660.0 / 257, 4660.0 / 257}},
		{"paletted", pal, 3, []float32{0, 0, 255, 9, 8, 7}},
		{"rgb48", rgb48, 3, []float32{255, 128, 0}},
		{"rgb48 gray", rgb48, 1, []float32{float32(lum(0xffff, 0x8080, 0)) / 257}},
	}
	for _, tc := range tests {
		img, err := Decode(encodePNG(t, tc.m), tc.channels)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if img.C != tc.channels || !reflect.DeepEqual(img.Pix, tc.want) {
			t.Errorf("%s: C=%d %v, want %v", tc.name, img.C, img.Pix, tc.want)
		}
	}
	// Grey JPEG decodes to image.Gray.
	img, err := Decode(encodeJPEG(t, gray), 3)
	if err != nil || img.C != 3 || img.Pix[0] != img.Pix[1] || img.Pix[1] != img.Pix[2] {
		t.Errorf("grey JPEG: %v %v", img.Pix, err)
	}

	bad := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"gif", []byte("GIF89a...."), `neither PNG nor JPEG: starts with "GIF89a.." (a GIF)`},
		{"html", []byte("<html>404</html>"), "(HTML or XML"},
		{"png trunc", encodePNG(t, gray)[:40], "PNG: unexpected EOF"},
		{"png header", []byte(pngMagic), "PNG: unexpected EOF"},
		{"jpeg trunc", encodeJPEG(t, gray)[:30], "JPEG: "},
	}
	for _, tc := range bad {
		_, err := Decode(tc.data, 3)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	// A header declaring a huge image is refused before decoding.
	big := encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	big[17], big[21] = 1, 1 // width and height 65537
	binary.BigEndian.PutUint32(big[29:], crc32.ChecksumIEEE(big[12:29]))
	if _, err := Decode(big, 3); err == nil || !strings.Contains(err.Error(), "header declares") {
		t.Errorf("huge header: %v", err)
	}
}

func TestCorruptAndSizes(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a/0.png", encodePNG(t, solid(4, 6, color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 255})))
	write(t, dir, "a/1.png", encodePNG(t, solid(8, 4, color.NRGBA{0, 255, 0, 255}, nil)))
	write(t, dir, "b/2.jpg", encodeJPEG(t, solid(5, 5, color.NRGBA{0, 0, 255, 255}, nil))[:100])
	write(t, dir, "b/3.jpeg", []byte("not really"))

	f, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.SampleShape(); !reflect.DeepEqual(got, []int{3, 4, 6}) {
		t.Errorf("shape from image 0: %v", got)
	}
	images := make([]float32, 2*3*4*6)
	labels := make([]int, 2)
	checkErr(t, f.Read(0, 2, images, labels), "image 1 ("+filepath.Join(dir, "a", "1.png")+")",
		"8x4 (HxW) pixels give a sample of 3x8x4", "image 0 gives 3x4x6", "set crop")
	_, err = f.Load(2)
	checkErr(t, err, "image 2 ("+filepath.Join(dir, "b", "2.jpg")+"): JPEG: unexpected EOF")
	_, err = f.Load(3)
	checkErr(t, err, "image 3 ("+filepath.Join(dir, "b", "3.jpeg")+"): neither PNG nor JPEG")
	checkErr(t, f.Read(1, 4, images, labels), "images [1,5) requested")

	// resize + crop make the sizes agree: NHWC, 2x2 samples.
	spec := preprocess.Spec{Resize: 2, CenterCrop: [2]int{2, 2}, Layout: preprocess.NHWC, Scale: 1.0 / 255}
	f, err = Open(dir, Options{Preprocess: spec})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.SampleShape(); !reflect.DeepEqual(got, []int{2, 2, 3}) {
		t.Errorf("shape from crop: %v", got)
	}
	images = make([]float32, 2*12)
	if err := f.Read(0, 2, images, labels); err != nil {
		t.Fatal(err)
	}
	if labels[0] != 0 || labels[1] != 0 {
		t.Errorf("labels %v", labels)
	}
	// Image 1 is flat green.
	for i := 12; i < 24; i++ {
		want := float32(0)
		if i%3 == 1 {
			want = 1
		}
		if images[i] != want {
			t.Errorf("green sample value %d = %v, want %v", i, images[i], want)
		}
	}
	// Image 0 (4x6 red, blue top-left pixel) resized to 2x3: the top-left
	// output averages the 2x2 block with the blue pixel, weight 1/4.
	if math.Abs(float64(images[0])-0.75) > 1e-6 || math.Abs(float64(images[2])-0.25) > 1e-6 {
		t.Errorf("red sample starts %v", images[:3])
	}
	// Labels are optional.
	if err := f.Read(1, 1, images[:12], nil); err != nil {
		t.Errorf("Read without labels: %v", err)
	}
	// Read matches Sample.
	one := make([]float32, 12)
	if err := f.Sample(1, one); err != nil || !reflect.DeepEqual(one, images[12:]) {
		t.Errorf("Sample(1) = %v, %v", one, err)
	}
}

func TestFolderErrors(t *testing.T) {
	red := encodePNG(t, solid(1, 1, color.NRGBA{255, 0, 0, 255}, nil))

	empty := t.TempDir()
	_, err := Open(empty, Options{})
	checkErr(t, err, empty+": no class subfolders", "<class>/<image>.png")
	_, err = Open(empty, Options{Unlabeled: true})
	checkErr(t, err, empty+" holds no PNG or JPEG images")

	flat := t.TempDir()
	write(t, flat, "1.png", red)
	write(t, flat, "2.png", red)
	_, err = Open(flat, Options{})
	checkErr(t, err, "no class subfolders", "it holds 2 images directly", "open it unlabeled")

	emptyClass := t.TempDir()
	write(t, emptyClass, "a/1.png", red)
	write(t, emptyClass, "b/1.bmp", []byte("BM"))
	write(t, emptyClass, "b/2.BMP", []byte("BM"))
	write(t, emptyClass, "b/3", []byte("?"))
	_, err = Open(emptyClass, Options{})
	checkErr(t, err, "class folder "+filepath.Join(emptyClass, "b")+" holds no PNG or JPEG images",
		"skipped 3 other files: 2 .bmp, 1 no extension", "would shift")

	_, err = Open(filepath.Join(flat, "1.png"), Options{})
	checkErr(t, err, "1.png is not a folder")
	_, err = Open(filepath.Join(flat, "nope"), Options{})
	checkErr(t, err, "nope")
	_, err = Open(flat, Options{Channels: 2})
	checkErr(t, err, "channels 2: want 1 (gray) or 3 (RGB)")
	_, err = Open(flat, Options{Unlabeled: true, Preprocess: preprocess.Spec{Mean: []float32{1, 2, 3}}, Channels: 1})
	checkErr(t, err, "mean has 3 values but the images have 1 channel")

	// A symbolic link back up is a loop; one to a sibling folder is
	// followed.
	loop := t.TempDir()
	write(t, loop, "a/1.png", red)
	write(t, loop, "other/2.png", red)
	if err := os.Symlink(filepath.Join(loop, "other"), filepath.Join(loop, "a", "link")); err != nil {
		t.Skip("no symbolic links:", err)
	}
	f, err := Open(loop, Options{})
	if err != nil || !reflect.DeepEqual(rels(f), []string{"a/1.png", "a/link/2.png", "other/2.png"}) {
		t.Errorf("linked folder: %v %v", err, f)
	}
	if err := os.Symlink(filepath.Join(loop, "a"), filepath.Join(loop, "a", "back")); err != nil {
		t.Fatal(err)
	}
	_, err = Open(loop, Options{})
	checkErr(t, err, filepath.Join(loop, "a", "back")+": symbolic link loop")
}

func TestChannelsOption(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "x/0.png", encodePNG(t, solid(1, 2, color.NRGBA{255, 0, 0, 255}, nil)))
	f, err := Open(dir, Options{Channels: 1})
	if err != nil {
		t.Fatal(err)
	}
	if f.Channels() != 1 || !reflect.DeepEqual(f.SampleShape(), []int{1, 1, 2}) {
		t.Errorf("channels %d shape %v", f.Channels(), f.SampleShape())
	}
	images, labels := make([]float32, 2), make([]int, 1)
	if err := f.Read(0, 1, images, labels); err != nil || !reflect.DeepEqual(images, []float32{76, 76}) {
		t.Errorf("gray read %v, %v", images, err)
	}
}

func FuzzDecode(f *testing.F) {
	gray := image.NewGray(image.Rect(0, 0, 3, 2))
	f.Add(encodePNG(f, gray))
	f.Add(encodePNG(f, solid(2, 3, color.NRGBA{1, 2, 3, 4}, nil)))
	f.Add(encodeJPEG(f, solid(9, 17, color.NRGBA{1, 2, 3, 255}, nil)))
	f.Add(encodeJPEG(f, gray))
	pal := image.NewPaletted(image.Rect(0, 0, 2, 2), color.Palette{color.Black, color.NRGBA{9, 8, 7, 0}})
	f.Add(encodePNG(f, pal))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range []int{1, 3} {
			img, err := Decode(data, c)
			if err != nil {
				if strings.Contains(err.Error(), "\n") {
					t.Fatalf("error spans lines: %q", err)
				}
				continue
			}
			if img.C != c || img.H <= 0 || img.W <= 0 || len(img.Pix) != img.H*img.W*c {
				t.Fatalf("image %dx%dx%d with %d values", img.H, img.W, img.C, len(img.Pix))
			}
			for _, v := range img.Pix {
				if !(v >= 0 && v <= 255) {
					t.Fatalf("value %v outside [0, 255]", v)
				}
			}
		}
	})
}
