package pluginhost

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/internal/filehash"
)

// These tests run real plugin processes (the test plugin, and shell
// scripts for what a Go plugin would not do) and check, through /proc,
// that nothing they start outlives them.

func needLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("process groups are checked through /proc")
	}
	if testing.Short() {
		t.Skip("runs plugin processes")
	}
}

// groupMembers lists the live (not zombie) processes of process group
// pgid.
func groupMembers(pgid int) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			out = append(out, e.Name()+" "+s[strings.IndexByte(s, '(')+1:i])
		}
	}
	return out
}

// leftovers lists the live processes other than this one whose
// environment sets TMPDIR to tmp, waiting a second for them to go; it
// kills those still there, so that a failed check leaves nothing either.
func leftovers(tmp string) []string {
	if runtime.GOOS != "linux" {
		return nil
	}
	find := func() (pids []int, names []string) {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			env, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
			stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			s := string(stat)
			i := strings.LastIndexByte(s, ')')
			if i < 0 || strings.HasPrefix(strings.TrimSpace(s[i+1:]), "Z") {
				continue
			}
			for _, kv := range strings.Split(string(env), "\x00") {
				if kv == "TMPDIR="+tmp {
					pids = append(pids, pid)
					names = append(names, e.Name()+" "+s[strings.IndexByte(s, '(')+1:i])
				}
			}
		}
		return pids, names
	}
	deadline := time.Now().Add(time.Second)
	for {
		pids, names := find()
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			for _, p := range pids {
				syscall.Kill(p, syscall.SIGKILL)
			}
			return names
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// requireGroupGone fails unless process group pgid has no live member
// within a second.
func requireGroupGone(t *testing.T, pgid int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		m := groupMembers(pgid)
		if len(m) == 0 {
			return
		}
		if time.Now().After(deadline) {
			killGroup(pgid) // leave nothing behind either way
			t.Fatalf("process group %d still has %v", pgid, m)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitGroupSize waits until process group pgid has at least n members.
func waitGroupSize(t *testing.T, pgid, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(groupMembers(pgid)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d has %v; want %d members", pgid, groupMembers(pgid), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// script writes a shell script plugin named int8cal-calibrator-<name>.
func script(t *testing.T, dir, name, body string) Found {
	t.Helper()
	path := filepath.Join(dir, "int8cal-calibrator-"+name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return Found{Kind: CalibratorKind, Name: name, Path: path}
}

// A plugin whose own child keeps its stdout open fails its handshake at
// once (go-plugin alone waits for stdout to close: 300 s here), and
// nothing of it is left.
func TestHandshakeFailureWithChildHoldingStdout(t *testing.T) {
	needLinux(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"badline", "sleep 300 &\necho 'not a handshake'\nexit 0\n", []string{`stdout began with "not a handshake"`}},
		{"badline-stays", "sleep 300 &\necho 'not a handshake'\nexec sleep 300\n", []string{`stdout began with "not a handshake"`}},
		{"silent-exit", "sleep 300 &\necho 'going away' >&2\nexit 4\n", []string{"exited (exit status 4) before its handshake", "going away"}},
		// A child that leaves the process group still keeps no one waiting.
		{"escaped", "setsid sleep 300 &\nexit 5\n", []string{"exit status 5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := script(t, dir, tc.name, tc.body)
			pids := make(chan int, 1)
			testHookStarted = func(pid int) { pids <- pid }
			defer func() { testHookStarted = nil }()
			done := make(chan error, 1)
			begin := time.Now()
			go func() {
				_, err := StartCalibrator(f, hclog.NewNullLogger())
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("StartCalibrator still waiting after 5 s")
			}
			pgid := 0
			select {
			case pgid = <-pids:
			default:
			}
			if took := time.Since(begin); took > 3*time.Second {
				t.Errorf("the handshake failure took %v", took)
			}
			if err == nil {
				t.Fatal("started")
			}
			for _, w := range append(tc.want, f.Path, "start") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q should contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "This usually means") {
				t.Errorf("error %q repeats go-plugin's checklist", err)
			}
			if pgid == 0 {
				t.Error("the plugin's process was not seen")
			} else {
				requireGroupGone(t, pgid)
			}
			if tc.name == "escaped" {
				killEscaped(t)
			}
		})
	}
}

// killEscaped kills the `setsid sleep 300` the escaped case left (in a
// session of its own, so no group kill reaches it), found by its parent
// being gone and its command line.
func killEscaped(t *testing.T) {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		environ, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		// The plugin's environment carries the handshake cookie, and
		// this test's socket directory.
		if string(cmdline) == "sleep\x00300\x00" && strings.Contains(string(environ), os.TempDir()) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// A plugin's child dies with the plugin at Close.
func TestPluginChildKilledAtClose(t *testing.T) {
	needLinux(t)
	dir := linkTestPlugin(t, "child")
	c, err := start(t, dir, "child", hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	pgid := c.in.proc.proc.Load().Pid
	waitGroupSize(t, pgid, 2) // the plugin and its sleep
	c.Close()
	requireGroupGone(t, pgid)
}

// Sockets live in a private 0700 directory, one 0700 directory per
// plugin inside, all removed once the plugins are closed.
func TestSocketDirectory(t *testing.T) {
	needLinux(t)
	dir := linkTestPlugin(t, "ok")
	c, err := start(t, dir, "ok", hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	live.mu.Lock()
	sockets := live.dir
	live.mu.Unlock()
	if filepath.Dir(sockets) != filepath.Clean(os.TempDir()) || !strings.HasPrefix(filepath.Base(sockets), fmt.Sprintf("%s%d-", socketDirPrefix, os.Getpid())) {
		t.Errorf("socket directory %s", sockets)
	}
	fi, err := os.Stat(sockets)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket directory %s: %v %v", sockets, fi.Mode(), err)
	}
	inner, _ := filepath.Glob(filepath.Join(sockets, "*"))
	if len(inner) != 1 {
		t.Fatalf("in %s: %v", sockets, inner)
	}
	fi, err = os.Stat(inner[0])
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("plugin socket directory %s: %v %v", inner[0], fi.Mode(), err)
	}
	socks, _ := filepath.Glob(filepath.Join(inner[0], "*"))
	if len(socks) != 1 {
		t.Fatalf("in %s: %v", inner[0], socks)
	}
	if fi, err := os.Lstat(socks[0]); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Errorf("%s is not a socket: %v", socks[0], err)
	}
	// No socket of it lies in the shared temporary directory.
	if stray, _ := filepath.Glob(filepath.Join(os.TempDir(), "plugin[0-9]*")); len(stray) > 0 {
		t.Errorf("sockets outside the private directory: %v", stray)
	}
	c.Close()
	if _, err := os.Stat(sockets); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there after Close: %v", sockets, err)
	}
}

// The socket directory of a host that died without cleaning up is swept
// by the next host; those of live hosts, of other names, and symbolic
// links are left alone.
func TestStaleSocketDirectorySwept(t *testing.T) {
	needLinux(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadPid := dead.Process.Pid
	tmp := os.TempDir()
	stale := filepath.Join(tmp, fmt.Sprintf("%s%d-123", socketDirPrefix, deadPid))
	alive := filepath.Join(tmp, fmt.Sprintf("%s%d-456", socketDirPrefix, os.Getppid()))
	link := filepath.Join(tmp, fmt.Sprintf("%s%d-789", socketDirPrefix, deadPid))
	other := filepath.Join(tmp, "int8cal-other-1")
	for _, d := range []string{filepath.Join(stale, "plugin-dir1"), alive, other} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	target := t.TempDir()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range []string{stale, alive, link, other} {
			os.RemoveAll(p)
		}
	})
	c, err := start(t, linkTestPlugin(t, "ok"), "ok", hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale %s not swept: %v", stale, err)
	}
	for _, p := range []string{alive, link, other, target} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s should be left alone: %v", p, err)
		}
	}
}

