package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/internal/calibratorrpc"
)

// Deadlines for plugin calls. Calibrate's is longer: it does the real work.
const (
	StartTimeout     = 10 * time.Second
	CallTimeout      = 10 * time.Second
	CalibrateTimeout = 5 * time.Minute
)

// Calibrator is a running calibrator plugin.
type Calibrator struct {
	Found
	Info calib.Info
	// Protocol is the negotiated protocol version.
	Protocol int
	// CalibrateTimeout bounds Calibrate; 0 means the package default.
	CalibrateTimeout time.Duration

	in  *instance
	rpc *calibratorrpc.Client
}

// StartCalibrator starts the plugin program and asks for its Info, which
// must carry the name f was found under. Its log lines arrive in log,
// named after the plugin.
func StartCalibrator(f Found, log hclog.Logger) (*Calibrator, error) {
	c := &Calibrator{Found: f}
	in, raw, err := launch(f, log, calibratorrpc.Handshake, calibratorrpc.Plugins(nil), calibratorrpc.DialOptions(), calibratorrpc.PluginName, nil)
	if err != nil {
		return nil, c.errorf("start", "%v", err)
	}
	c.in, c.rpc = in, raw.(*calibratorrpc.Client)
	c.Protocol = in.client.NegotiatedVersion()
	ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
	defer cancel()
	if c.Info, err = c.rpc.Info(ctx); err != nil {
		in.close()
		return nil, c.wrap("Info", err, CallTimeout)
	}
	if err := checkName(c.Info.Name, f); err != nil {
		in.close()
		return nil, c.errorf("Info", "%v", err)
	}
	cleanCalibInfo(&c.Info)
	return c, nil
}

// checkName refuses a plugin that calls itself otherwise than the name it
// was asked for under (its file name).
func checkName(name string, f Found) error {
	if name != f.Name {
		return fmt.Errorf("the plugin calls itself %q, but was asked for as %q (file %s); a plugin's Info name must match its file name int8cal-%s-<name>",
			Clean(name, 256), f.Name, f.Path, f.Kind)
	}
	return nil
}

// cleanCalibInfo cleans the texts of a plugin's Info for display.
func cleanCalibInfo(i *calib.Info) {
	i.Version = Clean(i.Version, 256)
	i.Description = Clean(i.Description, MaxErrorText)
	for k := range i.Options {
		o := &i.Options[k]
		o.Default, o.Description = Clean(o.Default, MaxErrorText), Clean(o.Description, MaxErrorText)
	}
}

// Configure checks the options against the plugin's Info, then sends them.
func (c *Calibrator) Configure(options map[string]string) error {
	known := map[string]bool{}
	var names []string
	for _, o := range c.Info.Options {
		known[o.Name] = true
		names = append(names, o.Name)
	}
	for k := range options {
		if !known[k] {
			sort.Strings(names)
			list := "none"
			if len(names) > 0 {
				list = strings.Join(names, ", ")
			}
			return c.errorf("Configure", "unknown option %q (options: %s)", k, list)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
	defer cancel()
	if err := c.rpc.Configure(ctx, options); err != nil {
		return c.wrap("Configure", err, CallTimeout)
	}
	return nil
}

// Calibrate sends the statistics and checks the answer: one finite,
// non-negative amax for each tensor sent, under the same names.
func (c *Calibrator) Calibrate(stats []calib.TensorStats) ([]calib.Range, error) {
	timeout := c.CalibrateTimeout
	if timeout == 0 {
		timeout = CalibrateTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ranges, err := c.rpc.Calibrate(ctx, stats)
	if err != nil {
		return nil, c.wrap("Calibrate", err, timeout)
	}
	// calibratorrpc checked the count and each range's values.
	byName := map[string]calib.Range{}
	for _, r := range ranges {
		byName[r.Name] = r
	}
	out := make([]calib.Range, len(stats))
	for i, s := range stats {
		r, ok := byName[s.Name]
		if !ok {
			return nil, c.errorf("Calibrate", "no range for tensor %q", s.Name)
		}
		out[i] = r
	}
	return out, nil
}

// Close stops the plugin process and everything it started.
func (c *Calibrator) Close() { c.in.close() }

func (c *Calibrator) errorf(call, format string, args ...any) error {
	return fmt.Errorf("calibrator plugin %q (%s): %s: %s", c.Name, c.Path, call, fmt.Sprintf(format, args...))
}

// wrap explains an RPC failure: a deadline, a plugin that died, or the
// plugin's own error.
func (c *Calibrator) wrap(call string, err error, timeout time.Duration) error {
	s, _ := status.FromError(err)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || s.Code() == codes.DeadlineExceeded:
		return c.errorf(call, "no answer within %v; the plugin is hung or too slow (it was stopped)", timeout)
	case c.in.client.Exited() || s.Code() == codes.Unavailable:
		return c.errorf(call, "the plugin process exited or broke the connection (crashed?): %v%s", Clean(s.Message(), MaxErrorText), c.in.proc.exitNote(exitWait))
	}
	return c.errorf(call, "%s", Clean(s.Message(), MaxErrorText))
}
