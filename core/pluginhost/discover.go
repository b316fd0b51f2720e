package pluginhost

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Kind is a kind of plugin.
type Kind string

// CalibratorKind is the kind of calibrator plugins.
const CalibratorKind Kind = "calibrator"

// prefix is the file name prefix of a kind's programs.
func (k Kind) prefix() string { return "int8cal-" + string(k) + "-" }

// PathEnv lists extra plugin directories, separated by the OS list
// separator.
const PathEnv = "INT8CAL_PLUGIN_PATH"

// SearchDirs returns the directories searched, in order: dir (the
// --plugin-dir flag, if set), the entries of $INT8CAL_PLUGIN_PATH, and the
// directory holding the running executable, each made absolute (a
// relative one is taken from the working directory).
func SearchDirs(dir string) []string {
	var dirs []string
	if dir != "" {
		dirs = append(dirs, absDir(dir))
	}
	for _, d := range filepath.SplitList(os.Getenv(PathEnv)) {
		if d != "" {
			dirs = append(dirs, absDir(d))
		}
	}
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Dir(exe))
	}
	return dirs
}

func absDir(d string) string {
	if a, err := filepath.Abs(d); err == nil {
		return a
	}
	return d
}

// Found is a plugin program on disk.
type Found struct {
	Kind Kind
	Name string
	// Path is absolute: a plugin is never looked up on $PATH.
	Path string
	// SHA256, when set (hex), is what the program must hash to: the
	// plugin is refused at start otherwise. Lock.Pin sets it, and
	// LockFile to the lock file it comes from.
	SHA256, LockFile string
}

// Find lists the plugins of a kind in dirs, sorted by name; when two
// directories hold the same name, the earlier directory wins. Their paths
// are absolute (a relative directory is taken from the working
// directory).
func Find(kind Kind, dirs []string) []Found {
	seen := map[string]bool{}
	var found []Found
	for _, dir := range dirs {
		dir, err := filepath.Abs(dir)
		if err != nil {
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name, ok := strings.CutPrefix(e.Name(), kind.prefix())
			if !ok || name == "" || seen[name] || e.IsDir() {
				continue
			}
			path := filepath.Join(dir, e.Name())
			if info, err := os.Stat(path); err != nil || info.Mode()&0o111 == 0 {
				continue
			}
			seen[name] = true
			found = append(found, Found{Kind: kind, Name: name, Path: path})
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
	return found
}

// Lookup finds the plugin of a kind and name, or says where it looked and
// what it found instead.
func Lookup(kind Kind, name string, dirs []string) (Found, error) {
	all := Find(kind, dirs)
	var names []string
	for _, f := range all {
		if f.Name == name {
			return f, nil
		}
		names = append(names, f.Name)
	}
	available := "none"
	if len(names) > 0 {
		available = strings.Join(names, ", ")
	}
	return Found{}, fmt.Errorf("%s plugin %q not found: looked for %s%s in %s (found: %s); build it with `make` or pass --plugin-dir",
		kind, name, kind.prefix(), name, strings.Join(dirs, ", "), available)
}
