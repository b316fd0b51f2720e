package precision

import (
	"strings"
	"testing"
)

func TestExclusionsMatch(t *testing.T) {
	x := Exclusions{Nodes: []string{"/conv1/Conv", "/layer1/*", "/fc?", `/a\*b`, "/l[0-2]/[!x]"}, OpTypes: []string{"MatMul"}}
	for _, tc := range []struct {
		name, op, why string
	}{
		{"/conv1/Conv", "Conv", `by name "/conv1/Conv"`},
		{"/layer1/layer1.0/conv1/Conv", "Conv", `by pattern "/layer1/*"`}, // '*' crosses '/'
		{"/fc1", "Gemm", `by pattern "/fc?"`},
		{"/fc12", "Gemm", ""},
		{"/a*b", "Conv", `by pattern "/a\\*b"`},
		{"/aXb", "Conv", ""},
		{"/l1/y", "Conv", `by pattern "/l[0-2]/[!x]"`},
		{"/l1/x", "Conv", ""},
		{"/layer2/MatMul", "MatMul", "by op type MatMul"},
		{"/layer2/Conv", "Conv", ""},
		{"/conv1/Conv.x", "Conv", ""}, // patterns are anchored; '.' is literal
	} {
		why, ok := x.Match(tc.name, tc.op)
		if why != tc.why || ok != (tc.why != "") {
			t.Errorf("Match(%q, %q) = %q, %v; want %q", tc.name, tc.op, why, ok, tc.why)
		}
	}
}

func TestExclusionsCheck(t *testing.T) {
	nodes := []Node{{"/conv1/Conv", "Conv"}, {"/layer1/layer1.0/Add", "Add"}}
	known := []string{"Add", "Conv", "MatMul"}
	for _, tc := range []struct {
		x    Exclusions
		errs []string // substrings of the error; none: no error
	}{
		{Exclusions{}, nil},
		{Exclusions{Nodes: []string{"/conv1/Conv", "/layer1/*"}, OpTypes: []string{"MatMul"}}, nil}, // MatMul: known, absent, fine
		{Exclusions{Nodes: []string{"/conv2/Conv"}}, []string{`--exclude-nodes "/conv2/Conv" matches no node`, `"/conv1/Conv"`}},
		{Exclusions{Nodes: []string{"/conv1/[Conv"}}, []string{`"/conv1/[Conv" is not a valid pattern`}},
		{Exclusions{OpTypes: []string{"conv", "Foo"}}, []string{`--exclude-op-types "conv" is not an operator type`, `"Foo"`}},
	} {
		err := tc.x.Check(nodes, known)
		if len(tc.errs) == 0 {
			if err != nil {
				t.Errorf("%+v: %v", tc.x, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%+v: no error", tc.x)
			continue
		}
		for _, want := range tc.errs {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%+v: error %q lacks %q", tc.x, err, want)
			}
		}
	}
}

func TestSplitList(t *testing.T) {
	got := SplitList(" Conv, MatMul,,Gemm,")
	if strings.Join(got, "|") != "Conv|MatMul|Gemm" {
		t.Errorf("SplitList = %q", got)
	}
}
