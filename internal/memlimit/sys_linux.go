package memlimit

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// available returns the memory this process may still use: the kernel's
// MemAvailable, or less when a memory cgroup (a container, a systemd
// slice) leaves less room, and which of the two it is. root is the file
// system root ("/"; a directory of fake files in tests).
func available(root string) (int64, string, error) {
	n, err := memAvailable(filepath.Join(root, "proc", "meminfo"))
	if err != nil {
		return 0, "", err
	}
	source := "MemAvailable in /proc/meminfo"
	if c, where, ok := cgroupRoom(root); ok && c < n {
		n, source = c, where
	}
	return n, source, nil
}

// memAvailable reads the MemAvailable line of /proc/meminfo (kernels since
// 3.14 have it).
func memAvailable(file string) (int64, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "MemAvailable:" && f[2] == "kB" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || kb < 0 || kb > 1<<53 {
				return 0, fmt.Errorf("%s: bad MemAvailable line %q", file, sc.Text())
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("%s has no MemAvailable line", file)
}

// cgroupRoom returns the smallest room (limit minus usage) that the memory
// cgroups of this process and their ancestors leave, with the limit file
// that sets it; false when no limit is set. Both cgroup v2 (memory.max)
// and v1 (memory.limit_in_bytes) are read. A cgroup's usage includes the
// page cache, which the kernel reclaims before it fails an allocation;
// like the kubelet's working set, the inactive file pages are not counted
// as used. In a container the process's cgroup path may name a host
// directory not mounted inside; walking up reaches the container's own
// root, which carries its limit.
func cgroupRoom(root string) (int64, string, bool) {
	data, err := os.ReadFile(filepath.Join(root, "proc", "self", "cgroup"))
	if err != nil {
		return 0, "", false
	}
	best, where, found := int64(0), "", false
	for _, line := range strings.Split(string(data), "\n") {
		// hierarchy-ID:controller-list:cgroup-path
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			continue
		}
		var base, limitFile, usageFile, inactiveKey string
		switch {
		case parts[0] == "0" && parts[1] == "":
			base, limitFile, usageFile, inactiveKey = filepath.Join(root, "sys", "fs", "cgroup"), "memory.max", "memory.current", "inactive_file"
		case hasController(parts[1], "memory"):
			base, limitFile, usageFile, inactiveKey = filepath.Join(root, "sys", "fs", "cgroup", "memory"), "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"
		default:
			continue
		}
		for p := path.Clean(parts[2]); ; p = path.Dir(p) {
			dir := filepath.Join(base, filepath.FromSlash(p))
			if limit, ok := readBytes(filepath.Join(dir, limitFile)); ok {
				usage, _ := readBytes(filepath.Join(dir, usageFile))
				usage = max(usage-statValue(filepath.Join(dir, "memory.stat"), inactiveKey), 0)
				room := max(limit-usage, 0)
				if !found || room < best {
					best, where, found = room, fmt.Sprintf("room left by %s", filepath.Join(dir, limitFile)), true
				}
			}
			if p == "/" {
				break
			}
		}
	}
	return best, where, found
}

func hasController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// readBytes reads a cgroup file holding one byte count; "max" (no limit),
// a missing file or anything else gives false.
func readBytes(file string) (int64, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	return n, err == nil && n >= 0
}

// statValue returns the value of key in a memory.stat file, 0 when absent.
func statValue(file, key string) int64 {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == key {
			if n, err := strconv.ParseInt(f[1], 10, 64); err == nil && n >= 0 {
				return n
			}
		}
	}
	return 0
}
