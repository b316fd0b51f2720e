package memlimit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeRoot writes files (path → content) under a temporary root.
func fakeRoot(t *testing.T, files map[string]string) string {
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const meminfo = "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n"

func TestAvailable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		files  map[string]string
		want   int64
		source string
		err    string
	}{
		{"meminfo only", map[string]string{"proc/meminfo": meminfo}, 8000000 << 10, "MemAvailable", ""},
		{"cgroup v2 without a limit", map[string]string{
			"proc/meminfo":                        meminfo,
			"proc/self/cgroup":                    "0::/user.slice/session\n",
			"sys/fs/cgroup/user.slice/memory.max": "max\n",
		}, 8000000 << 10, "MemAvailable", ""},
		{"cgroup v2 limit on an ancestor", map[string]string{
			"proc/meminfo":                                "MemAvailable: 8000000 kB\n",
			"proc/self/cgroup":                            "0::/a/b\n",
			"sys/fs/cgroup/a/memory.max":                  "3000000000\n",
			"sys/fs/cgroup/a/memory.current":              "1000000000\n",
			"sys/fs/cgroup/a/b/memory.max":                "max\n",
			"sys/fs/cgroup/a/b/memory.current":            "500000000\n",
			"sys/fs/cgroup/unrelated/memory.max":          "1\n",
			"sys/fs/cgroup/unrelated/memory.current":      "0\n",
			"sys/fs/cgroup/a/b/memory.limit_in_bytes_not": "1\n",
		}, 2000000000, "sys/fs/cgroup/a/memory.max", ""},
		{"container: the host path is not mounted, its root has the limit", map[string]string{
			"proc/meminfo":                 meminfo,
			"proc/self/cgroup":             "0::/kubepods/pod1/abc\n",
			"sys/fs/cgroup/memory.max":     "1073741824\n",
			"sys/fs/cgroup/memory.current": "73741824\n",
		}, 1000000000, "sys/fs/cgroup/memory.max", ""},
		{"cgroup v1", map[string]string{
			"proc/meminfo":     meminfo,
			"proc/self/cgroup": "12:cpu,cpuacct:/x\n11:memory:/docker/abc\n",
			"sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "2147483648\n",
			"sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes": "1073741824\n",
		}, 1 << 30, "memory.limit_in_bytes", ""},
		{"inactive page cache is not counted as used", map[string]string{
			"proc/meminfo":                 meminfo,
			"proc/self/cgroup":             "0::/\n",
			"sys/fs/cgroup/memory.max":     "1000000000\n",
			"sys/fs/cgroup/memory.current": "990000000\n",
			"sys/fs/cgroup/memory.stat":    "anon 90000000\ninactive_file 600000000\nactive_file 300000000\n",
		}, 610000000, "memory.max", ""},
		{"usage above the limit leaves nothing", map[string]string{
			"proc/meminfo":                 meminfo,
			"proc/self/cgroup":             "0::/\n",
			"sys/fs/cgroup/memory.max":     "100\n",
			"sys/fs/cgroup/memory.current": "200\n",
		}, 0, "memory.max", ""},
		{"no MemAvailable (kernel before 3.14)", map[string]string{"proc/meminfo": "MemTotal: 1 kB\n"}, 0, "", "no MemAvailable"},
		{"garbled MemAvailable", map[string]string{"proc/meminfo": "MemAvailable: lots kB\n"}, 0, "", "bad MemAvailable"},
		{"no /proc", nil, 0, "", "meminfo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, source, err := available(fakeRoot(t, tc.files))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want || !strings.Contains(source, tc.source) {
				t.Errorf("available = %d, %q, %v; want %d from %q", got, source, err, tc.want, tc.source)
			}
		})
	}
}
