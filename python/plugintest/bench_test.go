package plugintest

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/core/pluginhost"
)

// resnet20Stats are statistics shaped like ResNet-20's calibration: 57
// tensors of 2048-bin |x| histograms.
func resnet20Stats() []calib.TensorStats {
	stats := make([]calib.TensorStats, 57)
	for i := range stats {
		counts := make([]uint64, 2048)
		var total uint64
		for b := range counts {
			counts[b] = uint64(1_000_000 >> min(b/16, 20) * uint64(1+i%3))
			total += counts[b]
		}
		stats[i] = calib.TensorStats{Name: "t" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Count: total, Min: -3, Max: 4,
			Histogram: &calib.Histogram{Range: 4, Counts: counts}}
	}
	return stats
}

// BenchmarkPercentile compares the Python example percentile calibrator
// with the Go percentile plugin (plugins/percentile), both started by the
// host: Start is a plugin's start (to the answer of its Info), Close its
// end, Calibrate one Calibrate call with ResNet-20's 57 histograms.
//
//	go test -run '^$' -bench Percentile -benchtime 20x ./python/plugintest/
func BenchmarkPercentile(b *testing.B) {
	python(b)
	goBin := filepath.Join(b.TempDir(), "int8cal-calibrator-percentile")
	build := exec.Command("go", "build", "-o", goBin, "./plugins/percentile")
	build.Dir = repoRoot(b)
	if out, err := build.CombinedOutput(); err != nil {
		b.Skipf("building plugins/percentile: %v\n%s", err, out)
	}
	plugins := []struct {
		name string
		f    pluginhost.Found
		opts map[string]string
	}{
		{"Go", pluginhost.Found{Kind: pluginhost.CalibratorKind, Name: "percentile", Path: goBin}, map[string]string{"percentile": "99.99"}},
		{"Python", pluginhost.Found{Kind: pluginhost.CalibratorKind, Name: "pypercentile",
			Path: filepath.Join(repoRoot(b), "python", "examples", "int8cal-calibrator-pypercentile")}, map[string]string{"percentile": "99.99"}},
	}
	stats := resnet20Stats()
	for _, p := range plugins {
		b.Run("Start/"+p.name, func(b *testing.B) {
			for range b.N {
				c, err := pluginhost.StartCalibrator(p.f, hclog.NewNullLogger())
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				c.Close()
				b.StartTimer()
			}
		})
		b.Run("Close/"+p.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				c, err := pluginhost.StartCalibrator(p.f, hclog.NewNullLogger())
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				c.Close()
			}
		})
		b.Run("Calibrate/"+p.name, func(b *testing.B) {
			c, err := pluginhost.StartCalibrator(p.f, hclog.NewNullLogger())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			if err := c.Configure(p.opts); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := c.Calibrate(stats); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
