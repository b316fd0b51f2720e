package dataset

import (
	"errors"
	"strings"
	"testing"
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
