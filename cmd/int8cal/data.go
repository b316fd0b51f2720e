package main

import (
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/core/pluginhost"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/datasets/mnist"
)

// dataFlags choose the calibration and evaluation data: a data set plugin
// with its options, or by default the MNIST files of --datadir read in
// process, as the sample does.
type dataFlags struct {
	data, calData, evalData    string
	dataOpts, calOpts, evalOpt keyValues
}

func (d *dataFlags) register(fs *flag.FlagSet, cal, eval bool) {
	fs.StringVar(&d.data, "data", "", "data set plugin for calibration and evaluation (int8cal plugins lists them; default: MNIST from --datadir)")
	fs.Var(&d.dataOpts, "data-opt", "data set option KEY=VALUE for both (repeatable)")
	if cal {
		fs.StringVar(&d.calData, "cal-data", "", "data set plugin for calibration (overrides --data)")
		fs.Var(&d.calOpts, "cal-opt", "calibration data set option KEY=VALUE (repeatable; after --data-opt)")
	}
	if eval {
		fs.StringVar(&d.evalData, "eval-data", "", "data set plugin for evaluation (overrides --data)")
		fs.Var(&d.evalOpt, "eval-opt", "evaluation data set option KEY=VALUE (repeatable; after --data-opt)")
	}
}

// role is what data is opened for.
type role struct {
	name    string // "calibration" or "evaluation"
	plugin  string
	options keyValues
	split   string // the MNIST split used without a plugin
}

func (d *dataFlags) calibration() role {
	return role{name: "calibration", plugin: first(d.calData, d.data), options: merge(d.dataOpts, d.calOpts), split: mnist.Train}
}

func (d *dataFlags) evaluation(split string) role {
	return role{name: "evaluation", plugin: first(d.evalData, d.data), options: merge(d.dataOpts, d.evalOpt), split: split}
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func merge(base, over keyValues) keyValues {
	out := keyValues{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// openedData is a source with what describes it (for the cache sidecar)
// and how to let it go.
type openedData struct {
	session.Source
	role     string // "calibration" or "evaluation"
	describe string
	close    func()
}

// Read reads samples, checking that they are finite, and names the data
// set in its errors: the same batch reaches calibration, scoring and
// TensorRT's calibrator through here.
func (d *openedData) Read(first, n int, images []float32, labels []int) error {
	if err := session.ReadFinite(d.Source, first, n, images, labels); err != nil {
		return d.errorf(err)
	}
	return nil
}

// errorf names the data set in err.
func (d *openedData) errorf(err error) error {
	return fmt.Errorf("%s data (%s): %w", d.role, d.describe, err)
}

// open starts the role's data: the named plugin, opened with its options,
// or MNIST read in process. The mnist plugin gets dir=--datadir and the
// role's split unless the options say otherwise, so `--data mnist` alone
// behaves like the default.
func (r role) open(c *commonFlags, log hclog.Logger) (*openedData, error) {
	if r.plugin == "" {
		src, err := mnist.Open(c.dataDir, r.split)
		if err != nil {
			return nil, err
		}
		return &openedData{Source: src, role: r.name, describe: "mnist " + r.split + " " + c.dataDir, close: func() {}}, nil
	}
	opts := merge(nil, r.options)
	if r.plugin == "mnist" {
		if _, ok := opts["dir"]; !ok {
			opts["dir"] = c.dataDir
		}
		if _, ok := opts["split"]; !ok {
			opts["split"] = r.split
		}
	}
	found, err := c.findPlugin(pluginhost.BatchStreamKind, r.plugin)
	if err != nil {
		return nil, err
	}
	bs, err := pluginhost.StartBatchStream(found, log)
	if err != nil {
		return nil, err
	}
	if _, err := bs.Open(opts); err != nil {
		bs.Close()
		return nil, fmt.Errorf("%s data: %w", r.name, err)
	}
	log.Debug("data set opened", "role", r.name, "plugin", r.plugin, "samples", bs.Len(), "shape", bs.SampleShape(), "shared_memory", bs.Shared)
	return &openedData{Source: bs, role: r.name, describe: "plugin " + r.plugin + " " + opts.sorted(), close: bs.Close}, nil
}

// sorted renders options in name order, for descriptions.
func (kv keyValues) sorted() string {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + kv[k]
	}
	return strings.Join(parts, " ")
}
