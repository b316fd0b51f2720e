package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
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

	client *plugin.Client
	rpc    *calibratorrpc.Client
}

// StartCalibrator starts the plugin program and asks for its Info. Its
// log lines arrive in log, named after the plugin.
func StartCalibrator(f Found, log hclog.Logger) (*Calibrator, error) {
	cmd := exec.Command(f.Path)
	detach(cmd)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  calibratorrpc.Handshake,
		VersionedPlugins: calibratorrpc.Plugins(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           pluginLogger(log, f.Name),
		StartTimeout:     StartTimeout,
		GRPCDialOptions:  calibratorrpc.DialOptions(),
	})
	c := &Calibrator{Found: f, client: client}
	rpcClient, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, c.errorf("start", "%v", err)
	}
	raw, err := rpcClient.Dispense(calibratorrpc.PluginName)
	if err != nil {
		client.Kill()
		return nil, c.errorf("start", "%v", err)
	}
	c.rpc = raw.(*calibratorrpc.Client)
	c.Protocol = client.NegotiatedVersion()
	ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
	defer cancel()
	if c.Info, err = c.rpc.Info(ctx); err != nil {
		client.Kill()
		return nil, c.wrap("Info", err, CallTimeout)
	}
	if err := checkInfo(c.Info); err != nil {
		client.Kill()
		return nil, c.errorf("Info", "%v", err)
	}
	return c, nil
}

func checkInfo(i calib.Info) error {
	switch {
	case i.Name == "":
		return errors.New("no name")
	case i.Algorithm == "":
		return errors.New("no algorithm name for the cache header")
	case i.Statistics < calib.AbsHistogram || i.Statistics > calib.Raw:
		return fmt.Errorf("unknown statistics kind %d", int(i.Statistics))
	case (i.Statistics == calib.AbsHistogram || i.Statistics == calib.SignedHistogram) && (i.Bins < 1 || i.Bins > 1<<20):
		return fmt.Errorf("a histogram of %d bins (want 1 to %d)", i.Bins, 1<<20)
	}
	return nil
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
	if len(ranges) != len(stats) {
		return nil, c.errorf("Calibrate", "answered %d ranges for %d tensors", len(ranges), len(stats))
	}
	byName := map[string]calib.Range{}
	for _, r := range ranges {
		if math.IsNaN(float64(r.Amax)) || math.IsInf(float64(r.Amax), 0) || r.Amax < 0 {
			return nil, c.errorf("Calibrate", "tensor %q: amax %v is not a finite non-negative number", r.Name, r.Amax)
		}
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

// Close stops the plugin process.
func (c *Calibrator) Close() { c.client.Kill() }

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
	case c.client.Exited() || s.Code() == codes.Unavailable:
		return c.errorf(call, "the plugin process exited or broke the connection (crashed?): %v", s.Message())
	}
	return c.errorf(call, "%s", s.Message())
}
