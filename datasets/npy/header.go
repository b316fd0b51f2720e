package npy

import (
	"fmt"
	"strconv"
	"strings"
)

// The header is a Python dict literal. These types hold the values the
// literal parser below produces.
type (
	tuple []any // (1, 2,)
	list  []any // [...], only in structured-dtype descrs
	dict  map[string]any
)

// parseHeader extracts descr, fortran_order and shape from a .npy header.
// Keys other than those three are ignored.
func parseHeader(h string) (descr string, shape []int, err error) {
	p := &litParser{s: h}
	v, err := p.parse()
	if err != nil {
		return "", nil, fmt.Errorf("malformed header %s: %v", quoteHeader(h), err)
	}
	d, ok := v.(dict)
	if !ok {
		return "", nil, fmt.Errorf("malformed header %s: not a dict", quoteHeader(h))
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if _, ok := d[k]; !ok {
			return "", nil, fmt.Errorf("header %s lacks the key '%s'", quoteHeader(h), k)
		}
	}
	switch v := d["descr"].(type) {
	case string:
		descr = v
	case list, tuple:
		return "", nil, fmt.Errorf("structured dtype %s is not supported (only plain numeric descrs such as '<f4')", describe(v))
	default:
		return "", nil, fmt.Errorf("header's descr is %s, want a string", describe(v))
	}
	switch v := d["fortran_order"].(type) {
	case bool:
		if v {
			return "", nil, fmt.Errorf("array is stored in Fortran order; only C order is supported: rewrite it with np.save(path, np.ascontiguousarray(a))")
		}
	default:
		return "", nil, fmt.Errorf("header's fortran_order is %s, want True or False", describe(v))
	}
	t, ok := d["shape"].(tuple)
	if !ok {
		if n, isInt := d["shape"].(int64); isInt {
			t = tuple{n} // "(10)" parses as an int; accept it as (10,)
		} else {
			return "", nil, fmt.Errorf("header's shape is %s, want a tuple of ints", describe(d["shape"]))
		}
	}
	shape = make([]int, len(t))
	for i, e := range t {
		n, ok := e.(int64)
		if !ok || n < 0 || int64(int(n)) != n {
			return "", nil, fmt.Errorf("header's shape has dimension %s, want a non-negative int", describe(e))
		}
		shape[i] = int(n)
	}
	return descr, shape, nil
}

func quoteHeader(h string) string {
	const limit = 200
	if len(h) > limit {
		return strconv.Quote(h[:limit]) + "..."
	}
	return strconv.Quote(strings.TrimRight(h, " \n"))
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case string:
		return strconv.Quote(v)
	case bool:
		if v {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(v, 10)
	case tuple:
		return fmt.Sprintf("a tuple of %d items", len(v))
	case list:
		return fmt.Sprintf("a list of %d items", len(v))
	case dict:
		return "a dict"
	}
	return fmt.Sprintf("%T", v)
}

// litParser parses the subset of Python literals .npy headers use: dicts,
// tuples, lists, strings, ints (with an optional Python 2 'L' suffix),
// True, False and None. Nothing is evaluated.
type litParser struct {
	s     string
	i     int
	depth int
}

const maxDepth = 32

func (p *litParser) parse() (any, error) {
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.errorf("unexpected %q after the literal", p.s[p.i])
	}
	return v, nil
}

func (p *litParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *litParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n\x00", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *litParser) value() (any, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, p.errorf("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '\'' || c == '"':
		return p.str()
	case c == '{' || c == '(' || c == '[':
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth {
			return nil, p.errorf("nested too deeply")
		}
		if c == '{' {
			return p.dict()
		}
		return p.seq()
	case c == '-' || c == '+' || ('0' <= c && c <= '9'):
		return p.int()
	case 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z':
		start := p.i
		for p.i < len(p.s) && ('A' <= p.s[p.i] && p.s[p.i] <= 'Z' || 'a' <= p.s[p.i] && p.s[p.i] <= 'z') {
			p.i++
		}
		switch w := p.s[start:p.i]; w {
		case "True":
			return true, nil
		case "False":
			return false, nil
		case "None":
			return nil, nil
		default:
			p.i = start
			return nil, p.errorf("unexpected name %q", w)
		}
	default:
		return nil, p.errorf("unexpected %q", c)
	}
}

func (p *litParser) str() (string, error) {
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\\' && p.i+1 < len(p.s):
			b.WriteByte(p.s[p.i+1]) // descrs need no escapes; keep the escaped byte
			p.i += 2
		case c == '\n':
			return "", p.errorf("newline in string")
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *litParser) int() (int64, error) {
	start := p.i
	if p.s[p.i] == '-' || p.s[p.i] == '+' {
		p.i++
	}
	for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
		p.i++
	}
	n, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
	if err != nil {
		p.i = start
		return 0, p.errorf("bad integer: %v", err)
	}
	if p.i < len(p.s) && (p.s[p.i] == 'L' || p.s[p.i] == 'l') {
		p.i++ // Python 2 long, as written by old numpy
	}
	return n, nil
}

// seq parses a tuple or list; a tuple may end with a comma.
func (p *litParser) seq() (any, error) {
	open := p.s[p.i]
	closing := byte(')')
	if open == '[' {
		closing = ']'
	}
	p.i++
	var items []any
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == closing {
			p.i++
			break
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		p.space()
		if p.i >= len(p.s) {
			return nil, p.errorf("unterminated %q", open)
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] != closing {
			return nil, p.errorf("unexpected %q in %q...%q", p.s[p.i], open, closing)
		}
		p.i++
		if open == '(' && len(items) == 1 {
			return items[0], nil // "(10)" is a parenthesised 10, not a tuple
		}
		break
	}
	if open == '[' {
		return list(items), nil
	}
	return tuple(items), nil
}

func (p *litParser) dict() (dict, error) {
	p.i++ // '{'
	d := make(dict)
	for {
		p.space()
		if p.i >= len(p.s) {
			return nil, p.errorf("unterminated dict")
		}
		if p.s[p.i] == '}' {
			p.i++
			return d, nil
		}
		if c := p.s[p.i]; c != '\'' && c != '"' {
			return nil, p.errorf("dict key must be a string, found %q", c)
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.errorf("expected ':' after key %q", k)
		}
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if _, dup := d[k]; dup {
			return nil, p.errorf("key %q repeated", k)
		}
		d[k] = v
		p.space()
		if p.i >= len(p.s) {
			return nil, p.errorf("unterminated dict")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
		default:
			return nil, p.errorf("unexpected %q in dict", p.s[p.i])
		}
	}
}
