package dataset

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"unsafe"
)

func TestParseOptions(t *testing.T) {
	declared := []Option{{Name: "dir"}, {Name: "split", Default: "train"}, {Name: "divisor", Default: "255"}}
	set := func(got map[string]string) func(name, value string) error {
		return func(name, value string) error {
			if value == "bad" {
				return errors.New("not a good value")
			}
			got[name] = value
			return nil
		}
	}
	got := map[string]string{}
	if err := ParseOptions("mnist", declared, map[string]string{"dir": "d", "divisor": "1"}, set(got)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["dir"] != "d" || got["split"] != "train" || got["divisor"] != "1" {
		t.Errorf("options set %v; want the user's over the defaults, none for dir's empty default", got)
	}
	for _, tc := range []struct {
		options map[string]string
		want    string
	}{
		{map[string]string{"zz": "1", "aa": "1", "dir": "d"}, `mnist: unknown option "aa" (options: dir, split, divisor)`},
		{map[string]string{"split": "bad"}, "mnist: option split=bad: not a good value"},
	} {
		if err := ParseOptions("mnist", declared, tc.options, set(map[string]string{})); err == nil || err.Error() != tc.want {
			t.Errorf("ParseOptions(%v): %v, want %q", tc.options, err, tc.want)
		}
	}
	err := ParseOptions("x", []Option{{Name: "a", Default: "bad"}}, nil, set(map[string]string{}))
	if err == nil || !strings.Contains(err.Error(), "a=bad (the default)") {
		t.Errorf("bad default: %v", err)
	}
	if err := ParseOptions("x", nil, map[string]string{"a": "1"}, set(nil)); err == nil || !strings.Contains(err.Error(), "(options: none)") {
		t.Errorf("no options declared: %v", err)
	}
}

func TestMetaCheck(t *testing.T) {
	for _, tc := range []struct {
		m  Meta
		ok bool
	}{
		{Meta{Samples: 10, SampleShape: []int{1, 28, 28}, Labels: true, Classes: 10}, true},
		{Meta{Samples: 0, SampleShape: []int{3}}, true},
		{Meta{Samples: -1, SampleShape: []int{3}}, false},
		{Meta{Samples: 1}, false},
		{Meta{Samples: 1, SampleShape: []int{3, 0}}, false},
		{Meta{Samples: 1, SampleShape: []int{1 << 15, 1 << 15}}, false},
		{Meta{Samples: 1, SampleShape: []int{3}, Classes: -2}, false},
	} {
		if err := tc.m.Check(); (err == nil) != tc.ok {
			t.Errorf("%+v: Check() = %v", tc.m, err)
		}
	}
	if n := (Meta{SampleShape: []int{3, 32, 32}}).SampleElements(); n != 3072 {
		t.Errorf("SampleElements %d", n)
	}
}

func TestMetaCheckInputs(t *testing.T) {
	ids := Input{Name: "input_ids", Type: Int64, Shape: []int{16}}
	mask := Input{Name: "attention_mask", Type: Bool, Shape: []int{16}}
	for _, tc := range []struct {
		name string
		m    Meta
		want string // "" for a usable Meta
	}{
		{"two inputs", Meta{Samples: 2, Inputs: []Input{ids, mask}}, ""},
		{"one unnamed", Meta{Samples: 2, Inputs: []Input{{Type: Float32, Shape: []int{3, 32, 32}}}}, ""},
		{"shape beside inputs", Meta{Samples: 2, SampleShape: []int{3}, Inputs: []Input{ids}}, "a sample shape [3] beside 1 inputs"},
		{"unnamed among two", Meta{Samples: 2, Inputs: []Input{ids, {Type: Bool, Shape: []int{16}}}}, "an unnamed input among 2"},
		{"twice", Meta{Samples: 2, Inputs: []Input{ids, ids}}, `input "input_ids" listed twice`},
		{"unknown type", Meta{Samples: 2, Inputs: []Input{{Name: "x", Type: 11, Shape: []int{1}}}}, `input "x": unknown element type 11`},
		{"no shape", Meta{Samples: 2, Inputs: []Input{{Name: "x", Type: Int8}}}, `input "x": no shape`},
		{"zero dimension", Meta{Samples: 2, Inputs: []Input{{Name: "x", Type: Int8, Shape: []int{4, 0}}}}, `input "x": shape [4 0] has a dimension outside`},
		{"too many values", Meta{Samples: 2, Inputs: []Input{{Name: "a", Type: Int8, Shape: []int{1 << 27}}, {Name: "b", Type: Int8, Shape: []int{1 << 27}}, {Name: "c", Type: Int8, Shape: []int{1}}}}, "more than 268435456 values per sample"},
	} {
		err := tc.m.Check()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Check() = %v, want %q", tc.name, err, tc.want)
		}
	}
	if n := (Meta{Inputs: []Input{ids, mask}}).SampleBytes(); n != 16*8+16 {
		t.Errorf("SampleBytes %d, want 144", n)
	}
}

func TestTensorViews(t *testing.T) {
	x := NewTensor(Int64, 3)
	if len(x.Data) != 24 || x.Len() != 3 || uintptr(unsafe.Pointer(&x.Data[0]))%8 != 0 {
		t.Fatalf("NewTensor(Int64, 3): %d bytes, len %d", len(x.Data), x.Len())
	}
	x.Int64s()[1] = -2
	var back [8]byte
	CopyLittleEndian(back[:], x.Data[8:16], 8)
	if binary.LittleEndian.Uint64(back[:]) != uint64(1<<64-2) {
		t.Errorf("CopyLittleEndian of -2: % x", back)
	}
	f := Float32Tensor([]float32{1.5, 2})
	if f.Type != Float32 || f.Float32s()[1] != 2 {
		t.Errorf("Float32Tensor %+v", f)
	}
	defer func() {
		if recover() == nil {
			t.Error("an int64 tensor viewed as bools did not panic")
		}
	}()
	x.Bools()
}