// A relative plugin directory (--plugin-dir ., a relative
// $INT8CAL_PLUGIN_PATH) is made absolute: the plugin there runs, not a
// program of the same name on $PATH.
func TestRelativePluginDirIsAbsolute(t *testing.T) {
	needLinux(t)
	dir := linkTestPlugin(t, "ok")
	impostor := t.TempDir()
	marker := filepath.Join(impostor, "ran")
	script(t, impostor, "test-ok", "touch "+marker+"\nexit 1\n")
	t.Setenv("PATH", impostor+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Chdir(dir)
	t.Setenv(PathEnv, ".")
	for _, dirs := range [][]string{{"."}, SearchDirs("."), SearchDirs("")} {
		f, err := Lookup(CalibratorKind, "test-ok", dirs)
		if err != nil {
			t.Fatal(err)
		}
		if f.Path != filepath.Join(dir, "int8cal-calibrator-test-ok") {
			t.Errorf("%v: path %s", dirs, f.Path)
		}
		c, err := StartCalibrator(f, hclog.NewNullLogger())
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the program of the same name on $PATH ran")
	}
	if _, err := StartCalibrator(Found{Kind: CalibratorKind, Name: "test-ok", Path: "int8cal-calibrator-test-ok"}, hclog.NewNullLogger()); err == nil || !strings.Contains(err.Error(), "not absolute") {
		t.Errorf("a bare name: %v", err)
	}
}

// A plugin that calls itself by another name than its file's is refused,
// the error naming both and the file.
func TestPluginNameMismatch(t *testing.T) {
	needLinux(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "int8cal-calibrator-entropy2")
	if err := os.Symlink(testPlugin(t), path); err != nil {
		t.Fatal(err)
	}
	_, err := StartCalibrator(Found{Kind: CalibratorKind, Name: "entropy2", Path: path}, hclog.NewNullLogger())
	if err == nil || !strings.Contains(err.Error(), `calls itself "test-ok"`) || !strings.Contains(err.Error(), `asked for as "entropy2"`) || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v", err)
	}
	// The same for a data set plugin.
	sdir := linkTestStreams(t, "impostor")
	spath := filepath.Join(sdir, testStreamPrefix+"impostor")
	_, err = StartBatchStream(Found{Kind: BatchStreamKind, Name: "test-impostor", Path: spath}, hclog.NewNullLogger())
	if err == nil || !strings.Contains(err.Error(), `calls itself "mnist"`) || !strings.Contains(err.Error(), spath) {
		t.Errorf("data set: error %v", err)
	}
}

