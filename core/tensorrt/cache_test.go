package tensorrt

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/loader/tensorrt/abi"
)

// TestCacheCalibrator builds INT8 from a calibration cache on each major
// version's double: the table's bytes reach readCalibrationCache, no
// batch is served, and the algorithm is the header's; 11.x refuses.
func TestCacheCalibrator(t *testing.T) {
	for _, c := range []struct {
		header string
		algo   int32
	}{{"TRT-8601-EntropyCalibration2", 2}, {"TRT-100300-MinMaxCalibration", 3}, {"TRT-8601-EntropyCalibration", 1}} {
		table := c.header + "\ndata: 3c010204\nprob: 3d4ccccd\n"
		cal, err := NewCacheCalibrator([]byte(table), "CalibrationTablelenet")
		if err != nil {
			t.Fatal(err)
		}
		if cal.Algorithm() != c.algo || cal.BatchSize() != 1 {
			t.Errorf("%s: algorithm %d batch size %d", c.header, cal.Algorithm(), cal.BatchSize())
		}
		if _, ok := cal.Batch([]string{"data"}); ok {
			t.Error("Batch returned a batch")
		}
	}
	for _, bad := range []string{"TRT-8601-LegacyCalibration\ndata: 3c010204\n", "TRT-8601-EntropyCalibration2\n", "garbage"} {
		if _, err := NewCacheCalibrator([]byte(bad), "t"); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}

	table := "TRT-8601-MinMaxCalibration\ndata: 3c010204\nprob: 3d4ccccd\n"
	for _, major := range abi.Majors {
		t.Run(fmt.Sprintf("TensorRT%d", major), func(t *testing.T) {
			b, r, _ := open(t, major)
			cal, err := NewCacheCalibrator([]byte(table), "t")
			if err != nil {
				t.Fatal(err)
			}
			e, err := b.Build(lenet(t), BuildOptions{Precision: precision.INT8, Calibrator: cal, Batch: 2, DLACore: -1})
			if major == 11 {
				if !errors.Is(err, ErrImplicitINT8) {
					t.Errorf("11.x: want ErrImplicitINT8, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			lines := r.take()
			// TensorRT takes the cache and no batch.
			want := []string{"IInt8Calibrator.getBatchSize -> 1", "IInt8Calibrator.getAlgorithm -> 3",
				"IInt8Calibrator.readCalibrationCache -> null=0 len=" + fmt.Sprint(len(table)) + " data=" + strings.ReplaceAll(table, "\n", `\n`)}
			all := strings.Join(lines, "\n")
			for _, w := range want {
				if !strings.Contains(all, w) {
					t.Errorf("the double did not record %q:\n%s", w, all)
				}
			}
			if strings.Contains(all, "getBatch #") || strings.Contains(all, "writeCalibrationCache") {
				t.Errorf("with a cache, TensorRT took batches or wrote a table:\n%s", all)
			}
			if major == 10 && !strings.Contains(all, "kind=IInt8MinMaxCalibrator") {
				t.Errorf("10.x: the calibrator's interface kind is not IInt8MinMaxCalibrator:\n%s", all)
			}
			if !strings.Contains(string(e.Plan), "flags=2\n"+table) {
				t.Errorf("plan %q: want kINT8 and the cache as read", e.Plan)
			}
		})
	}
}
