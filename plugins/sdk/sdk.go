package sdk

import (
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/internal/calibratorrpc"
	"github.com/int8cal/int8cal/internal/pluginlog"
)

// Logger returns the logger a plugin should use: JSON lines on the
// plugin's standard error, which the host parses and re-emits, with their
// level, in its own log. Nothing may be written to stdout: it carries the
// go-plugin handshake.
func Logger(name string) hclog.Logger { return pluginlog.New(name) }

// Serve runs c as a calibrator plugin until the host disconnects. Run by
// hand instead of by the host, the program prints that it is a plugin and
// exits with status 1.
func Serve(c calib.Calibrator) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  calibratorrpc.Handshake,
		VersionedPlugins: calibratorrpc.Plugins(c),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, calibratorrpc.ServerOptions()...)...)
		},
		Logger: Logger(c.Info().Name),
	})
}
