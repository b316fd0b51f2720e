package precision

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// An exclusions file (--exclude-file; int8cal fallback writes one) holds
// one entry per line: a node name or pattern as in Exclusions.Nodes, or
// "op-type: T" for an operator type. Blank lines and lines starting with
// '#' are ignored, so the file can say where it came from.
const opTypePrefix = "op-type:"

// maxExclusionsFile bounds what ReadExclusions reads: a list of a model's
// nodes is kilobytes; anything near this is not an exclusions file.
const maxExclusionsFile = 16 << 20

// ReadExclusions reads the exclusions file at path (see ParseExclusions).
func ReadExclusions(path string) (Exclusions, error) {
	f, err := os.Open(path)
	if err != nil {
		return Exclusions{}, fmt.Errorf("exclusions file: %w", err)
	}
	defer f.Close()
	return ParseExclusions(path, io.LimitReader(f, maxExclusionsFile+1))
}

// ParseExclusions reads an exclusions file's lines from r; errors name the
// file (name) and the line, and say how to fix it. Patterns are checked
// for syntax here; whether they match the model is Check's.
func ParseExclusions(name string, r io.Reader) (Exclusions, error) {
	var x Exclusions
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<10)
	read := 0
	for line := 1; sc.Scan(); line++ {
		if read += len(sc.Bytes()) + 1; read > maxExclusionsFile {
			return Exclusions{}, fmt.Errorf("%s: larger than %d MiB; not an exclusions file (one node name per line)", name, maxExclusionsFile>>20)
		}
		text := strings.TrimSpace(sc.Text())
		switch {
		case text == "" || strings.HasPrefix(text, "#"):
		case strings.HasPrefix(text, opTypePrefix):
			t := strings.TrimSpace(strings.TrimPrefix(text, opTypePrefix))
			if t == "" || strings.ContainsAny(t, " \t,") {
				return Exclusions{}, fmt.Errorf("%s:%d: %q: want one operator type after %q (e.g. %q)", name, line, text, opTypePrefix, opTypePrefix+" MatMul")
			}
			x.OpTypes = append(x.OpTypes, t)
		default:
			if _, err := glob(text); err != nil {
				return Exclusions{}, fmt.Errorf("%s:%d: %q is not a valid node pattern (%v; escape a literal *, ? or [ with \\)", name, line, text, err)
			}
			x.Nodes = append(x.Nodes, text)
		}
	}
	if err := sc.Err(); err != nil {
		return Exclusions{}, fmt.Errorf("%s: %w (lines are node names, at most 64 KiB)", name, err)
	}
	return x, nil
}

// Format writes x as an exclusions file, each line of comment first as a
// '#' line; ParseExclusions reads it back as x.
func (x Exclusions) Format(comment ...string) []byte {
	var b bytes.Buffer
	for _, c := range comment {
		for _, l := range strings.Split(c, "\n") {
			fmt.Fprintf(&b, "# %s\n", l)
		}
	}
	for _, n := range x.Nodes {
		if strings.HasPrefix(n, "#") || strings.HasPrefix(n, opTypePrefix) {
			n = `\` + n // read as the name, not a comment or an op type
		}
		fmt.Fprintln(&b, n)
	}
	for _, t := range x.OpTypes {
		fmt.Fprintln(&b, opTypePrefix, t)
	}
	return b.Bytes()
}

// Escape is a node pattern matching exactly the node named name, its
// pattern characters (*, ?, [, \) escaped.
func Escape(name string) string {
	var b strings.Builder
	for _, c := range name {
		if strings.ContainsRune(`*?[\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
