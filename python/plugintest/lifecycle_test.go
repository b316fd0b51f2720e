package plugintest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/pluginhost"
)

// helperEnv makes the test binary a host for TestPluginExitsWithHost: the
// value says how it starts the plugin.
const helperEnv = "INT8CAL_PYTHON_SDK_TEST_HOST"

// TestMain runs the helper host when asked to, and the tests otherwise.
func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		helperHost(mode)
		return
	}
	code := m.Run()
	if scratch.dir != "" {
		os.RemoveAll(scratch.dir)
	}
	os.Exit(code)
}

// helperHost starts the example calibrator, prints its process ID, and
// waits to be killed. "host" starts it through core/pluginhost, as int8cal
// does (which also asks the kernel to kill it with the host); "bare"
// starts it with only the handshake environment, so that only the SDK's
// own watch of its parent can end it.
func helperHost(mode string) {
	path := os.Getenv("INT8CAL_TEST_PLUGIN")
	switch mode {
	case "host":
		log := hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Warn})
		var pids []int
		before := children()
		if _, err := pluginhost.StartCalibrator(pluginhost.Found{Kind: pluginhost.CalibratorKind, Name: "pypercentile", Path: path}, log); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for pid := range children() {
			if !before[pid] {
				pids = append(pids, pid)
			}
		}
		if len(pids) != 1 {
			fmt.Fprintf(os.Stderr, "%d new child processes: %v\n", len(pids), pids)
			os.Exit(1)
		}
		fmt.Println(pids[0])
	case "bare":
		cmd := exec.Command(path)
		cmd.Env = append(os.Environ(), "INT8CAL_PLUGIN_COOKIE=int8cal-calibrator-c0ffee", "PLUGIN_PROTOCOL_VERSIONS=1")
		out, err := cmd.StdoutPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if !strings.HasPrefix(line, "1|1|unix|") {
			fmt.Fprintf(os.Stderr, "handshake %q, %v\n", line, err)
			os.Exit(1)
		}
		fmt.Println(cmd.Process.Pid)
	}
	select {} // until killed
}

// children returns the process IDs whose parent is this process.
func children() map[int]bool {
	out := map[int]bool{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := procStat(pid); ok && st.ppid == os.Getpid() {
			out[pid] = true
		}
	}
	return out
}

type stat struct {
	state byte
	ppid  int
}

// procStat reads a process's state and parent from /proc.
func procStat(pid int) (stat, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return stat{}, false
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 2 {
		return stat{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	return stat{state: f[0][0], ppid: ppid}, true
}

// gone reports whether a process has ended (a zombie waiting for its new
// parent to reap it has).
func gone(pid int) bool {
	st, ok := procStat(pid)
	return !ok || st.state == 'Z' || st.state == 'X'
}

// TestPluginExitsWithHost kills a host with SIGKILL, as a crash or the OOM
// killer would, and checks that its Python plugin ends at once: started as
// int8cal starts it, and started bare, where the SDK's watch of its parent
// is all there is.
func TestPluginExitsWithHost(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc (Linux) to find the plugin process")
	}
	python(t)
	launcher := example(t, pluginhost.CalibratorKind, "pypercentile").Path
	for _, mode := range []string{"host", "bare"} {
		t.Run(mode, func(t *testing.T) {
			// The killed host leaves its socket directory behind: in a
			// directory of the test's own (not t.TempDir, whose long name
			// would make the socket's path too long for a Unix socket).
			tmp, err := os.MkdirTemp("", "pyhost")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(tmp) })
			host := exec.Command(os.Args[0], "-test.run=^$")
			host.Env = append(os.Environ(), helperEnv+"="+mode, "INT8CAL_TEST_PLUGIN="+launcher, "TMPDIR="+tmp)
			var stderr strings.Builder
			host.Stderr = &stderr
			out, err := host.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := host.Start(); err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(out).ReadString('\n')
			pid, err := strconv.Atoi(strings.TrimSpace(line))
			if err != nil {
				host.Process.Kill()
				host.Wait()
				t.Fatalf("the helper host printed %q, not the plugin's process ID; its stderr: %s", line, stderr.String())
			}
			t.Cleanup(func() {
				if !gone(pid) {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			if gone(pid) {
				t.Fatalf("plugin %d is not running before its host is killed", pid)
			}
			host.Process.Signal(syscall.SIGKILL)
			host.Wait()
			killed := time.Now()
			for !gone(pid) {
				if time.Since(killed) > 2*time.Second {
					t.Fatalf("plugin %d still runs %v after its host was killed", pid, time.Since(killed))
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("plugin gone %v after its host", time.Since(killed).Round(time.Millisecond))
		})
	}
}
