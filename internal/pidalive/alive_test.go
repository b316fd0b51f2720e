package pidalive

import (
	"os"
	"runtime"
	"testing"
)

func TestAlive(t *testing.T) {
	if !Alive(os.Getpid()) {
		t.Error("this process is not alive")
	}
	if !Alive(0) || !Alive(-1) {
		t.Error("0 and -1 name process groups, not a process: they must count as alive")
	}
	// Linux process IDs stay below 2^22 (pid_max's limit).
	if runtime.GOOS == "linux" && Alive(1<<22+1) {
		t.Error("an ID above pid_max is alive")
	}
}
