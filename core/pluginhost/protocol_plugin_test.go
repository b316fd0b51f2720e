package pluginhost

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/internal/pidalive"
)

// A calibrator that does only what docs/protocol.md says a plugin must
// (testdata/docplugin: no go-plugin server, no stdio, broker or health
// service, a certificate that is not a CA's) works with the host: it
// starts, answers, logs through the host, and stops at once on Shutdown,
// with nothing above debug level in the host's log about what it lacks.
func TestPluginFromProtocolDoc(t *testing.T) {
	f := buildDocPlugin(t)
	var logs syncBuffer
	log := hclog.New(&hclog.LoggerOptions{Name: "int8cal", Level: hclog.Trace, Output: &logs})
	c, err := StartCalibrator(f, log)
	if err != nil {
		t.Fatal(err)
	}
	if c.Protocol != 1 || c.Info.Algorithm != "FromDoc" || c.Info.Statistics != calib.MinMax {
		t.Errorf("Info: protocol %d, %+v", c.Protocol, c.Info)
	}
	if err := c.Configure(map[string]string{"scale": "2"}); err == nil || !strings.Contains(err.Error(), "only 1 is implemented") {
		t.Errorf("Configure scale=2: %v", err)
	}
	ranges, err := c.Calibrate([]calib.TensorStats{{Name: "a", Count: 3, Min: -3, Max: 2}, {Name: "b", Count: 1, Min: 0.5, Max: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	if ranges[0].Amax != 3 || ranges[1].Amax != 0.5 {
		t.Errorf("ranges %+v", ranges)
	}
	start := time.Now()
	c.Close()
	// go-plugin waits 2 s for a plugin that does not exit after Shutdown.
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v: the plugin did not exit on Shutdown", d)
	}
	out := logs.String()
	if !strings.Contains(out, "[INFO]  int8cal.fromdoc.int8cal-calibrator-fromdoc: serving:") {
		t.Errorf("the plugin's JSON log line is not in the host's log at INFO, named after it:\n%s", out)
	}
	for _, bad := range []string{"[WARN]", "[ERROR]", "failed to exit gracefully"} {
		if strings.Contains(out, bad) {
			t.Errorf("the host's log holds %q:\n%s", bad, out)
		}
	}
}

// buildDocPlugin builds testdata/docplugin as the calibrator "fromdoc".
func buildDocPlugin(t *testing.T) Found {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "int8cal-calibrator-fromdoc"), "./testdata/docplugin")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building testdata/docplugin: %v\n%s", err, b)
	}
	f, err := Lookup(CalibratorKind, "fromdoc", []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A plugin that never answers Shutdown is killed after closeGrace; go-plugin
// alone would wait for its answer forever.
func TestCloseBoundedWhenShutdownHangs(t *testing.T) {
	needLinux(t)
	f := buildDocPlugin(t)
	t.Setenv("INT8CAL_TEST_HANG_SHUTDOWN", "1")
	c, err := StartCalibrator(f, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	pid := c.in.proc.pid
	start := time.Now()
	c.Close()
	if d := time.Since(start); d < closeGrace || d > closeGrace+2*time.Second {
		t.Errorf("Close took %v, want about closeGrace (%v)", d, closeGrace)
	}
	if pidalive.Alive(pid) {
		t.Errorf("plugin process %d outlived Close", pid)
	}
}
