package abi_test

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/loader/tensorrt"
	"github.com/int8cal/int8cal/loader/tensorrt/abi"
)

// legacyCalib is an IInt8LegacyCalibrator: quantile, regression cutoff
// and a histogram cache on top of calib.
type legacyCalib struct {
	calib
	quantile, cutoff float64
	histIn, histOut  []byte
}

func (*legacyCalib) Algorithm() int32               { return abi.LegacyCalibration }
func (l *legacyCalib) Quantile() float64            { return l.quantile }
func (l *legacyCalib) RegressionCutoff() float64    { return l.cutoff }
func (l *legacyCalib) ReadHistogramCache() []byte   { return l.histIn }
func (l *legacyCalib) WriteHistogramCache(b []byte) { l.histOut = b }

type minmaxCalib struct{ calib }

func (*minmaxCalib) Algorithm() int32 { return abi.MinMaxCalibration }

// TestCalibrators drives each calibrator kind through each implicit-INT8
// version's double as TensorRT's builder does: the algorithm first, a
// legacy calibrator's doubles (returned in XMM0) and histogram cache, then
// the calibration cache, which, when there is one, is used without a
// single batch.
func TestCalibrators(t *testing.T) {
	dir := t.TempDir()
	for _, major := range []int{8, 10} {
		t.Run(fmt.Sprintf("TensorRT%d", major), func(t *testing.T) {
			path := buildDouble(t, dir, major)
			cached := "TRT-8601-MinMaxCalibration\ninput: 3c010a14\n"
			mm := &minmaxCalib{calib{batches: [][]uintptr{{0x1000, 0x2000}}, cache: []byte(cached)}}
			lines := buildINT8(t, path, major, mm)
			want := []string{"IInt8Calibrator.getBatchSize -> 32", "IInt8Calibrator.getAlgorithm -> 3",
				fmt.Sprintf("IInt8Calibrator.readCalibrationCache -> null=0 len=%d data=%s", len(cached), oneLine(cached))}
			if major == 10 {
				want = append([]string{"IInt8Calibrator.getInterfaceInfo -> kind=IInt8MinMaxCalibrator major=1 minor=0 api=0"}, want...)
			}
			if !slices.Equal(lines, want) {
				t.Errorf("with a cache, the double received:\n\t%s\nwant:\n\t%s", strings.Join(lines, "\n\t"), strings.Join(want, "\n\t"))
			}
			if len(mm.names) != 0 || mm.written != nil {
				t.Errorf("with a cache: %d getBatch calls and %q written, want none", len(mm.names), mm.written)
			}

			if runtime.GOARCH != "amd64" {
				t.Skipf("the legacy calibrator's double returns are relied on only on amd64, not %s", runtime.GOARCH)
			}
			// Values whose every bit matters: a wrong register or a
			// float32 would not survive %.17g.
			lc := &legacyCalib{calib: calib{batches: [][]uintptr{{0x3000, 0x4000}}}, quantile: 0.99990000000000001, cutoff: math.Nextafter(0.5, 1), histIn: []byte("H\nIN")}
			lines = buildINT8(t, path, major, lc)
			want = []string{"IInt8Calibrator.getBatchSize -> 32", "IInt8Calibrator.getAlgorithm -> 0",
				"IInt8LegacyCalibrator.getQuantile -> 0.99990000000000001",
				"IInt8LegacyCalibrator.getRegressionCutoff -> 0.50000000000000011",
				`IInt8LegacyCalibrator.readHistogramCache -> null=0 len=4 data=H\nIN`,
				"IInt8Calibrator.readCalibrationCache -> null=1 len=0 data=",
				"IInt8Calibrator.getBatch #0 -> true input=0x3000 aux=0x4000",
				"IInt8Calibrator.getBatch #1 -> false",
				"IInt8LegacyCalibrator.writeHistogramCache len=10",
				fmt.Sprintf("IInt8Calibrator.writeCalibrationCache len=%d data=%s", len(table(major, "LegacyCalibration")), oneLine(table(major, "LegacyCalibration")))}
			if major == 10 {
				want = append([]string{"IInt8Calibrator.getInterfaceInfo -> kind=IInt8Calibrator major=1 minor=0 api=0"}, want...)
			}
			if !slices.Equal(lines, want) {
				t.Errorf("legacy, the double received:\n\t%s\nwant:\n\t%s", strings.Join(lines, "\n\t"), strings.Join(want, "\n\t"))
			}
			if string(lc.histOut) != "HISTOGRAMS" || string(lc.written) != table(major, "LegacyCalibration") {
				t.Errorf("legacy: histograms %q and table %q written", lc.histOut, lc.written)
			}
		})
	}
}