// A lock file pins plugins: the recorded program starts, a changed one or
// one the lock does not list is refused.
func TestPluginLock(t *testing.T) {
	needLinux(t)
	dir := t.TempDir()
	// A copy, so that changing it changes no other test's plugin.
	data, err := os.ReadFile(testPlugin(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "int8cal-calibrator-test-ok")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := Lookup(CalibratorKind, "test-ok", []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := filehash.SHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(dir, "plugins.lock")
	lock := NewLock(lockPath)
	lock.Add(f, sum)
	if err := lock.Write(); err != nil {
		t.Fatal(err)
	}
	lock, err = ReadLock(lockPath)
	if err != nil || len(lock.Plugins) != 1 || lock.Plugins[0].SHA256 != sum || lock.Plugins[0].Path != path {
		t.Fatalf("read back %+v: %v", lock, err)
	}

	pinned, err := lock.Pin(f)
	if err != nil || pinned.SHA256 != sum {
		t.Fatalf("Pin: %+v %v", pinned, err)
	}
	c, err := StartCalibrator(pinned, hclog.NewNullLogger())
	if err != nil {
		t.Fatalf("the recorded program was refused: %v", err)
	}
	c.Close()

	// The program changes (one byte appended): refused, naming both hashes.
	if err := os.WriteFile(path, append(data, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	changed, _ := filehash.SHA256(path)
	_, err = StartCalibrator(pinned, hclog.NewNullLogger())
	var ce *ChecksumError
	if !errors.As(err, &ce) && (err == nil || !strings.Contains(err.Error(), changed) || !strings.Contains(err.Error(), sum) || !strings.Contains(err.Error(), lockPath)) {
		t.Errorf("changed program: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), changed) || !strings.Contains(err.Error(), sum) || !strings.Contains(err.Error(), lockPath) {
		t.Errorf("changed program: error %v should name both hashes and the lock file", err)
	}

	// Not listed: refused before it starts.
	other := Found{Kind: BatchStreamKind, Name: "test-ok", Path: path}
	if _, err := lock.Pin(other); err == nil || !strings.Contains(err.Error(), "not listed") || !strings.Contains(err.Error(), lockPath) {
		t.Errorf("unlisted plugin: %v", err)
	}

	// Unusable lock files are errors, not silently no lock.
	for _, tc := range []struct{ text, want string }{
		{`{"format":"int8cal-plugin-lock","version":2,"plugins":[]}`, "version 2"},
		{`{"format":"other","version":1,"plugins":[]}`, "format"},
		{`{"format":"int8cal-plugin-lock","version":1,"plugins":[{"kind":"calibrator","name":"x","sha256":"abc"}]}`, "not 64 hex digits"},
		{`{"format":"int8cal-plugin-lock","version":1,"plugins":[],"extra":1}`, "unknown field"},
		{`not json`, "not a plugin lock file"},
	} {
		bad := filepath.Join(dir, "bad.lock")
		os.WriteFile(bad, []byte(tc.text), 0o644)
		if _, err := LoadLock(bad); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.text, err, tc.want)
		}
	}
	if l, err := LoadLock(NoLock); l != nil || err != nil {
		t.Errorf("LoadLock(%q) = %v, %v", NoLock, l, err)
	}
	if _, err := LoadLock(filepath.Join(dir, "missing.lock")); err == nil {
		t.Error("a missing lock file named explicitly is no error")
	}
}

// A plugin that dies before its handshake is explained by its exit
// status and the end of its stderr, cleaned.
func TestEarlyDeathShowsStderr(t *testing.T) {
	needLinux(t)
	dir := linkTestPlugin(t, "early")
	_, err := start(t, dir, "early", hclog.NewNullLogger())
	if err == nil {
		t.Fatal("started")
	}
	for _, w := range []string{"exit status 7", "before its handshake", "loading weights | fatal: no such file: /nonexistent"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q should contain %q", err, w)
		}
	}
	if strings.ContainsAny(err.Error(), "\x1b\n") {
		t.Errorf("error %q holds an escape or a newline", err)
	}
}

// Text from a plugin (its errors, its log lines) reaches the host without
// escape sequences or extra lines.
func TestPluginTextSanitized(t *testing.T) {
	needLinux(t)
	dir := linkTestPlugin(t, "ansi")
	var logs syncBuffer
	c, err := start(t, dir, "ansi", hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Configure(map[string]string{"scale": "2"})
	if err == nil || !strings.Contains(err.Error(), "red alert | second line\\x07 end") || strings.ContainsAny(err.Error(), "\x1b\x07\n") {
		t.Errorf("error %q", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(logs.String(), "second line") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var warn string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "[WARN]") {
			warn = l
		}
	}
	if !strings.Contains(warn, "red alert | second line") || strings.Contains(logs.String(), "\x1b") || strings.Contains(logs.String(), "\x07") {
		t.Errorf("host log:\n%q", logs.String())
	}
}

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"\x1b[31mred\x1b[0m", "red"},
		{"a\nb\r\nc\n\n", "a | b | c"},
		{"tab\there", "tab here"},
		{"bell\x07 nul\x00 del\x7f", `bell\x07 nul\x00 del\x7f`},
		{"osc \x1b]0;evil title\x07after", "osc after"},
		{"osc st \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "osc st link"},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"bidi \u202eevil\u202c", `bidi \u202eevil\u202c`},
		{"bad \xff utf8", `bad \xff utf8`},
		{"ünïcödé ok", "ünïcödé ok"},
		{"\x1b", ""},
		{"\x1b[", ""},
	} {
		if got := Clean(tc.in, 100); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("é", 100)
	got := Clean(long, 21)
	if !strings.HasPrefix(got, strings.Repeat("é", 10)+"…") || !strings.Contains(got, "more bytes") {
		t.Errorf("bounded: %q", got)
	}
}

// testHostEnv makes the test binary a host (serveTestHost) instead of a
// test run: it starts the child-mode plugin from the directory named,
// handles signals as the int8cal command does, says "ready <plugin pid>
// <socket directory>" and waits.
const testHostEnv = "INT8CAL_TEST_HOST"

func serveTestHost(dir string) {
	HandleSignals()
	f, err := Lookup(CalibratorKind, "test-child", []string{dir})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	c, err := StartCalibrator(f, hclog.NewNullLogger())
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	live.mu.Lock()
	fmt.Println("ready", c.in.proc.proc.Load().Pid, live.dir)
	live.mu.Unlock()
	select {}
}

// SIGINT or SIGTERM to the host ends its plugins' process groups and
// removes the socket directory; the host still ends by the signal.
func TestSignalEndsPlugins(t *testing.T) {
	needLinux(t)
	dir := linkTestPlugin(t, "child")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			host := exec.Command(exe)
			host.Env = append(os.Environ(), testHostEnv+"="+dir)
			out, err := host.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := host.Start(); err != nil {
				t.Fatal(err)
			}
			defer host.Process.Kill()
			line, err := bufio.NewReader(out).ReadString('\n')
			f := strings.Fields(line)
			if err != nil || len(f) != 3 || f[0] != "ready" {
				t.Fatalf("host said %q (%v)", line, err)
			}
			pgid, _ := strconv.Atoi(f[1])
			sockets := f[2]
			waitGroupSize(t, pgid, 2)
			if err := host.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err = host.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != sig {
				t.Errorf("the host ended with %v, not by %v", err, sig)
			}
			requireGroupGone(t, pgid)
			if _, err := os.Stat(sockets); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("socket directory %s left: %v", sockets, err)
			}
		})
	}
}
