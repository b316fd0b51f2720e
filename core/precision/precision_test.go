package precision

import (
	"slices"
	"strings"
	"testing"
)

func TestParseAndString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Precision
		err  string
	}{
		{"fp32,fp16,int8", []Precision{FP32, FP16, INT8}, ""},
		{"INT8, FP32", []Precision{INT8, FP32}, ""},
		{"Fp16", []Precision{FP16}, ""},
		{"fp32,bf16", nil, `"bf16" unknown (fp32, fp16, int8)`},
		{"", nil, `"" unknown`},
	} {
		got, err := ParseList(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want an error saying %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	// The printed form parses back to the same precision.
	for _, p := range []Precision{FP32, FP16, INT8} {
		if q, err := Parse(p.String()); err != nil || q != p {
			t.Errorf("%s parses as %v, %v", p, q, err)
		}
	}
	if s := Precision(7).String(); s != "precision(7)" {
		t.Errorf("unknown precision prints %q", s)
	}
}
