package testfixture

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// CodeBlock is a fenced code block of a Markdown page, as the tests that
// follow a guide (docs/, python/plugintest) read it.
type CodeBlock struct {
	Info  string   // what follows the opening ```: "go", "sh doc-test", "python file=x.py"
	Lines []string // its lines, without the fences
	Line  int      // the opening fence's line, 1-based
}

// Text is the block's lines, each ended by a newline.
func (b CodeBlock) Text() string { return strings.Join(b.Lines, "\n") + "\n" }

// CodeBlocks returns the fenced code blocks of the Markdown page at path,
// failing t if it cannot be read.
func CodeBlocks(t testing.TB, path string) []CodeBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []CodeBlock
	var cur *CodeBlock
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := s.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &CodeBlock{Info: strings.TrimSpace(strings.TrimPrefix(line, "```")), Line: n}
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.Lines = append(cur.Lines, line)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}
