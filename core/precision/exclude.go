package precision

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Exclusions name the layers an INT8 run keeps in FP32 on every backend
// that chooses per layer (core/engine, core/cuda, core/qdq and TensorRT
// through the Q/DQ model): the nodes an INT8 kernel would otherwise run.
// The zero value excludes nothing.
type Exclusions struct {
	// Nodes are ONNX node names, exact or as glob patterns: '*' matches
	// any run of characters, '/' included, since exporters spell module
	// paths with it ("/layer1/*" is every node of layer1), '?' one
	// character, [a-z] and [!0-9] one of a class, '\\' escapes.
	Nodes []string
	// OpTypes are ONNX operator types ("MatMul", "Conv"), exact.
	OpTypes []string
}

// Empty says whether x excludes nothing.
func (x Exclusions) Empty() bool { return len(x.Nodes) == 0 && len(x.OpTypes) == 0 }

// Match says whether the node of the given name and operator type is
// excluded and why: `by name "n"`, `by pattern "p"` or `by op type T`, the
// first entry that matches. Invalid patterns match nothing (Check reports
// them).
func (x Exclusions) Match(name, opType string) (why string, excluded bool) {
	for _, n := range x.Nodes {
		if n == name {
			return fmt.Sprintf("by name %q", n), true
		}
		if re, err := glob(n); err == nil && re.MatchString(name) {
			return fmt.Sprintf("by pattern %q", n), true
		}
	}
	if slices.Contains(x.OpTypes, opType) {
		return "by op type " + opType, true
	}
	return "", false
}

// Node is what Check needs of a model's node.
type Node struct{ Name, OpType string }

// Check validates x against a model before any work: every pattern's
// syntax, every operator type among known (the types the tool runs), and
// every name or pattern matching at least one of nodes, so that a typo is
// an error naming it rather than a silent INT8 run. An operator type the
// tool knows but this model lacks is not an error: one list of types
// serves several models.
func (x Exclusions) Check(nodes []Node, known []string) error {
	var errs []string
	for _, n := range x.Nodes {
		re, err := glob(n)
		if err != nil {
			errs = append(errs, fmt.Sprintf("--exclude-nodes %q is not a valid pattern (%v; escape a literal *, ? or [ with \\)", n, err))
			continue
		}
		if !slices.ContainsFunc(nodes, func(m Node) bool { return n == m.Name || re.MatchString(m.Name) }) {
			errs = append(errs, fmt.Sprintf("--exclude-nodes %q matches no node of the model (names as the ONNX graph spells them, e.g. %q)", n, exampleName(nodes)))
		}
	}
	for _, t := range x.OpTypes {
		if !slices.Contains(known, t) {
			errs = append(errs, fmt.Sprintf("--exclude-op-types %q is not an operator type int8cal knows (ONNX spelling, case-sensitive: Conv, Gemm, MatMul, ...)", t))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// glob compiles a node pattern (see Exclusions.Nodes) to an anchored
// regular expression.
func glob(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '\\':
			if i++; i == len(pattern) {
				return nil, errors.New("trailing \\")
			}
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		case '[':
			end := strings.IndexByte(pattern[i+1:], ']')
			if end < 0 {
				return nil, errors.New("[ without ]")
			}
			class := pattern[i+1 : i+1+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			if class == "" || class == "^" {
				return nil, errors.New("empty [] class")
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += end + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// exampleName is a node name to show in an error: the first named node.
func exampleName(nodes []Node) string {
	for _, n := range nodes {
		if n.Name != "" {
			return n.Name
		}
	}
	return ""
}

// SplitList reads a comma-separated list of names or patterns, spaces
// around entries and empty entries dropped.
func SplitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}
