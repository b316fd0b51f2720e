package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/layererr"
)

// checkMetadata fails t unless m names LeNet by its hash, the MNIST test
// split, table and this build.
func checkMetadata(t *testing.T, m *metadata, table string) {
	t.Helper()
	if m == nil || m.Model != filepath.Join(dataDir, "lenet.onnx") || len(m.ModelSHA256) != 64 || m.Table != table || m.Backend != "cpu" ||
		m.Data["evaluation"].Split != "t10k" || m.Data["evaluation"].Opened == "" || m.Version == "" || m.GoVersion == "" || m.Platform == "" {
		t.Errorf("metadata: %+v", m)
	}
}

// Reported numbers are rounded to six significant digits, with no float
// noise in the JSON text.
func TestNumberRounding(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{0.8699 - 0.8693, "0.0006"},
		{0.995 - 1, "-0.005"},
		{0.1 + 0.2, "0.3"},
		{127.0 / 128, "0.992188"},
		{1, "1"},
		{0, "0"},
		{math.NaN(), `"nan"`},
	} {
		row := compareRow{DeltaTop1: layererr.Number(tc.f)}
		b, err := json.Marshal(row)
		if err != nil {
			t.Fatal(err)
		}
		if want := `"delta_top1":` + tc.want + `,`; !strings.Contains(string(b), want) {
			t.Errorf("%v: %s, want %s", tc.f, b, want)
		}
	}
}

// noFloatNoise fails t if out, a JSON report, holds a number of more
// significant digits than Number writes.
func noFloatNoise(t *testing.T, out string) {
	t.Helper()
	for _, n := range regexp.MustCompile(`[0-9]+\.[0-9]+`).FindAllString(out, -1) {
		if digits := strings.TrimLeft(strings.Replace(n, ".", "", 1), "0"); len(digits) > 6 {
			t.Errorf("unrounded number %s in:\n%s", n, out)
		}
	}
}
