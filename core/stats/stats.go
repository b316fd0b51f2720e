package stats

import (
	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
	"github.com/int8cal/int8cal/core/tensor"
)

// Runner runs the network and gathers the statistics where the tensors
// are, for a GPU backend that would otherwise copy every activation to
// the host. RunStatistics runs the network on inputs and hands emit each
// float tensor's statistics over the batch, in the order an observed run
// shows the tensors: for the histogram kinds a histogram laid out as
// HistogramConfig(need) says (calib/histogram's binning, so that merging
// is exact), for MinMax the counts and extremes. The host uses it for
// every kind but Raw.
type Runner interface {
	RunStatistics(inputs map[string]*tensor.Tensor, need calib.Info, emit func(Tensor) error) error
}

// HistogramConfig is the layout of the histograms gathered for need (a
// histogram kind): need.Bins over |x|, or over x with both signs (twice
// histogram.DefaultBins when need.Bins is 0).
func HistogramConfig(need calib.Info) histogram.Config {
	c := histogram.Config{Bins: need.Bins, Signed: need.Statistics == calib.SignedHistogram}
	if c.Signed && c.Bins == 0 {
		c.Bins = 2 * histogram.DefaultBins
	}
	return c
}
