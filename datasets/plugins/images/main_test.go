package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/int8cal/int8cal/datasets/sdk/batchstreamtest"
)

func TestConformance(t *testing.T) {
	dir := t.TempDir()
	for c, class := range []string{"cat", "dog", "eel"} {
		os.Mkdir(filepath.Join(dir, class), 0o755)
		for i := 0; i < 4; i++ {
			img := image.NewRGBA(image.Rect(0, 0, 10+i, 8))
			for p := range img.Pix {
				img.Pix[p] = byte(p*3 + c*50 + i)
			}
			img.Set(0, 0, color.RGBA{255, 0, 0, 255})
			f, err := os.Create(filepath.Join(dir, class, string(rune('a'+i))+".png"))
			if err != nil {
				t.Fatal(err)
			}
			png.Encode(f, img)
			f.Close()
		}
	}
	// Sizes differ: the crop makes every sample 8x8.
	batchstreamtest.Run(t, newStream(), map[string]string{"dir": dir, "crop": "8", "scale": "1/255"})
	batchstreamtest.Run(t, newStream(), map[string]string{"dir": dir, "crop": "6", "unlabeled": "true", "gray": "true"})
}
