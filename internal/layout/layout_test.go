package layout

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/int8cal/int8cal"

// goos lists the systems whose build is checked: imports differ per system
// (shared memory is Linux-only), and a plugin must stay clean on each.
var goos = []string{"linux", "darwin", "windows"}

// rule forbids the packages matched by from to depend on any package
// whose import path starts with one of the prefixes in not (paths relative
// to the module). direct restricts the rule to the packages' own imports.
type rule struct {
	from   []string // go list patterns, relative to the module
	mains  bool     // only the main packages the patterns match
	not    []string
	direct bool
	why    string
}

var rules = []rule{
	{
		from: []string{"plugins/...", "datasets/plugins/..."}, mains: true,
		not: []string{"core/", "loader/", "cmd/"},
		why: "a plugin binary is built from its SDK, its contract and leaf packages only; move what it needs out of the host (a leaf package such as calib/histogram or internal/float16)",
	},
	{
		from: []string{"plugins/sdk/...", "datasets/sdk/...", "calib/...", "datasets/dataset"},
		not:  []string{"core/", "loader/", "cmd/"},
		why:  "what a plugin author imports must not pull in the host",
	},
	{
		from: []string{"plugins/sdk/calibratortest", "datasets/sdk/batchstreamtest"},
		not:  []string{"internal/proto/"}, direct: true,
		why: "a conformance suite drives the plugin through the host's client adapter (internal/calibratorrpc, internal/batchstreamrpc), as the host does, never through generated protobuf code",
	},
	{
		from: []string{"core/cuda"},
		not:  []string{"core/calibrate"},
		why:  "a backend gathers statistics for calibration (core/stats) without depending on the calibration job",
	},
}

// TestLayering checks every rule on every system in goos and reports each
// forbidden dependency with the chain of imports that brings it in.
func TestLayering(t *testing.T) {
	for _, sys := range goos {
		for _, r := range rules {
			t.Run(sys+"/"+strings.Join(r.from, ","), func(t *testing.T) {
				roots, graph := load(t, sys, r)
				for _, root := range roots {
					for _, chain := range forbidden(graph, root, r) {
						t.Errorf("GOOS=%s: %s depends on %s:\n\t%s\n%s", sys, root, chain[len(chain)-1], strings.Join(chain, "\n\t  imports "), r.why)
					}
				}
			})
		}
	}
}

// load lists the packages r applies to and, unless r.direct, every
// package they depend on, as an import graph (import path → imports).
func load(t *testing.T, sys string, r rule) (roots []string, graph map[string][]string) {
	t.Helper()
	var patterns []string
	for _, p := range r.from {
		patterns = append(patterns, module+"/"+p)
	}
	filter := `{{.ImportPath}}`
	if r.mains {
		filter = `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`
	}
	for _, line := range goList(t, sys, append([]string{"-f", filter}, patterns...)) {
		if line != "" {
			roots = append(roots, line)
		}
	}
	if len(roots) == 0 {
		t.Fatalf("GOOS=%s: %v matches no package", sys, r.from)
	}
	args := []string{"-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`}
	if !r.direct {
		args = append(args, "-deps")
	}
	graph = map[string][]string{}
	for _, line := range goList(t, sys, append(args, roots...)) {
		f := strings.Fields(line)
		graph[f[0]] = f[1:]
	}
	return roots, graph
}

func goList(t *testing.T, sys string, args []string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	// The binaries are built with cgo off (Makefile); build tags and
	// per-system files decide the imports, so list them the same way.
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0", "GOOS="+sys)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}

// forbidden returns, for each package of the module that root may not
// depend on under r, the shortest chain of imports from root to it.
func forbidden(graph map[string][]string, root string, r rule) [][]string {
	bad := func(p string) bool {
		rel, ok := strings.CutPrefix(p, module+"/")
		return ok && slices.ContainsFunc(r.not, func(prefix string) bool {
			return rel == strings.TrimSuffix(prefix, "/") || strings.HasPrefix(rel, prefix)
		})
	}
	// Breadth first, so each chain found is a shortest one; a forbidden
	// package is reported, not walked through.
	from := map[string]string{root: ""}
	queue := []string{root}
	var chains [][]string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if bad(p) {
			var chain []string
			for q := p; q != ""; q = from[q] {
				chain = append(chain, q)
			}
			slices.Reverse(chain)
			chains = append(chains, chain)
			continue
		}
		if r.direct && p != root {
			continue
		}
		for _, q := range graph[p] {
			if _, seen := from[q]; !seen {
				from[q] = p
				queue = append(queue, q)
			}
		}
	}
	return chains
}
