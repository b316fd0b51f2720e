package pluginhost

import (
	"bytes"
	"encoding/json"
	"io"
)

// maxParsedLogLine is the longest stderr line go-plugin parses as a JSON
// log entry: it reads lines through a bufio.Reader of its
// PluginLogBufferSize (64 KiB by default; the host keeps the default) and
// logs longer ones as plain text, unparsed.
const maxParsedLogLine = 64 << 10

// logFields are the hclog fields go-plugin's log parser takes to be
// strings without checking (go-plugin v1.8.0 log_entry.go parseJSON): a
// plugin line such as {"@message":1} would panic the host.
var logFields = []string{"@message", "@level", "@timestamp"}

// logLines passes a plugin's stderr on to go-plugin line by line,
// unchanged except for a JSON line whose hclog fields are not strings,
// which gets a text prefix so that go-plugin logs it as text instead of
// panicking. A plugin's stderr is outside input like any other.
type logLines struct {
	src  io.ReadCloser
	line []byte // the current line, while it may still be parsed
	out  []byte // ready for the reader
	long bool   // inside a line too long to be parsed: passed on as it comes
	err  error  // src's error, returned once out and line are drained
	buf  [4096]byte
}

func (l *logLines) Read(b []byte) (int, error) {
	for len(l.out) == 0 {
		if l.err != nil {
			if len(l.line) == 0 {
				return 0, l.err
			}
			l.out = append(l.out, safeLogLine(l.line)...)
			l.line = l.line[:0]
			break
		}
		n, err := l.src.Read(l.buf[:])
		l.split(l.buf[:n])
		l.err = err
	}
	n := copy(b, l.out)
	l.out = l.out[n:]
	return n, nil
}

func (l *logLines) Close() error { return l.src.Close() }

// split moves the complete lines of chunk to out and keeps the rest.
func (l *logLines) split(chunk []byte) {
	for len(chunk) > 0 {
		i := bytes.IndexByte(chunk, '\n')
		if l.long {
			if i < 0 {
				l.out = append(l.out, chunk...)
				return
			}
			l.out = append(l.out, chunk[:i+1]...)
			chunk, l.long = chunk[i+1:], false
			continue
		}
		if i < 0 {
			l.line = append(l.line, chunk...)
			if len(l.line) > maxParsedLogLine {
				l.out = append(l.out, l.line...)
				l.line, l.long = l.line[:0], true
			}
			return
		}
		l.line = append(l.line, chunk[:i]...)
		l.out = append(append(l.out, safeLogLine(l.line)...), '\n')
		l.line, chunk = l.line[:0], chunk[i+1:]
	}
}

// safeLogLine is line, or line behind a text prefix when it is a JSON
// object holding a non-string hclog field.
func safeLogLine(line []byte) []byte {
	if trimmed := bytes.TrimLeft(line, " \t\r\n"); len(line) > maxParsedLogLine || len(trimmed) == 0 || trimmed[0] != '{' {
		return line
	}
	var entry map[string]any
	if json.Unmarshal(line, &entry) != nil {
		return line
	}
	for _, k := range logFields {
		if v, ok := entry[k]; ok {
			if _, isString := v.(string); !isString {
				return append([]byte("malformed log line: "), line...)
			}
		}
	}
	return line
}
