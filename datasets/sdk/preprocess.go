package sdk

import (
	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/datasets/preprocess"
)

// WithPreprocess returns a plugin's own options followed by the shared
// preprocessing options (scale, mean, std, layout, channels, resize, crop),
// for data sets of images.
func WithPreprocess(own ...dataset.Option) []dataset.Option {
	out := append([]dataset.Option(nil), own...)
	for _, o := range preprocess.Options {
		out = append(out, dataset.Option{Name: o.Name, Default: o.Default, Description: o.Description})
	}
	return out
}
