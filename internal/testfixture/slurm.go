//go:build linux

package testfixture

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Slurm is a single-node Slurm cluster that a test starts in its own
// temporary directory: munged (Debian's munge), slurmctld and slurmd
// (slurm-wlm) on free loopback ports, run as the test's user, stopped
// when the test ends. Slurm's commands reach it through Env.
type Slurm struct {
	t    testing.TB
	dir  string
	conf string
}

// StartSlurm starts the cluster, or skips t, saying why, where Debian's
// slurm-wlm and munge are not installed (.ci/run installs them: make
// slurm) or the daemons do not come up.
func StartSlurm(t testing.TB) *Slurm {
	t.Helper()
	for _, prog := range []string{"munged", "slurmctld", "slurmd", "sbatch", "scontrol", "sinfo"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("Slurm test skipped: %s not found (Debian's slurm-wlm and munge; `make slurm` installs them): %v", prog, err)
		}
	}
	me, err := user.Current()
	if err != nil {
		t.Skipf("Slurm test skipped: no current user: %v", err)
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	host, _, _ = strings.Cut(host, ".")
	// A short directory: munge's socket path must fit a sockaddr_un.
	dir, err := os.MkdirTemp("", "slurm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, sub := range []string{"munge", "state", "spool", "log"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// munged wants its key readable by its user alone, and a fresh key
	// keeps this cluster's credentials its own.
	key := make([]byte, 1024)
	rand.Read(key)
	keyFile := filepath.Join(dir, "munge", "munge.key")
	if err := os.WriteFile(keyFile, key, 0o400); err != nil {
		t.Fatal(err)
	}
	s := &Slurm{t: t, dir: dir, conf: filepath.Join(dir, "slurm.conf")}
	socket := filepath.Join(dir, "munge", "munge.socket")
	munged := []string{"munged", "--foreground", "--key-file=" + keyFile, "--socket=" + socket,
		"--pid-file=" + filepath.Join(dir, "munge", "munged.pid"), "--log-file=" + filepath.Join(dir, "log", "munged.log"),
		"--seed-file=" + filepath.Join(dir, "munge", "munged.seed")}
	if me.Uid == "0" {
		munged = append(munged, "--force") // munged refuses root without it
	}
	s.start(munged...)
	if !waitFor(10*time.Second, func() bool { _, err := os.Stat(socket); return err == nil }) {
		t.Skipf("Slurm test skipped: munged did not start:\n%s", s.logs())
	}
	ports := freePorts(t, 2)
	conf := fmt.Sprintf(`ClusterName=int8cal
SlurmctldHost=%[1]s(127.0.0.1)
SlurmctldPort=%[2]d
SlurmdPort=%[3]d
AuthType=auth/munge
AuthInfo=socket=%[4]s
CredType=cred/munge
SlurmUser=%[5]s
SlurmdUser=%[5]s
StateSaveLocation=%[6]s/state
SlurmdSpoolDir=%[6]s/spool
SlurmctldPidFile=%[6]s/slurmctld.pid
SlurmdPidFile=%[6]s/slurmd.pid
SlurmctldLogFile=%[6]s/log/slurmctld.log
SlurmdLogFile=%[6]s/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
NodeName=%[1]s NodeAddr=127.0.0.1 CPUs=%[7]d State=UNKNOWN
PartitionName=test Nodes=%[1]s Default=YES MaxTime=INFINITE State=UP
`, host, ports[0], ports[1], socket, me.Username, dir, cpus())
	if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s.start("slurmctld", "-D", "-i", "-f", s.conf)
	s.start("slurmd", "-D", "-f", s.conf, "-N", host)
	if !waitFor(30*time.Second, func() bool {
		out, err := s.Command("sinfo", "--noheader", "--format=%T").Output()
		return err == nil && strings.TrimSpace(string(out)) == "idle"
	}) {
		t.Skipf("Slurm test skipped: the node did not become idle in 30 s:\n%s", s.logs())
	}
	return s
}

// cpus is what slurmd finds, so that it accepts the node's description.
func cpus() int {
	out, err := exec.Command("slurmd", "-C").Output()
	if err == nil {
		for _, f := range strings.Fields(string(out)) {
			var n int
			if _, err := fmt.Sscanf(f, "CPUs=%d", &n); err == nil {
				return n
			}
		}
	}
	return 1
}

// start runs a daemon in the foreground of its own process group and
// stops it, and whatever it started, when the test ends.
func (s *Slurm) start(args ...string) {
	s.t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = s.Env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := os.Create(filepath.Join(s.dir, "log", filepath.Base(args[0])+".out"))
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.t.Skipf("Slurm test skipped: %s: %v", args[0], err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); out.Close(); close(done) }()
	s.t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
}

// Env is the environment of Slurm's commands for this cluster.
func (s *Slurm) Env() []string { return append(os.Environ(), "SLURM_CONF="+s.conf) }

// Command is a Slurm command (sbatch, scontrol, ...) for this cluster.
func (s *Slurm) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = s.Env()
	return cmd
}

// Submit runs sbatch with args, and env added to the environment it
// passes on to the job, and returns the job's id.
func (s *Slurm) Submit(env []string, args ...string) string {
	s.t.Helper()
	var stderr bytes.Buffer
	cmd := s.Command("sbatch", append([]string{"--parsable"}, args...)...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("sbatch %v: %v\n%s", args, err, stderr.String())
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	return id
}

// Wait waits until every task of job id has ended and returns their
// states (COMPLETED, FAILED, ...), one per task.
func (s *Slurm) Wait(id string, timeout time.Duration) []string {
	s.t.Helper()
	var states []string
	ended := waitFor(timeout, func() bool {
		out, err := s.Command("scontrol", "--oneliner", "show", "job", id).Output()
		if err != nil {
			return false
		}
		states = states[:0]
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			for _, f := range strings.Fields(line) {
				if v, ok := strings.CutPrefix(f, "JobState="); ok {
					states = append(states, v)
				}
			}
		}
		for _, st := range states {
			if st == "PENDING" || st == "RUNNING" || st == "CONFIGURING" || st == "COMPLETING" {
				return false
			}
		}
		return len(states) > 0
	})
	if !ended {
		s.t.Fatalf("job %s still not ended after %v (states %v):\n%s", id, timeout, states, s.logs())
	}
	return states
}

// logs are the daemons' logs, for a failure's message.
func (s *Slurm) logs() string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(s.dir, "log", "*"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if len(data) > 2000 {
			data = data[len(data)-2000:]
		}
		fmt.Fprintf(&b, "== %s\n%s\n", filepath.Base(f), data)
	}
	return b.String()
}

// freePorts returns n loopback ports free at the moment.
func freePorts(t testing.TB, n int) []int {
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func waitFor(timeout time.Duration, ok func() bool) bool {
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if ok() {
			return true
		}
	}
	return false
}
