package preprocess

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		opts map[string]string
		want Spec
	}{
		{nil, Spec{}},
		{map[string]string{"scale": "0.00392156862745098"}, Spec{Scale: 1.0 / 255}},
		{map[string]string{"scale": "1/255"}, Spec{Scale: 1.0 / 255}},
		{map[string]string{"scale": " 2 / 255 "}, Spec{Scale: 2.0 / 255}},
		{map[string]string{"scale": "-1"}, Spec{Scale: -1}},
		{map[string]string{"mean": "0.485,0.456, 0.406", "std": "0.229,0.224,0.225"},
			Spec{Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}},
		{map[string]string{"mean": "127.5", "std": "127.5"}, Spec{Mean: []float32{127.5}, Std: []float32{127.5}}},
		{map[string]string{"mean": "-1,0,1e2"}, Spec{Mean: []float32{-1, 0, 100}}},
		{map[string]string{"layout": "NHWC", "channels": "bgr"}, Spec{Layout: NHWC, Order: BGR}},
		{map[string]string{"layout": "nchw", "channels": "RGB"}, Spec{}},
		{map[string]string{"resize": "256", "crop": "224"}, Spec{Resize: 256, CenterCrop: [2]int{224, 224}}},
		{map[string]string{"crop": "300x200"}, Spec{CenterCrop: [2]int{300, 200}}},
		{map[string]string{"crop": "32X0"}, Spec{CenterCrop: [2]int{32, 0}}},
		{map[string]string{"resize": "0", "crop": "0"}, Spec{}},
	}
	for _, tc := range tests {
		got, err := Parse(tc.opts)
		if err != nil {
			t.Errorf("Parse(%v): %v", tc.opts, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%v) = %+v, want %+v", tc.opts, got, tc.want)
		}
		// Options round-trips.
		back, err := Parse(got.Options())
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Errorf("Parse(%v.Options() = %v) = %+v, %v", got, got.Options(), back, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		opts map[string]string
		want string
	}{
		{map[string]string{"scael": "1"}, `preprocess: unknown option "scael" (options: channels, crop, layout, mean, resize, scale, std)`},
		{map[string]string{"scale": "abc"}, "preprocess: option scale=abc: want a non-zero finite number or fraction, e.g. scale=0.00392156862745098 or scale=1/255"},
		{map[string]string{"scale": "1/0"}, "option scale=1/0: want"},
		{map[string]string{"scale": "0"}, "option scale=0: want a non-zero"},
		{map[string]string{"scale": "1e60"}, "option scale=1e60: want"},
		{map[string]string{"scale": "NaN"}, "option scale=NaN: want"},
		{map[string]string{"mean": "0.485,,0.406"}, `preprocess: option mean=0.485,,0.406: value 2 (""): want finite numbers separated by commas, one for all channels or one per channel in RGB order, e.g. mean=0.485,0.456,0.406`},
		{map[string]string{"mean": "inf"}, `option mean=inf: value 1 ("inf")`},
		{map[string]string{"std": "0.2,0,0.2"}, `option std=0.2,0,0.2: value 2 ("0"): want positive numbers`},
		{map[string]string{"std": "-1"}, `value 1 ("-1"): want positive numbers`},
		{map[string]string{"layout": "chw"}, "preprocess: option layout=chw: want nchw or nhwc"},
		{map[string]string{"channels": "rgba"}, "preprocess: option channels=rgba: want rgb or bgr"},
		{map[string]string{"resize": "256.5"}, "preprocess: option resize=256.5: want the shorter side in pixels, an integer in [0, 65536] (0 = no resize), e.g. resize=256"},
		{map[string]string{"resize": "-3"}, "option resize=-3: want the shorter side"},
		{map[string]string{"resize": "100000"}, "option resize=100000: want"},
		{map[string]string{"crop": "224x"}, "preprocess: option crop=224x: want N or HxW, integers in [0, 65536] (0 = no crop), e.g. crop=224 or crop=224x224"},
		{map[string]string{"crop": "224,224"}, "option crop=224,224: want N or HxW"},
		{map[string]string{"crop": "1x2x3"}, "option crop=1x2x3: want N or HxW"},
		// Several bad options: the first in sorted order is reported.
		{map[string]string{"std": "x", "crop": "y"}, "option crop=y"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%v): error %v, want %q", tc.opts, err, tc.want)
		}
	}
}

func TestSplitAndString(t *testing.T) {
	pre, rest := Split(map[string]string{"dir": "/data", "crop": "224", "labels": "x.txt", "scale": "1/255"})
	if !reflect.DeepEqual(pre, map[string]string{"crop": "224", "scale": "1/255"}) ||
		!reflect.DeepEqual(rest, map[string]string{"dir": "/data", "labels": "x.txt"}) {
		t.Errorf("Split: %v, %v", pre, rest)
	}
	for _, o := range Options {
		if !IsOption(o.Name) {
			t.Errorf("IsOption(%q) = false", o.Name)
		}
	}
	if IsOption("dir") {
		t.Error(`IsOption("dir") = true`)
	}
	s := Spec{Scale: 1.0 / 255, Mean: []float32{0.485, 0.456, 0.406}, Layout: NHWC, Resize: 256, CenterCrop: [2]int{224, 200}}
	want := "channels=rgb crop=224x200 layout=nhwc mean=0.485,0.456,0.406 resize=256 scale=0.003921569"
	if got := s.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := (Spec{}).String(); got != "channels=rgb layout=nchw" {
		t.Errorf("zero String() = %q", got)
	}
	back, err := Parse(s.Options())
	if err != nil || !reflect.DeepEqual(back, s) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}

func TestSet(t *testing.T) {
	var s Spec
	// Declared defaults first, then the user's values, as
	// dataset.ParseOptions calls it.
	for _, o := range Options {
		if o.Default != "" {
			if err := s.Set(o.Name, o.Default); err != nil {
				t.Fatalf("default %s=%s: %v", o.Name, o.Default, err)
			}
		}
	}
	if err := s.Set("crop", "224"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("scale", "1/255"); err != nil {
		t.Fatal(err)
	}
	want := Spec{Scale: 1.0 / 255, CenterCrop: [2]int{224, 224}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("%+v, want %+v", s, want)
	}
	// A bad value leaves the Spec as it was.
	if err := s.Set("scale", "x"); err == nil || !strings.HasPrefix(err.Error(), "want ") {
		t.Errorf("Set(scale=x): %v", err)
	}
	if err := s.Set("crop", "-1"); err == nil {
		t.Error("Set(crop=-1): no error")
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("after bad values: %+v", s)
	}
	if err := s.Set("dir", "x"); err == nil || !strings.Contains(err.Error(), "not a preprocessing option") {
		t.Errorf("Set(dir): %v", err)
	}
}
