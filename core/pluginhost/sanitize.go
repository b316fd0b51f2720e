package pluginhost

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Bounds on plugin-provided text once cleaned: an error message or a
// description, and one log line.
const (
	MaxErrorText = 2048
	MaxLogText   = 4096
)

// Clean makes text that came from a plugin (an error, a log line, a
// description) safe to print on a terminal or in a log: ANSI escape
// sequences (CSI, OSC, DCS and the like) are dropped; line breaks become
// " | " and tabs a space, so the text stays on one line; other control
// characters (C0, DEL, C1), the Unicode controls that reorder text (bidi
// overrides and isolates) and bytes that are not UTF-8 are written out as
// \xNN or \uNNNN; and text longer than max bytes is cut, saying how much
// was left out. Leading and trailing spaces are trimmed.
func Clean(s string, max int) string {
	var b strings.Builder
	b.Grow(min(len(s), max) + 16)
	pendingBreak := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0x1b:
			i = skipEscape(s, i)
			continue
		case c == '\n' || c == '\r' || c == '\v' || c == '\f':
			pendingBreak = b.Len() > 0
			i++
			continue
		}
		if pendingBreak {
			trimTrailingSpace(&b)
			b.WriteString(" | ")
			pendingBreak = false
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		start := b.Len()
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, c)
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0, reorders(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		if b.Len() > max {
			out := b.String()[:start]
			return strings.TrimSpace(out) + fmt.Sprintf("… (%d more bytes)", len(s)-i)
		}
		i += size
	}
	return strings.TrimSpace(b.String())
}

func trimTrailingSpace(b *strings.Builder) {
	s := strings.TrimRight(b.String(), " ")
	if len(s) != b.Len() {
		b.Reset()
		b.WriteString(s)
	}
}

// reorders reports the Unicode format characters that change the display
// order of the text around them (bidi embeddings, overrides, isolates and
// marks), which can make a message read other than it is.
func reorders(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// skipEscape returns the index after the escape sequence starting at s[i]
// (an ESC): CSI (ESC [ parameters intermediates final), the string
// sequences OSC, DCS, SOS, PM and APC (up to BEL or ESC \, or the end), or
// ESC and one more character.
func skipEscape(s string, i int) int {
	i++ // ESC
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		i++
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
			i++
		}
		if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
			i++
		}
		return i
	case ']', 'P', 'X', '^', '_':
		for i++; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return i
	}
	if s[i] >= 0x20 && s[i] <= 0x7e {
		return i + 1
	}
	return i
}
