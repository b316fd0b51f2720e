package imagefolder

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"

	"github.com/int8cal/int8cal/datasets/preprocess"
)

// MaxPixels bounds the width×height an image header may declare (8192×8192):
// larger is taken to be corrupt rather than decoded, since decoding would
// need gigabytes.
const MaxPixels = 1 << 26

const (
	pngMagic  = "\x89PNG\r\n\x1a\n"
	jpegMagic = "\xff\xd8\xff"
)

// format names the image format of data by its signature, or returns an
// error saying what the data looks like instead.
func format(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, []byte(pngMagic)):
		return "PNG", nil
	case bytes.HasPrefix(data, []byte(jpegMagic)):
		return "JPEG", nil
	case len(data) == 0:
		return "", fmt.Errorf("empty file")
	}
	other := ""
	switch {
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		other = " (a GIF)"
	case bytes.HasPrefix(data, []byte("BM")):
		other = " (a BMP?)"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		other = " (a WebP)"
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		other = " (a TIFF)"
	case bytes.HasPrefix(data, []byte("<")):
		other = " (HTML or XML, perhaps an error page saved in place of the image)"
	}
	head := data[:min(len(data), 8)]
	return "", fmt.Errorf("neither PNG nor JPEG: starts with %q%s; convert it to PNG or JPEG", head, other)
}

// config returns the format and size an image header declares, checking
// the size against MaxPixels.
func config(data []byte) (f string, w, h int, err error) {
	f, err = format(data)
	if err != nil {
		return "", 0, 0, err
	}
	decodeConfig := png.DecodeConfig
	if f == "JPEG" {
		decodeConfig = jpeg.DecodeConfig
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", 0, 0, decodeError(f, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return "", 0, 0, fmt.Errorf("%s: header declares %dx%d pixels (limit %d pixels in all)", f, cfg.Width, cfg.Height, MaxPixels)
	}
	return f, cfg.Width, cfg.Height, nil
}

// Decode decodes a PNG or JPEG image (recognised by its signature) into
// raw values with the given number of channels (1 or 3), as Load does.
// Errors do not name the file; Load adds its index and path.
func Decode(data []byte, channels int) (preprocess.Image, error) {
	if channels != 1 && channels != 3 {
		return preprocess.Image{}, fmt.Errorf("channels %d: want 1 or 3", channels)
	}
	f, _, _, err := config(data)
	if err != nil {
		return preprocess.Image{}, err
	}
	decode := png.Decode
	if f == "JPEG" {
		decode = jpeg.Decode
	}
	m, err := decode(bytes.NewReader(data))
	if err != nil {
		return preprocess.Image{}, decodeError(f, err)
	}
	return convert(m, channels), nil
}

// decodeError prefixes a decoder's error with the format, once.
func decodeError(format string, err error) error {
	return fmt.Errorf("%s: %s", format, strings.TrimPrefix(err.Error(), "png: "))
}

// lum is PIL's convert("L") formula; r, g, b are 8-bit or 16-bit values and
// the result has the same range.
func lum(r, g, b uint32) uint32 {
	return (19595*r + 38470*g + 7471*b + 1<<15) >> 16
}

// convert turns a decoded image into raw HWC values with c channels.
func convert(m image.Image, c int) preprocess.Image {
	bnd := m.Bounds()
	w, h := bnd.Dx(), bnd.Dy()
	img := preprocess.Image{H: h, W: w, C: c, Pix: make([]float32, h*w*c)}
	pix := img.Pix
	// put stores an 8-bit-scaled colour at pixel i.
	put := func(i int, r, g, b float32) {
		if c == 1 {
			pix[i] = r
		} else {
			pix[3*i], pix[3*i+1], pix[3*i+2] = r, g, b
		}
	}
	put8 := func(i int, r, g, b uint8) {
		if c == 1 {
			pix[i] = float32(lum(uint32(r), uint32(g), uint32(b)))
		} else {
			pix[3*i], pix[3*i+1], pix[3*i+2] = float32(r), float32(g), float32(b)
		}
	}
	switch m := m.(type) {
	case *image.Gray:
		for y := range h {
			o := m.PixOffset(bnd.Min.X, bnd.Min.Y+y)
			row := m.Pix[o : o+w]
			for x, v := range row {
				put(y*w+x, float32(v), float32(v), float32(v))
			}
		}
	case *image.NRGBA: // PNG with alpha: RGB as stored, alpha dropped
		for y := range h {
			o := m.PixOffset(bnd.Min.X, bnd.Min.Y+y)
			row := m.Pix[o : o+4*w]
			for x := range w {
				put8(y*w+x, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	case *image.RGBA: // opaque PNG; premultiplied colours are un-premultiplied
		for y := range h {
			o := m.PixOffset(bnd.Min.X, bnd.Min.Y+y)
			row := m.Pix[o : o+4*w]
			for x := range w {
				p := row[4*x : 4*x+4]
				if p[3] == 0xff {
					put8(y*w+x, p[0], p[1], p[2])
				} else {
					n := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
					put8(y*w+x, n.R, n.G, n.B)
				}
			}
		}
	case *image.YCbCr: // JPEG colour
		for y := range h {
			for x := range w {
				yy := m.YCbCrAt(bnd.Min.X+x, bnd.Min.Y+y)
				r, g, b := color.YCbCrToRGB(yy.Y, yy.Cb, yy.Cr)
				put8(y*w+x, r, g, b)
			}
		}
	case *image.Paletted: // the palette's non-premultiplied colours
		pal := make([]color.NRGBA, len(m.Palette))
		for i, col := range m.Palette {
			pal[i] = color.NRGBAModel.Convert(col).(color.NRGBA)
		}
		for y := range h {
			o := m.PixOffset(bnd.Min.X, bnd.Min.Y+y)
			row := m.Pix[o : o+w]
			for x, k := range row {
				var p color.NRGBA // an index past the palette is black, as PNG readers treat it
				if int(k) < len(pal) {
					p = pal[k]
				}
				put8(y*w+x, p.R, p.G, p.B)
			}
		}
	default: // 16-bit PNG, CMYK JPEG, ...: through 16-bit non-premultiplied colour
		_, gray16 := m.(*image.Gray16)
		for y := range h {
			for x := range w {
				n := color.NRGBA64Model.Convert(m.At(bnd.Min.X+x, bnd.Min.Y+y)).(color.NRGBA64)
				if c == 1 && !gray16 {
					l := float32(lum(uint32(n.R), uint32(n.G), uint32(n.B))) / 257
					pix[y*w+x] = l
					continue
				}
				put(y*w+x, float32(n.R)/257, float32(n.G)/257, float32(n.B)/257)
			}
		}
	}
	return img
}
