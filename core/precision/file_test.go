package precision

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseExclusions(t *testing.T) {
	tests := []struct {
		name, in string
		want     Exclusions
		err      string
	}{
		{"empty", "", Exclusions{}, ""},
		{"names, types, comments", "# from fallback\n\nconv1\n  /layer1/*  \nop-type: MatMul\n#op-type: Gemm\n", Exclusions{Nodes: []string{"conv1", "/layer1/*"}, OpTypes: []string{"MatMul"}}, ""},
		{"escaped", `\#hash` + "\n" + `a\[0\]` + "\n", Exclusions{Nodes: []string{`\#hash`, `a\[0\]`}}, ""},
		{"bad pattern", "conv1\nconv[2\n", Exclusions{}, `f:2: "conv[2" is not a valid node pattern`},
		{"no op type", "op-type:\n", Exclusions{}, `f:1: "op-type:": want one operator type`},
		{"two op types", "op-type: Conv,Gemm\n", Exclusions{}, "f:1:"},
		{"line too long", strings.Repeat("a", 70<<10), Exclusions{}, "at most 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := ParseExclusions("f", strings.NewReader(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one with %q", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(x, tt.want) {
				t.Errorf("got %+v, %v; want %+v", x, err, tt.want)
			}
		})
	}
}

// A written file reads back as the same exclusions, matching the same
// nodes, whatever characters the names hold.
func TestExclusionsFileRoundTrip(t *testing.T) {
	names := []string{"conv1", "/layer1/conv*[0]?", `back\slash`, "#hash", "op-type: x"}
	var x Exclusions
	for _, n := range names {
		x.Nodes = append(x.Nodes, Escape(n))
	}
	x.OpTypes = []string{"Gemm"}
	path := filepath.Join(t.TempDir(), "mixed.txt")
	if err := os.WriteFile(path, x.Format("written by a test", "second line"), 0o644); err != nil {
		t.Fatal(err)
	}
	y, err := ReadExclusions(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if _, ok := y.Match(n, "Conv"); !ok {
			t.Errorf("%q not matched by %q", n, y.Nodes)
		}
	}
	if _, ok := y.Match("/layer1/conv-[0]", "Conv"); ok {
		t.Errorf("escaped pattern characters matched another name: %q", y.Nodes)
	}
	if _, ok := y.Match("any", "Gemm"); !ok {
		t.Errorf("op type lost: %+v", y)
	}
	if _, err := ReadExclusions(filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "exclusions file") {
		t.Errorf("missing file: %v", err)
	}
}

// Any bytes either fail with the file's name or read as exclusions that
// write and read back unchanged.
func FuzzParseExclusions(f *testing.F) {
	f.Add([]byte("# c\nconv1\nop-type: Gemm\n/a/*\n"))
	f.Add([]byte(`\#x` + "\n[!0-9]\nop-type:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := ParseExclusions("f", strings.NewReader(string(data)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f") {
				t.Fatalf("error without the file's name: %v", err)
			}
			return
		}
		y, err := ParseExclusions("f", strings.NewReader(string(x.Format("c"))))
		if err != nil || !reflect.DeepEqual(x, y) {
			t.Fatalf("%+v written and read back: %+v, %v", x, y, err)
		}
	})
}
