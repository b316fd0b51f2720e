package options

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	declared := []Decl{{"a", "1"}, {"b", ""}}
	var got []string
	set := func(n, v string) error {
		if v == "bad" {
			return errors.New("want a number")
		}
		got = append(got, n+"="+v)
		return nil
	}
	if err := Parse("p", declared, true, map[string]string{"b": "2"}, set); err != nil || strings.Join(got, " ") != "a=1 b=2" {
		t.Errorf("defaults then values: %v, %v", got, err)
	}
	got = nil
	if err := Parse("p", declared, false, map[string]string{"b": "2"}, set); err != nil || strings.Join(got, " ") != "b=2" {
		t.Errorf("values only: %v, %v", got, err)
	}
	if err := Parse("p", declared, false, map[string]string{"zz": "1", "c": "1"}, set); err == nil || err.Error() != `p: unknown option "c" (options: a, b)` {
		t.Errorf("unknown: %v", err)
	}
	if err := Parse("p", nil, false, map[string]string{"c": "1"}, set); err == nil || !strings.Contains(err.Error(), "(options: none)") {
		t.Errorf("no options: %v", err)
	}
	if err := Parse("p", declared, false, map[string]string{"a": "bad"}, set); err == nil || err.Error() != "p: option a=bad: want a number" {
		t.Errorf("bad value: %v", err)
	}
}
