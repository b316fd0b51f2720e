package pluginhost

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/calib"
)

var modes = []string{"ok", "crash", "hang", "badamax", "v2"}

// buildTestPlugins links the test plugin (built once) into a temporary
// directory as int8cal-calibrator-test-<mode> for each of modes, which
// the plugin reads from its name.
func buildTestPlugins(t *testing.T) string {
	t.Helper()
	return linkTestPlugin(t, modes...)
}

var (
	testPluginOnce sync.Once
	testPluginPath string
	testPluginErr  error
)

// testPlugin returns the path of testdata/testplugin, built once into the
// directory TestMain removes at the end.
func testPlugin(t testing.TB) string {
	t.Helper()
	testPluginOnce.Do(func() {
		testPluginPath = filepath.Join(testBinDir, "testplugin")
		cmd := exec.Command("go", "build", "-o", testPluginPath, "./testdata/testplugin")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			testPluginErr = fmt.Errorf("building the test plugin: %v\n%s", err, b)
		}
	})
	if testPluginErr != nil {
		t.Fatal(testPluginErr)
	}
	return testPluginPath
}

// linkTestPlugin links the test plugin into a new temporary directory as
// int8cal-calibrator-test-<mode> for each mode, and returns the
// directory.
func linkTestPlugin(t testing.TB, modes ...string) string {
	t.Helper()
	bin := testPlugin(t)
	dir := t.TempDir()
	for _, m := range modes {
		if err := os.Symlink(bin, filepath.Join(dir, "int8cal-calibrator-test-"+m)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var (
	pluginsOnce sync.Once
	pluginsDir  string
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, dir, mode string, log hclog.Logger) (*Calibrator, error) {
	t.Helper()
	f, err := Lookup(CalibratorKind, "test-"+mode, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	return StartCalibrator(f, log)
}

var stats = []calib.TensorStats{{Name: "a", Count: 3, Min: -2, Max: 1}, {Name: "b", Count: 3, Min: 0, Max: 5}}

func TestPlugins(t *testing.T) {
	if testing.Short() {
		t.Skip("builds plugin binaries")
	}
	dir := buildTestPlugins(t)

	t.Run("discovery", func(t *testing.T) {
		found := Find(CalibratorKind, []string{t.TempDir(), dir})
		if len(found) != len(modes) {
			t.Fatalf("found %v", found)
		}
		_, err := Lookup(CalibratorKind, "nope", []string{dir})
		if err == nil || !strings.Contains(err.Error(), "int8cal-calibrator-nope") || !strings.Contains(err.Error(), "test-ok") {
			t.Errorf("lookup error %v should name the file looked for and what exists", err)
		}
	})

	t.Run("ok, with plugin logs in the host log", func(t *testing.T) {
		var logs syncBuffer
		c, err := start(t, dir, "ok", hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug}))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if c.Info.Name != "test-ok" || c.Protocol != 1 {
			t.Errorf("info %+v protocol %d", c.Info, c.Protocol)
		}
		if err := c.Configure(map[string]string{"scale": "2"}); err != nil {
			t.Fatal(err)
		}
		if err := c.Configure(map[string]string{"bogus": "1"}); err == nil || !strings.Contains(err.Error(), `unknown option "bogus" (options: scale)`) {
			t.Errorf("unknown option: %v", err)
		}
		ranges, err := c.Calibrate(stats)
		if err != nil {
			t.Fatal(err)
		}
		if ranges[0].Amax != 2 || ranges[1].Amax != 5 {
			t.Errorf("ranges %+v", ranges)
		}
		deadline := time.Now().Add(2 * time.Second)
		for !strings.Contains(logs.String(), "calibrating") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(logs.String(), "test-ok") || !strings.Contains(logs.String(), "calibrating") {
			t.Errorf("the plugin's log line did not reach the host log:\n%s", logs.String())
		}
	})

	for _, tc := range []struct {
		mode, want string
	}{
		{"crash", "(crashed?): "},
		{"crash", "it ended with exit status 3"},
		{"hang", "no answer within"},
		{"badamax", "not a finite non-negative number"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			c, err := start(t, dir, tc.mode, hclog.NewNullLogger())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.CalibrateTimeout = 500 * time.Millisecond
			_, err = c.Calibrate(stats)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "int8cal-calibrator-test-"+tc.mode) {
				t.Errorf("error %v should contain %q and name the plugin", err, tc.want)
			}
		})
	}

	t.Run("wrong protocol version", func(t *testing.T) {
		_, err := start(t, dir, "v2", hclog.NewNullLogger())
		if err == nil || !strings.Contains(err.Error(), "test-v2") || !strings.Contains(strings.ToLower(err.Error()), "version") {
			t.Errorf("error %v should name the plugin and the version mismatch", err)
		}
	})
}
