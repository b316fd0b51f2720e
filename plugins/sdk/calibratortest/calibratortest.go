// Package calibratortest checks that a calib.Calibrator keeps the contract
// the int8cal host relies on, in the manner of testing/fstest.TestFS: call
// Run from the calibrator's own tests.
//
//	func TestConformance(t *testing.T) { calibratortest.Run(t, mycal.New()) }
//
// Run checks the implementation directly and again through the real
// int8cal.calibrator.v1 gRPC adapters (in process), so a calibrator that
// passes behaves the same once served as a plugin.
package calibratortest

import (
	"context"
	"math"
	"math/rand"
	"reflect"
	"testing"

	"github.com/hashicorp/go-plugin"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/internal/calibratorrpc"
)

// Run checks c. Configure is called with option defaults and with an
// unknown option, so Run leaves c configured with its defaults.
func Run(t *testing.T, c calib.Calibrator) {
	t.Helper()
	info := c.Info()
	t.Run("Info", func(t *testing.T) { checkInfo(t, info) })
	t.Run("Configure", func(t *testing.T) { checkConfigure(t, c, info) })
	stats := Statistics(info, 1)
	var direct []calib.Range
	t.Run("Calibrate", func(t *testing.T) {
		var err error
		direct, err = c.Calibrate(context.Background(), stats)
		if err != nil {
			t.Fatalf("Calibrate: %v", err)
		}
		checkRanges(t, stats, direct)
		again, err := c.Calibrate(context.Background(), Statistics(info, 1))
		if err != nil {
			t.Fatalf("second Calibrate: %v", err)
		}
		if !reflect.DeepEqual(amaxes(direct), amaxes(again)) {
			t.Errorf("same statistics, different answers: %v then %v", amaxes(direct), amaxes(again))
		}
	})
	t.Run("Empty", func(t *testing.T) {
		r, err := c.Calibrate(context.Background(), nil)
		if err != nil || len(r) != 0 {
			t.Errorf("no tensors: got %d ranges, error %v; want none and no error", len(r), err)
		}
	})
	t.Run("OverGRPC", func(t *testing.T) {
		client := dial(t, c)
		got, err := client.Info(context.Background())
		if err != nil {
			t.Fatalf("Info over gRPC: %v", err)
		}
		if !reflect.DeepEqual(got, info) {
			t.Errorf("Info over gRPC %+v differs from direct %+v", got, info)
		}
		ranges, err := client.Calibrate(context.Background(), Statistics(info, 1))
		if err != nil {
			t.Fatalf("Calibrate over gRPC: %v", err)
		}
		if direct != nil && !reflect.DeepEqual(amaxes(ranges), amaxes(direct)) {
			t.Errorf("over gRPC %v, direct %v", amaxes(ranges), amaxes(direct))
		}
		if err := client.Configure(context.Background(), map[string]string{"no-such-option-xyz": "1"}); err == nil {
			t.Error("an unknown option was accepted over gRPC")
		}
	})
}

func checkInfo(t *testing.T, info calib.Info) {
	if info.Name == "" || info.Version == "" || info.Algorithm == "" {
		t.Errorf("Info needs a name, a version and an algorithm: %+v", info)
	}
	switch info.Statistics {
	case calib.AbsHistogram, calib.SignedHistogram:
		if info.Bins < 1 {
			t.Errorf("a histogram calibrator needs Bins ≥ 1, has %d", info.Bins)
		}
	case calib.MinMax, calib.Raw:
	default:
		t.Errorf("unknown statistics kind %v", info.Statistics)
	}
	seen := map[string]bool{}
	for _, o := range info.Options {
		if o.Name == "" || o.Description == "" {
			t.Errorf("option %+v needs a name and a description", o)
		}
		if seen[o.Name] {
			t.Errorf("option %q listed twice", o.Name)
		}
		seen[o.Name] = true
	}
}

