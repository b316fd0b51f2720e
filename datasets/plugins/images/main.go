// Command int8cal-batchstream-images serves a folder of PNG/JPEG images as
// an int8cal data set plugin, with the shared image preprocessing.
//
// Options: dir (required), labels (a labels file: "path label" lines, or
// "path,label" when it ends in .csv; unset: class subfolders, sorted, give
// the labels), unlabeled (true: every image, no labels, e.g. for
// calibration), gray (true: one channel), and the preprocessing options of
// package datasets/preprocess (resize, crop, scale, mean, std, channels,
// layout).
package main

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/datasets/imagefolder"
	"github.com/int8cal/int8cal/datasets/sdk"
)

var info = dataset.Info{
	Name: "images", Version: "1.0.0",
	Description: "a folder of PNG/JPEG images; labels from class subfolders or a labels file",
	Options: sdk.WithPreprocess(
		dataset.Option{Name: "dir", Description: "the image folder (required)"},
		dataset.Option{Name: "labels", Description: `labels file: "path label" lines, or "path,label" when it ends in .csv (unset: class subfolders)`},
		dataset.Option{Name: "unlabeled", Default: "false", Description: "true: every image under dir, without labels"},
		dataset.Option{Name: "gray", Default: "false", Description: "true: decode to one gray channel instead of RGB"},
	),
}

func open(options map[string]string) (sdk.Source, bool, int, error) {
	var dir string
	var opts imagefolder.Options
	err := dataset.ParseOptions("images", info.Options, options, func(name, value string) error {
		switch name {
		case "dir":
			dir = value
		case "labels":
			opts.Labels = value
		case "unlabeled", "gray":
			b, err := strconv.ParseBool(value)
			if err != nil {
				return errors.New("want true or false")
			}
			if name == "unlabeled" {
				opts.Unlabeled = b
			} else if b {
				opts.Channels = 1
			}
		default:
			return opts.Preprocess.Set(name, value)
		}
		return nil
	})
	if err != nil {
		return nil, false, 0, err
	}
	if dir == "" {
		return nil, false, 0, errors.New("images: option dir is required: the folder holding the images")
	}
	f, err := imagefolder.Open(dir, opts)
	if err != nil {
		return nil, false, 0, fmt.Errorf("images: %v", err)
	}
	return f, !opts.Unlabeled, len(f.Classes()), nil
}

func newStream() dataset.BatchStream { return sdk.FromSource(info, open) }

func main() { sdk.Serve(newStream()) }