// TestLegacyNeedsParameters refuses the legacy algorithm from a
// calibrator that cannot say its quantile and cutoff.
func TestLegacyNeedsParameters(t *testing.T) {
	s, _ := abi.ForMajor(10)
	lib := &abi.Lib{Slots: s, Major: 10}
	if _, err := lib.NewCalibrator(&legacyOnlyAlgorithm{}); err == nil || !strings.Contains(err.Error(), "LegacyCalibratorImpl") {
		t.Errorf("legacy algorithm without its parameters: want an error naming LegacyCalibratorImpl, got %v", err)
	}
	if _, err := lib.NewCalibrator(&unknownAlgorithm{}); err == nil || !strings.Contains(err.Error(), "algorithm 7") {
		t.Errorf("algorithm 7: want an error, got %v", err)
	}
}

type legacyOnlyAlgorithm struct{ calib }

func (*legacyOnlyAlgorithm) Algorithm() int32 { return abi.LegacyCalibration }

type unknownAlgorithm struct{ calib }

func (*unknownAlgorithm) Algorithm() int32 { return 7 }

// buildINT8 builds the "ONNX" model of these tests in INT8 with impl as
// the calibrator and returns the calibrator's lines of the double's
// record.
func buildINT8(t *testing.T, path string, major int, impl abi.CalibratorImpl) []string {
	t.Helper()
	s := openParsed(t, path, []byte("ONNX model"))
	cal, err := s.lib.NewCalibrator(impl)
	if err != nil {
		t.Fatal(err)
	}
	defer cal.Close()
	s.cfg.SetFlag(1) // BuilderFlag::kINT8
	if err := s.cfg.SetInt8Calibrator(cal); err != nil {
		t.Fatal(err)
	}
	s.d.take()
	hm, err := s.b.BuildSerializedNetwork(s.net, s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer hm.Delete()
	var lines []string
	for _, l := range s.d.take() {
		if strings.HasPrefix(l, "IInt8") {
			lines = append(lines, l)
		}
	}
	return lines
}

// parsed is a builder, network and config of the double at path, with
// model parsed into the network; t's cleanup deletes them.
type parsed struct {
	d   *double
	lib *abi.Lib
	lg  *abi.Logger
	b   abi.Builder
	net abi.Network
	cfg abi.Config
}

func openParsed(t *testing.T, path string, model []byte) *parsed {
	t.Helper()
	tl, err := tensorrt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Lib.Close() })
	s := &parsed{d: openDouble(t, tl.Lib)}
	if s.lib, err = abi.New(tl.Lib, tl.Lib, tl.Major, tl.Version); err != nil {
		t.Fatal(err)
	}
	var got logs
	lg := s.lib.NewLogger(got.add)
	s.lg = lg
	t.Cleanup(lg.Close)
	if s.b, err = s.lib.CreateBuilder(lg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.b.Delete)
	if s.net, err = s.b.CreateNetworkV2(1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.net.Delete)
	p, err := s.lib.CreateParser(s.net, lg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Delete) // before the network: cleanups run last first
	if err := p.Parse(model, ""); err != nil {
		t.Fatal(err)
	}
	if s.cfg, err = s.b.CreateBuilderConfig(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.cfg.Delete)
	return s
}
