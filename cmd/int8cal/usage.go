package main

import (
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// flagGroups orders --help: each subcommand's flags are printed under the
// titles below, in this order, a group only when the subcommand has one of
// its flags. Groups go by flag name, so one table serves every subcommand
// (a name means the same thing wherever it appears) and the flag
// definitions stay where they are. A flag missing here is still printed,
// under otherTitle, and TestHelpGroupsEveryFlag fails until it is added.
var flagGroups = []struct {
	title string
	flags []string
}{
	{"Model and data", []string{"model", "datadir", "d", "split", "data", "data-opt", "cal-data", "cal-opt", "eval-data", "eval-opt"}},
	{"Evaluation", []string{"precision", "batch", "start", "score", "batches"}},
	{"Calibration", []string{"calibrator", "calibrator-opt", "calibrators", "cal-batch", "cal-batches", "cal-first", "cache", "table", "trt-version", "histogram-cache", "shard", "stats-out"}},
	{"Mixed precision", []string{"exclude-nodes", "exclude-op-types", "exclude-file", "max-drop", "max-layers", "sensitivity-batches"}},
	{"Q/DQ model", []string{"per-tensor-weights", "extra-ops"}},
	{"Backend", []string{"backend", "device", "cuda-lib", "nvrtc-lib", "cublaslt-lib", "tensorrt-lib", "tensorrt-int8", "tensorrt-workspace", "tensorrt-avg-timing", "useDLACore"}},
	{"Plugins", []string{"plugin-dir", "plugin-lock", "lock"}},
	{"Output", []string{"format", "out", "json", "report", "top", "sort"}},
	{"Resources and logging", []string{"workers", "memory-limit", "log-level"}},
}

// otherTitle heads the flags no group claims.
const otherTitle = "Other options"

// usageWidth is the width descriptions are wrapped to.
const usageWidth = 80

// printUsage writes a subcommand's --help: the synopsis, then its flags
// group by group, each group in the table's order.
func printUsage(w io.Writer, name, synopsis string, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: int8cal %s [options]\n\n%s\n", name, synopsis)
	group := map[string]int{}
	for g, fg := range flagGroups {
		for _, f := range fg.flags {
			group[f] = g
		}
	}
	byGroup := make([][]*flag.Flag, len(flagGroups)+1)
	fs.VisitAll(func(f *flag.Flag) {
		g, ok := group[f.Name]
		if !ok {
			g = len(flagGroups)
		}
		byGroup[g] = append(byGroup[g], f)
	})
	for g, flags := range byGroup {
		if len(flags) == 0 {
			continue
		}
		title := otherTitle
		if g < len(flagGroups) {
			title = flagGroups[g].title
			// Within a group, the table's order (related flags together)
			// rather than the alphabet.
			order := map[string]int{}
			for i, n := range flagGroups[g].flags {
				order[n] = i
			}
			sortFlags(flags, func(f *flag.Flag) int { return order[f.Name] })
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, f := range flags {
			printFlag(w, f)
		}
	}
}

func sortFlags(flags []*flag.Flag, key func(*flag.Flag) int) {
	for i := 1; i < len(flags); i++ {
		for j := i; j > 0 && key(flags[j]) < key(flags[j-1]); j-- {
			flags[j], flags[j-1] = flags[j-1], flags[j]
		}
	}
}

// printFlag prints one flag as the flag package does (the value's name
// from a back-quoted word of the usage or its type, the default unless it
// is the zero value) but with two dashes, as the documentation spells
// flags, and the description wrapped.
func printFlag(w io.Writer, f *flag.Flag) {
	arg, text := flag.UnquoteUsage(f)
	head := "  --" + f.Name
	if arg != "" {
		head += " " + arg
	}
	if !isZeroValue(f) {
		if arg == "string" {
			text += fmt.Sprintf(" (default %q)", f.DefValue)
		} else {
			text += fmt.Sprintf(" (default %v)", f.DefValue)
		}
	}
	fmt.Fprintln(w, head)
	const indent = "        "
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > usageWidth {
			fmt.Fprintln(w, line)
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	if len(line) > len(indent) {
		fmt.Fprintln(w, line)
	}
}

// isZeroValue reports whether f's default is its type's zero value, which
// --help leaves out (the flag package's rule).
func isZeroValue(f *flag.Flag) (zero bool) {
	defer func() {
		if recover() != nil {
			zero = false
		}
	}()
	typ := reflect.TypeOf(f.Value)
	var z reflect.Value
	if typ.Kind() == reflect.Pointer {
		z = reflect.New(typ.Elem())
	} else {
		z = reflect.Zero(typ)
	}
	return f.DefValue == z.Interface().(flag.Value).String()
}
