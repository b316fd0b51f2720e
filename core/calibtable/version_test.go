package calibtable

import (
	"strings"
	"testing"
)

// TestHeaderVersionPublished checks every header number in anchors §1.3.
func TestHeaderVersionPublished(t *testing.T) {
	cases := []struct {
		v    TRTVersion
		want string
	}{
		{TRTVersion{5, 1, 0, 0}, "5100"},    // TRT-5100 (TensorRT 5.1 README)
		{TRTVersion{7, 0, 0, 0}, "7000"},    // TRT-7000 (TensorRT 7.0 README)
		{TRTVersion{8, 2, 3, 0}, "8203"},    // TRT-8203 (NVIDIA/TensorRT #2036)
		{TRTVersion{8, 5, 1, 0}, "8501"},    // TRT-8501 (ModelOpt comment)
		{TRTVersion{8, 6, 0, 0}, "8600"},    // TRT-8600 (qdq_translator)
		{TRTVersion{8, 6, 1, 6}, "8601"},    // TRT-8601 (ultralytics PR #10165); build ignored
		{TRTVersion{8, 6, 2, 0}, "8602"},    // TRT-8602-MinMaxCalibration
		{TRTVersion{10, 0, 0, 0}, "100000"}, // NV_TENSORRT_VERSION_INT
		{TRTVersion{10, 3, 0, 0}, "100300"}, // TRT-100300
		{TRTVersion{10, 9, 0, 0}, "100900"}, // TRT-100900
		{TRTVersion{10, 16, 1, 0}, "101601"},
	}
	for _, c := range cases {
		if got := HeaderVersion(c.v.Major, c.v.Minor, c.v.Patch, c.v.Build); got != c.want {
			t.Errorf("HeaderVersion(%v) = %s, want %s", c.v, got, c.want)
		}
		if got := c.v.HeaderVersion(); got != c.want {
			t.Errorf("%v.HeaderVersion() = %s, want %s", c.v, got, c.want)
		}
		back, err := ParseHeaderVersion(c.want)
		want := c.v
		want.Build = 0
		if err != nil || back != want {
			t.Errorf("ParseHeaderVersion(%s) = %v, %v; want %v", c.want, back, err, want)
		}
	}
	if LegacyVersionNumber(8, 6, 1) != 8601 || VersionNumberInt(10, 3, 0) != 100300 {
		t.Error("encodings")
	}
	tb := &Table{Version: "100300", Algorithm: EntropyCalibration2}
	if v, err := tb.TRTVersion(); err != nil || v != (TRTVersion{10, 3, 0, 0}) {
		t.Errorf("TRTVersion() = %v, %v", v, err)
	}
	tb.Version = "8XXX"
	if _, err := tb.TRTVersion(); err == nil {
		t.Error("TRTVersion() of 8XXX succeeded")
	}
}

// TestHeaderVersionRoundTrip checks that every version in range encodes to a
// number that decodes to it.
func TestHeaderVersionRoundTrip(t *testing.T) {
	for major := 1; major <= 12; major++ {
		maxMinor := 9
		if major >= 10 {
			maxMinor = 99
		}
		for minor := 0; minor <= maxMinor; minor++ {
			for patch := 0; patch <= 99; patch++ {
				v := TRTVersion{major, minor, patch, 0}
				got, err := ParseHeaderVersion(v.HeaderVersion())
				if err != nil || got != v {
					t.Fatalf("%v -> %s -> %v, %v", v, v.HeaderVersion(), got, err)
				}
				got, err = ParseTRTVersion(v.String())
				if err != nil || got != v {
					t.Fatalf("ParseTRTVersion(%s) = %v, %v", v, got, err)
				}
			}
		}
	}
}

func TestParseTRTVersion(t *testing.T) {
	cases := []struct {
		in   string
		want TRTVersion
	}{
		{"8.6.1", TRTVersion{8, 6, 1, 0}},
		{"8.6.1.6", TRTVersion{8, 6, 1, 6}},
		{"10.3", TRTVersion{10, 3, 0, 0}},
		{"10.3.0", TRTVersion{10, 3, 0, 0}},
		{"10", TRTVersion{10, 0, 0, 0}},
		{"7", TRTVersion{7, 0, 0, 0}},
		{"v10.16.1", TRTVersion{10, 16, 1, 0}},
		{" 8.5.3.1 ", TRTVersion{8, 5, 3, 1}},
		{"8601", TRTVersion{8, 6, 1, 0}},
		{"7000", TRTVersion{7, 0, 0, 0}},
		{"100300", TRTVersion{10, 3, 0, 0}},
		{"TRT-8601", TRTVersion{8, 6, 1, 0}},
		{"TRT-100900", TRTVersion{10, 9, 0, 0}},
	}
	for _, c := range cases {
		got, err := ParseTRTVersion(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseTRTVersion(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	bad := []struct{ in, want string }{
		{"", "want major[.minor[.patch[.build]]]"},
		{"8.6.1.6.0", "want major[.minor[.patch[.build]]]"},
		{"8..1", "want major"},
		{"8.6.", "want major"},
		{"8.6.x", "want major"},
		{"-8.6", "want major"},
		{"0.9", "major version must be at least 1"},
		{"8.10", "minor version 10 does not fit"},
		{"10.100", "minor version 100 does not fit"},
		{"8.6.100", "patch version 100 does not fit"},
		{"99999999999", "not a decimal number"},
		{"86010", "want major*1000+minor*100+patch"},
		{"0601", "want major*1000"},
		{"TRT-86", "want major*1000"},
		{"TRT-8XXX", "not a decimal number"},
	}
	for _, c := range bad {
		_, err := ParseTRTVersion(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "calibtable: TensorRT version ") {
			t.Errorf("ParseTRTVersion(%q) err = %v, want %q", c.in, err, c.want)
		}
	}
}
