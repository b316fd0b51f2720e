package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/pipeline"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/internal/memlimit"
)

var (
	errHelp  = errors.New("help requested")
	errUsage = errors.New("usage error")
)

// sampleArgs rewrites sampleINT8's `batch=32` spelling to `--batch=32` for
// the options that have it, so either form works.
func sampleArgs(args []string, names ...string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if strings.HasPrefix(a, "-") {
			continue
		}
		for _, n := range names {
			if strings.HasPrefix(a, n+"=") {
				out[i] = "--" + a
			}
		}
	}
	return out
}

// parse parses args into fs, printing usage on --help and a clear message on
// a bad flag.
func parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "int8cal %s: unexpected argument %q (see int8cal %s --help)\n", fs.Name(), fs.Arg(0), fs.Name())
		return errUsage
	}
	return nil
}

// parseFlags is parse up to the first argument that is not a flag.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return errHelp
	case err != nil:
		fmt.Fprintf(stderr, "int8cal %s: %v (see int8cal %s --help)\n", fs.Name(), err, fs.Name())
		return errUsage
	}
	return nil
}

func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() { printUsage(fs.Output(), name, synopsis, fs) }
	return fs
}

// commonFlags are shared by the commands that run a model.
type commonFlags struct {
	dataDir   string
	model     string
	logLevel  string
	workers   int
	pluginDir string
	backend   backendFlags

	pluginLock  string // --plugin-lock: the plugin lock file in force
	memoryLimit string // --memory-limit as given

	exclude precision.Exclusions // --exclude-nodes, --exclude-op-types (registerExclude)
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.dataDir, "datadir", "", "MNIST data directory (default: $INT8CAL_DATA, else the data/mnist that make fills)")
	fs.StringVar(&c.dataDir, "d", "", "short for --datadir")
	fs.StringVar(&c.model, "model", "", "ONNX model (default: lenet.onnx in the data directory)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: trace, debug, info, warn, error")
	fs.IntVar(&c.workers, "workers", 0, "CPU threads for the engine (default: all cores)")
	fs.StringVar(&c.pluginDir, "plugin-dir", "", "directory searched first for plugins (then $INT8CAL_PLUGIN_PATH, then next to int8cal)")
	fs.StringVar(&c.pluginLock, "plugin-lock", "", lockFlagUsage)
	fs.StringVar(&c.memoryLimit, "memory-limit", "", "the most memory the model may make int8cal allocate (its constants, and the buffers, packed weights "+
		"and working memory of a run), e.g. 8GiB or 500MB; 0 or off for no limit (default: $"+memlimit.Env+", else half of the memory available)")
	c.backend.register(fs)
}

// registerExclude adds the mixed-precision flags, for the commands that
// run or write INT8.
func (c *commonFlags) registerExclude(fs *flag.FlagSet) {
	registerExclusions(fs, &c.exclude)
}

// registerExclusions adds --exclude-nodes and --exclude-op-types, each
// comma-separated and repeatable, and --exclude-file (int8cal fallback's
// result), filling x.
func registerExclusions(fs *flag.FlagSet, x *precision.Exclusions) {
	fs.Var((*listFlag)(&x.Nodes), "exclude-nodes", "ONNX node names or glob patterns (* also matches /, e.g. '/layer1/*') kept in FP32 when INT8 runs; comma-separated, repeatable")
	fs.Var((*listFlag)(&x.OpTypes), "exclude-op-types", "ONNX operator types (e.g. MatMul,Gemm) kept in FP32 when INT8 runs; comma-separated, repeatable")
	fs.Func("exclude-file", "exclusions file (int8cal fallback --out writes one): a node name or pattern per line, 'op-type: T' lines, '#' comments; added to --exclude-nodes and --exclude-op-types; repeatable", func(path string) error {
		f, err := precision.ReadExclusions(path)
		x.Nodes, x.OpTypes = append(x.Nodes, f.Nodes...), append(x.OpTypes, f.OpTypes...)
		return err
	})
}

// listFlag is a comma-separated flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, precision.SplitList(v)...)
	return nil
}

// open resolves the defaults that depend on the environment and returns
// the command's pipeline and logger; the command closes the pipeline.
func (c *commonFlags) open(stderr io.Writer) (*pipeline.Pipeline, hclog.Logger, error) {
	if c.dataDir == "" {
		c.dataDir = defaultDataDir()
	}
	if c.model == "" {
		c.model = filepath.Join(c.dataDir, "lenet.onnx")
	}
	if hclog.LevelFromString(c.logLevel) == hclog.NoLevel {
		return nil, nil, fmt.Errorf("--log-level %q unknown (trace, debug, info, warn, error)", c.logLevel)
	}
	budget, how, err := memlimit.Resolve(c.memoryLimit)
	if err != nil {
		return nil, nil, err
	}
	backend, err := c.backend.options()
	if err != nil {
		return nil, nil, err
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "int8cal", Level: hclog.LevelFromString(c.logLevel), Output: stderr})
	log.Debug("memory limit", "limit", how)
	p, err := pipeline.New(pipeline.Options{Model: c.model, DataDir: c.dataDir, Workers: c.workers, Budget: budget,
		PluginDir: c.pluginDir, PluginLock: c.pluginLock, Backend: backend, Exclude: c.exclude, Log: log})
	return p, log, err
}

// defaultDataDir is $INT8CAL_DATA, else data/mnist next to the bin/ holding
// this executable (where `make` puts both), else ./data/mnist.
func defaultDataDir() string {
	if d := os.Getenv("INT8CAL_DATA"); d != "" {
		return d
	}
	if exe, err := os.Executable(); err == nil {
		d := filepath.Join(filepath.Dir(filepath.Dir(exe)), "data", "mnist")
		if _, err := os.Stat(d); err == nil {
			return d
		}
	}
	return filepath.Join("data", "mnist")
}
