package main

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/help-*.txt from the current --help")

// helpCommands are the subcommands that take flags (version takes none).
func helpCommands() []string {
	var names []string
	for _, c := range commands() {
		if c.name != "version" {
			names = append(names, c.name)
		}
	}
	return names
}

// Every flag of every subcommand belongs to a group of flagGroups: a new
// flag must be given one, or --help shows it under "Other options".
func TestHelpGroupsEveryFlag(t *testing.T) {
	for _, name := range helpCommands() {
		code, out, errOut := run(name, "--help")
		if code != 0 {
			t.Fatalf("int8cal %s --help: exit %d: %s", name, code, errOut)
		}
		if _, other, ok := strings.Cut(out, "\n"+otherTitle+":\n"); ok {
			t.Errorf("int8cal %s --help: flags in no group of flagGroups (usage.go); add each to one:\n%s", name, other)
		}
		if !strings.Contains(out, "\nModel and data:\n") && name != "plugins" && name != "doctor" {
			t.Errorf("int8cal %s --help has no \"Model and data\" group:\n%s", name, out)
		}
	}
}

// Each flag is listed once, under its group's title, and every group
// named in the table exists at most once in the output.
func TestHelpListsEachFlagOnce(t *testing.T) {
	for _, name := range helpCommands() {
		_, out, _ := run(name, "--help")
		seen := map[string]bool{}
		var titles []string
		for _, line := range strings.Split(out, "\n") {
			if f, ok := strings.CutPrefix(line, "  --"); ok {
				f, _, _ = strings.Cut(f, " ")
				if seen[f] {
					t.Errorf("int8cal %s --help lists --%s twice", name, f)
				}
				seen[f] = true
			}
			if strings.HasSuffix(line, ":") && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "Usage") {
				if slices.Contains(titles, line) {
					t.Errorf("int8cal %s --help has group %q twice", name, line)
				}
				titles = append(titles, line)
			}
		}
		if len(seen) == 0 {
			t.Errorf("int8cal %s --help lists no flags:\n%s", name, out)
		}
	}
}

// No flag name is claimed by two groups: the grouping would depend on
// the table's order.
func TestFlagGroupsDisjoint(t *testing.T) {
	owner := map[string]string{}
	for _, g := range flagGroups {
		for _, f := range g.flags {
			if o, ok := owner[f]; ok {
				t.Errorf("--%s is in both %q and %q", f, o, g.title)
			}
			owner[f] = g.title
		}
	}
}

// The whole --help of one subcommand, against testdata (go test -run
// TestHelpGolden -update rewrites it).
func TestHelpGolden(t *testing.T) {
	_, out, _ := run("export", "--help")
	golden := filepath.Join("testdata", "help-export.txt")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -run TestHelpGolden -update writes it)", err)
	}
	if out != string(want) {
		t.Errorf("int8cal export --help differs from %s (-update rewrites it):\n%s", golden, out)
	}
}
