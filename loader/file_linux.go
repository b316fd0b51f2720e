package loader

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// File returns the path of the file the library was loaded from, read
// from /proc/self/maps (the system loader resolves a soname to a file we
// are not told about); Path when it cannot be found.
func (l *Library) File() string {
	if strings.Contains(l.Path, "/") {
		return l.Path
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return l.Path
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 {
			continue
		}
		path := fields[len(fields)-1]
		if strings.HasPrefix(filepath.Base(path), l.Path) {
			return path
		}
	}
	return l.Path
}
