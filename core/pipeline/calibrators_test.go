package pipeline

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseCalibrators(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // String of each
		err  string
	}{
		{in: "entropy2,minmax", want: []string{"entropy2", "minmax"}},
		{in: "entropy2, legacy:quantile=0.999,legacy:regression_cutoff=0.5:quantile=0.9999", want: []string{"entropy2", "legacy:quantile=0.999", "legacy:quantile=0.9999:regression_cutoff=0.5"}},
		{in: "legacy:quantile", err: `"quantile" in "legacy:quantile" is not KEY=VALUE`},
		{in: "legacy:=1", err: "is not KEY=VALUE"},
		{in: "entropy2,,minmax", err: "an empty calibrator name"},
		{in: ":quantile=1", err: "an empty calibrator name"},
		{in: "legacy:quantile=0.9:quantile=0.99", err: "option quantile given twice"},
	} {
		cals, err := ParseCalibrators(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one with %q", tc.in, err, tc.err)
			}
			continue
		}
		var got []string
		for _, c := range cals {
			got = append(got, c.String())
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestComparisonCacheAndOptions(t *testing.T) {
	p := &Pipeline{opts: Options{Model: "m.onnx"}}
	c := Calibration{Cache: "t", Options: map[string]string{"quantile": "0.9", "regression_cutoff": "1"}}
	cal := Calibrator{Name: "legacy", Options: map[string]string{"quantile": "0.999", "dir": "a/b"}}
	if got, want := p.ComparisonCache(c, cal), "t.legacy-dir=a_b-quantile=0.999"; got != want {
		t.Errorf("cache %s, want %s", got, want)
	}
	if got, want := cal.options(c.Options), map[string]string{"quantile": "0.999", "regression_cutoff": "1", "dir": "a/b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("options %v, want %v", got, want)
	}
	if c.Options["quantile"] != "0.9" {
		t.Errorf("the comparison's options were changed: %v", c.Options)
	}
}
