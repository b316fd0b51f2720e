package npy

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// cifarDir holds the CIFAR-10 arrays shared between checkouts.
var cifarDir = filepath.Join("..", "..", "..", "shared", "data", "cifar10")

func TestCIFAR10(t *testing.T) {
	if _, err := os.Stat(cifarDir); err != nil {
		t.Skipf("skipping: CIFAR-10 arrays not present: %v", err)
	}
	for _, set := range []struct {
		name string
		n    int // 0: any
	}{{"test", 10000}, {"calib", 0}} {
		t.Run(set.name, func(t *testing.T) {
			xPath := filepath.Join(cifarDir, "cifar10_"+set.name+"_x.npy")
			yPath := filepath.Join(cifarDir, "cifar10_"+set.name+"_y.npy")
			if _, err := os.Stat(xPath); err != nil {
				t.Skipf("skipping: %v", err)
			}
			x, err := ReadFile(xPath)
			if err != nil {
				t.Fatal(err)
			}
			y, err := ReadFile(yPath)
			if err != nil {
				t.Fatal(err)
			}
			if len(y.Shape) != 1 {
				t.Fatalf("%s: shape %v, want one dimension", yPath, y.Shape)
			}
			n := y.Shape[0]
			if set.n != 0 && n != set.n {
				t.Fatalf("%s: %d labels, want %d", yPath, n, set.n)
			}
			if x.Descr != "|u1" || !reflect.DeepEqual(x.Shape, []int{n, 32, 32, 3}) {
				t.Fatalf("%s: %s %v, want |u1 [%d 32 32 3]", xPath, x.Descr, x.Shape, n)
			}
			labels, err := y.Ints()
			if err != nil {
				t.Fatal(err)
			}
			var hist [10]int
			for i, l := range labels {
				if l < 0 || l > 9 {
					t.Fatalf("%s: label %d = %d, not in 0..9", yPath, i, l)
				}
				hist[l]++
			}
			t.Logf("%s: %s %v, labels %s per class %v", filepath.Base(xPath), x.Descr, x.Shape, y.Descr, hist)
			px, err := x.Float32()
			if err != nil {
				t.Fatal(err)
			}
			var sum float64
			for _, p := range px {
				sum += float64(p)
			}
			if mean := sum / float64(len(px)); mean < 80 || mean > 160 {
				t.Errorf("mean pixel %.1f: not natural images?", mean)
			}
		})
	}
}
