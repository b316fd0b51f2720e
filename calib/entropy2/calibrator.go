package entropy2

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/histogram"
)

// Version is the calibrator's version, reported in its Info.
const Version = "1.0.0"

// Calibrator is EntropyCalibration2 as a calib.Calibrator: it asks the
// host for a 2048-bin histogram of |x| per tensor.
type Calibrator struct{ opts Options }

// NewCalibrator returns the calibrator with TensorRT's settings.
func NewCalibrator() *Calibrator { return &Calibrator{} }

var options = []calib.Option{
	{Name: "start", Default: strconv.Itoa(DefaultStart), Description: "smallest candidate cut (bins kept)"},
	{Name: "levels", Default: strconv.Itoa(DefaultLevels), Description: "quantized levels the reference is compared with"},
	{Name: "keep_zero_bin", Default: "false", Description: "keep bin 0 as counted instead of replacing it by bin 1"},
	{Name: "last_minimum", Default: "false", Description: "take the last of equal minima instead of the first"},
}

// Info describes the calibrator.
func (*Calibrator) Info() calib.Info {
	return calib.Info{
		Name: "entropy2", Version: Version, Algorithm: "EntropyCalibration2",
		Description: "TensorRT's EntropyCalibration2: the cut of the |x| histogram minimizing the KL divergence to its 128-level quantization",
		Statistics:  calib.AbsHistogram, Bins: histogram.DefaultBins, Options: options,
	}
}

// Configure resets to TensorRT's settings, then applies options.
func (c *Calibrator) Configure(opts map[string]string) error {
	var o Options
	if err := calib.ParseOptions("entropy2", options, opts, o.Set); err != nil {
		return err
	}
	if _, _, err := o.resolve(); err != nil {
		return err
	}
	c.opts = o
	return nil
}

// Set sets the option name (start, levels, keep_zero_bin or last_minimum)
// from its text, for calib.ParseOptions; calib/entropy shares it.
func (o *Options) Set(name, v string) error {
	var err error
	switch name {
	case "start":
		o.Start, err = positive(v)
	case "levels":
		o.Levels, err = positive(v)
	case "keep_zero_bin":
		o.KeepZeroBin, err = strconv.ParseBool(v)
	case "last_minimum":
		o.LastMinimum, err = strconv.ParseBool(v)
	default:
		err = fmt.Errorf("unknown option %q", name)
	}
	return err
}

func positive(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, errors.New("want a positive integer")
	}
	return n, nil
}

// Calibrate runs the search on each tensor's histogram; the divergence
// curve and the chosen cut travel back as diagnostics, the cut as its
// index in the curve (which starts at d.Start bins kept). The searches
// (about 1 ms a tensor) are independent: they run on all cores first, and
// ForEachHistogram then takes their results in order, with its checks and
// errors, as if it had run them itself.
func (c *Calibrator) Calibrate(ctx context.Context, tensors []calib.TensorStats) ([]calib.Range, error) {
	type found struct {
		r   calib.Range
		err error
	}
	results := make(map[*calib.TensorStats]*found, len(tensors))
	for i := range tensors {
		if t := &tensors[i]; t.Histogram != nil && !t.Histogram.Signed && t.MaxAbs() != 0 {
			results[t] = &found{}
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(tensors)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(tensors) {
					return
				}
				t := &tensors[i]
				if f := results[t]; f != nil {
					amax, d, err := AmaxFromBins(t.Histogram.Counts, t.Histogram.BinWidth(), t.MaxAbs(), c.opts)
					f.r, f.err = calib.Range{Amax: amax, Curve: d.Divergence, Chosen: d.Best - d.Start}, err
				}
			}
		}()
	}
	wg.Wait()
	return calib.ForEachHistogram(ctx, "entropy2", tensors, func(t *calib.TensorStats) (calib.Range, error) {
		f := results[t]
		return f.r, f.err
	})
}
