package sdk

import (
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/internal/batchstreamrpc"
	"github.com/int8cal/int8cal/internal/pluginlog"
)

// Logger returns the logger a plugin should use: JSON lines on the
// plugin's standard error, which the host parses and re-emits, with their
// level, in its own log. Nothing may be written to stdout: it carries the
// go-plugin handshake.
func Logger(name string) hclog.Logger { return pluginlog.New(name) }

// Serve runs d as a data set plugin until the host disconnects. Calls into
// d never overlap. When the host handed the process a shared memory
// region, batches are written straight into it: d's Read gets slices of
// it, which it must not keep. Run by hand instead of by the host, the program prints that it is
// a plugin and exits with status 1.
func Serve(d dataset.BatchStream) {
	serve(d.Info().Name, func(region *batchstreamrpc.Region) map[int]plugin.PluginSet {
		return batchstreamrpc.Plugins(d, region)
	})
}

// serve serves the plugin sets made for the shared memory region the host
// handed over (or nil), logging as name.
func serve(name string, plugins func(*batchstreamrpc.Region) map[int]plugin.PluginSet) {
	region := batchstreamrpc.RegionFromEnv()
	defer region.Close()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  batchstreamrpc.Handshake,
		VersionedPlugins: plugins(region),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, batchstreamrpc.ServerOptions()...)...)
		},
		Logger: Logger(name),
	})
}

// ServeTensors runs d, a data set of named inputs of any element type
// (token ids, masks, images), as a plugin speaking int8cal.batchstream.v2
// until the host disconnects. Calls into d never overlap; batches go
// through shared memory as with Serve (d's ReadTensors then gets views of
// it, which it must not keep). A host that speaks v1 only refuses the
// plugin at its handshake. Run by hand, the program prints that it is a
// plugin and exits with status 1.
func ServeTensors(d dataset.TensorStream) {
	serve(d.Info().Name, func(region *batchstreamrpc.Region) map[int]plugin.PluginSet {
		return batchstreamrpc.TensorPlugins(d, region)
	})
}
