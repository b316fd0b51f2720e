package main

import (
	"encoding/json"
	"fmt"
	"io"
)

// formatUsage is the --format flag of the commands that print text or JSON.
const formatUsage = "output: text or json"

// checkFormat refuses a --format other than text and json.
func checkFormat(format string) error {
	if format != "text" && format != "json" {
		return fmt.Errorf("--format %q unknown: text or json", format)
	}
	return nil
}

// writeJSON writes v as indented JSON, as every --format json does, so
// that a person can read it too.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