func checkConfigure(t *testing.T, c calib.Calibrator, info calib.Info) {
	if err := c.Configure(nil); err != nil {
		t.Errorf("Configure with no options: %v", err)
	}
	defaults := map[string]string{}
	for _, o := range info.Options {
		defaults[o.Name] = o.Default
	}
	if err := c.Configure(defaults); err != nil {
		t.Errorf("Configure with every option at its default: %v", err)
	}
	if err := c.Configure(map[string]string{"no-such-option-xyz": "1"}); err == nil {
		t.Error("Configure accepted an unknown option")
	}
	if err := c.Configure(defaults); err != nil {
		t.Errorf("Configure back to defaults: %v", err)
	}
}

func checkRanges(t *testing.T, stats []calib.TensorStats, ranges []calib.Range) {
	if len(ranges) != len(stats) {
		t.Fatalf("%d ranges for %d tensors", len(ranges), len(stats))
	}
	for i, r := range ranges {
		s := stats[i]
		if r.Name != s.Name {
			t.Errorf("range %d is for %q, want %q (same order as the statistics)", i, r.Name, s.Name)
		}
		if math.IsNaN(float64(r.Amax)) || math.IsInf(float64(r.Amax), 0) || r.Amax < 0 {
			t.Errorf("%s: amax %v is not finite and non-negative", s.Name, r.Amax)
		}
		if r.Amax > s.MaxAbs()*1.01+1e-6 {
			t.Errorf("%s: amax %v exceeds the largest magnitude seen %v", s.Name, r.Amax, s.MaxAbs())
		}
		if s.Name != "zeros" && r.Amax == 0 {
			t.Errorf("%s: amax 0 for a tensor with non-zero values", s.Name)
		}
	}
}

func amaxes(rs []calib.Range) []float32 {
	out := make([]float32, len(rs))
	for i, r := range rs {
		out[i] = r.Amax
	}
	return out
}

// Statistics returns deterministic statistics of the kind info asks for:
// a half-normal tensor, a uniform one in [0,1] (an image), a signed one
// with outliers, and an all-zero one named "zeros".
func Statistics(info calib.Info, seed int64) []calib.TensorStats {
	rng := rand.New(rand.NewSource(seed))
	gen := map[string]func() float32{
		"normal":  func() float32 { return float32(rng.NormFloat64()) },
		"uniform": func() float32 { return rng.Float32() },
		"outliers": func() float32 {
			v := float32(rng.NormFloat64())
			if rng.Intn(1000) == 0 {
				v *= 20
			}
			return v
		},
		"zeros": func() float32 { return 0 },
	}
	var out []calib.TensorStats
	for _, name := range []string{"normal", "uniform", "outliers", "zeros"} {
		values := make([]float32, 20000)
		for i := range values {
			values[i] = gen[name]()
		}
		out = append(out, Summarize(name, values, info))
	}
	return out
}

// Summarize computes the statistics info asks for from raw values, the
// straightforward way (a reference for hosts and tests, not the host's
// streaming collector).
func Summarize(name string, values []float32, info calib.Info) calib.TensorStats {
	s := calib.TensorStats{Name: name, Count: uint64(len(values))}
	if len(values) > 0 {
		s.Min, s.Max = values[0], values[0]
	}
	for _, v := range values {
		s.Min, s.Max = min(s.Min, v), max(s.Max, v)
	}
	switch info.Statistics {
	case calib.AbsHistogram, calib.SignedHistogram:
		h := &calib.Histogram{Range: float64(s.MaxAbs()), Signed: info.Statistics == calib.SignedHistogram, Counts: make([]uint64, info.Bins)}
		if h.Range == 0 {
			h.Range = 1
		}
		for _, v := range values {
			x := float64(v)
			if !h.Signed {
				x = math.Abs(x)
			} else {
				x += h.Range
			}
			b := int(x / h.BinWidth())
			h.Counts[min(max(b, 0), len(h.Counts)-1)]++
		}
		s.Histogram = h
	case calib.Raw:
		s.Values = append([]float32(nil), values...)
	}
	return s
}

// dial serves c over go-plugin's in-process gRPC pair and returns the
// host-side client.
func dial(t *testing.T, c calib.Calibrator) *calibratorrpc.Client {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		calibratorrpc.PluginName: &calibratorrpc.Plugin{Impl: c},
	})
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(calibratorrpc.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*calibratorrpc.Client)
}
