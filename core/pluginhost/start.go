package pluginhost

import (
	"errors"
	"fmt"
	"os/exec"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// instance is a started plugin program: go-plugin's client and the
// process under it.
type instance struct {
	client *plugin.Client
	proc   *process
}

// launch starts f's program for go-plugin (gRPC, automatic mutual TLS,
// its socket in this host's private directory), completes the handshake
// and dispenses name. On failure everything is stopped and the error says
// why, with the plugin's exit status and stderr when it died early.
func launch(f Found, log hclog.Logger, handshake plugin.HandshakeConfig, plugins map[int]plugin.PluginSet,
	dial []grpc.DialOption, name string, prepare func(*exec.Cmd)) (*instance, any, error) {
	p, err := newProcess(f, prepare)
	if err != nil {
		return nil, nil, err
	}
	dir, err := register(p)
	if err != nil {
		return nil, nil, err
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: plugins,
		RunnerFunc:       p.runnerFunc,
		UnixSocketConfig: &plugin.UnixSocketConfig{TempDir: dir},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           pluginLogger(log, f.Name),
		StartTimeout:     StartTimeout,
		GRPCDialOptions:  dial,
	})
	in := &instance{client: client, proc: p}
	rpcClient, err := client.Client()
	if err != nil {
		in.close()
		return nil, nil, errors.New(p.startError(err))
	}
	raw, err := rpcClient.Dispense(name)
	if err != nil {
		in.close()
		return nil, nil, fmt.Errorf("%s", Clean(err.Error(), MaxErrorText))
	}
	return in, raw, nil
}

// close stops the plugin (gracefully if it still answers), kills its
// process group and releases its socket directory.
func (in *instance) close() {
	in.client.Kill()
	in.proc.kill()
	release(in.proc)
}
