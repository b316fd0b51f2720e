package pluginhost

import (
	"errors"
	"fmt"
	"os/exec"
	"time"

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

// launch starts f's program for go-plugin (gRPC, mutual TLS (hostTLS),
// its socket in this host's private directory), completes the handshake
// and dispenses name. On failure everything is stopped and the error says
// why, with the plugin's exit status and stderr when it died early.
func launch(f Found, log hclog.Logger, handshake plugin.HandshakeConfig, plugins map[int]plugin.PluginSet,
	dial []grpc.DialOption, name string, prepare func(*exec.Cmd)) (*instance, any, error) {
	tlsConfig, certPEM, err := hostTLS()
	if err != nil {
		return nil, nil, err
	}
	p, err := newProcess(f, func(cmd *exec.Cmd) {
		cmd.Env = append(cmd.Env, clientCertEnv+"="+certPEM)
		if prepare != nil {
			prepare(cmd)
		}
	})
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
		TLSConfig:        tlsConfig, // mutual TLS, as go-plugin's AutoMTLS but with our certificate
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

// closeGrace bounds a graceful stop. go-plugin's Kill sends Shutdown and
// then waits up to 2 s for the process to exit, but the Shutdown call
// itself has no deadline: a plugin that never answers it would hold the
// host forever.
const closeGrace = 3 * time.Second

// close stops the plugin (gracefully if it answers within closeGrace),
// kills its process group and releases its socket directory.
func (in *instance) close() {
	stopped := make(chan struct{})
	go func() {
		in.client.Kill()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(closeGrace):
		in.proc.kill() // its exit ends go-plugin's Shutdown call
		<-stopped
	}
	in.proc.kill()
	release(in.proc)
}
