package imagefolder_test

import (
	"fmt"
	"image"
	"image/png"
	"log"
	"os"
	"path/filepath"

	"github.com/int8cal/int8cal/datasets/imagefolder"
	"github.com/int8cal/int8cal/datasets/preprocess"
)

func Example() {
	// A tiny ImageNet-style tree: root/<class>/<image>.
	root, err := os.MkdirTemp("", "imagefolder-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	for i, name := range []string{"dog/1.png", "cat/2.png", "cat/1.png"} {
		m := image.NewGray(image.Rect(0, 0, 4+i, 4)) // mixed sizes
		for j := range m.Pix {
			m.Pix[j] = uint8(60 * i)
		}
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		f, err := os.Create(p)
		if err != nil {
			log.Fatal(err)
		}
		png.Encode(f, m)
		f.Close()
	}

	spec, err := preprocess.Parse(map[string]string{"resize": "2", "crop": "2", "scale": "1/255"})
	if err != nil {
		log.Fatal(err)
	}
	folder, err := imagefolder.Open(root, imagefolder.Options{Preprocess: spec})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(folder.Classes(), folder.Len(), folder.SampleShape())
	for i := range folder.Len() {
		rel, _ := filepath.Rel(root, folder.Path(i))
		fmt.Println(i, filepath.ToSlash(rel), folder.Label(i))
	}

	// One batch of all three samples, NCHW, grey replicated to RGB.
	images := make([]float32, 3*3*2*2)
	labels := make([]int, 3)
	if err := folder.Read(0, 3, images, labels); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.3f %v\n", []float32{images[0], images[12], images[24]}, labels)
	// Output:
	// [cat dog] 3 [3 2 2]
	// 0 cat/1.png 0
	// 1 cat/2.png 0
	// 2 dog/1.png 1
	// [0.471 0.235 0.000] [0 0 1]
}
