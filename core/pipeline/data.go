package pipeline

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/int8cal/int8cal/core/pluginhost"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/datasets/dataset"
	"github.com/int8cal/int8cal/datasets/mnist"
)

// The roles data is opened for, as messages name them.
const (
	CalibrationRole = "calibration"
	EvaluationRole  = "evaluation"
)

// The MNIST splits read in process.
const (
	Train = mnist.Train
	Test  = mnist.Test
)

// roleDataFlag is the flag naming a role's data set plugin, for messages.
var roleDataFlag = map[string]string{CalibrationRole: "--cal-data", EvaluationRole: "--eval-data"}

// Data says where samples come from: a data set plugin with its options
// (--data, --cal-data, --eval-data and their -opt flags), or, without one,
// an MNIST split of Options.DataDir read in process, as the sample does.
type Data struct {
	// Role is CalibrationRole or EvaluationRole, for messages.
	Role    string
	Plugin  string
	Options map[string]string
	// Split is the MNIST split read without a plugin (Train, Test).
	Split string
}

// Dataset is opened data. Its Read checks every sample finite and names
// the data set in its errors: the same batches reach calibration, scoring
// and TensorRT's calibrator through it.
type Dataset struct {
	session.Source
	role     string
	describe string
	close    func()
	stats    *session.InputStats // read once (Pipeline.inputStats)
}

// Describe says which data this is: "mnist train DIR" or "plugin NAME
// OPTIONS", as the calibration sidecar records it.
func (d *Dataset) Describe() string { return d.describe }

// InputStats are the per-channel statistics of the data's first batch,
// once a pass has read them (Calibrate, Evaluate, Compare, Debug); nil
// before, and for data of named inputs.
func (d *Dataset) InputStats() *session.InputStats { return d.stats }

// Close lets the data go (stops its plugin).
func (d *Dataset) Close() error {
	d.close()
	return nil
}

// Read reads samples, checking that they are finite.
func (d *Dataset) Read(first, n int, images []float32, labels []int) error {
	if err := session.ReadFinite(d.Source, first, n, images, labels); err != nil {
		return d.errorf(err)
	}
	return nil
}

// Inputs describes the named inputs of a data set plugin speaking
// int8cal.batchstream.v2 (session.TensorSource); none for float32 samples.
func (d *Dataset) Inputs() []dataset.Input {
	if ts, ok := d.Source.(session.TensorSource); ok {
		return ts.Inputs()
	}
	return nil
}

// ReadTensors reads samples of named inputs, checking that float values
// are finite.
func (d *Dataset) ReadTensors(first, n int, inputs []dataset.Tensor, labels []int) error {
	ts, ok := d.Source.(session.TensorSource)
	if !ok {
		return d.errorf(errors.New("the data set has no named inputs"))
	}
	if err := session.ReadTensorsFinite(ts, first, n, inputs, labels); err != nil {
		return d.errorf(err)
	}
	return nil
}

// ChecksFinite says that Read and ReadTensors check the samples
// (session.FiniteChecker), so that scoring and calibration do not scan
// them again.
func (d *Dataset) ChecksFinite() bool { return true }

// errorf names the data set in err.
func (d *Dataset) errorf(err error) error {
	return fmt.Errorf("%s data (%s): %w", d.role, d.describe, err)
}

// OpenData starts the data: the named plugin, opened with its options,
// or MNIST read in process. The mnist plugin gets dir=Options.DataDir and
// the data's split unless its options say otherwise, so that the plugin
// alone behaves like the default.
func (p *Pipeline) OpenData(d Data) (*Dataset, error) {
	if d.Plugin == "" && len(d.Options) > 0 && p.once("options "+d.Role) {
		p.log.Warn(fmt.Sprintf("data set options were given for the %s data, which no plugin reads (MNIST is read in process): they are ignored; name a data set plugin for it with %s or --data", d.Role, roleDataFlag[d.Role]), "options", sorted(d.Options))
	}
	if d.Plugin == "" {
		src, err := mnist.Open(p.opts.DataDir, d.Split)
		if err != nil {
			return nil, err
		}
		return &Dataset{Source: src, role: d.Role, describe: "mnist " + d.Split + " " + p.opts.DataDir, close: func() {}}, nil
	}
	opts := p.pluginOptions(d)
	found, err := p.findPlugin(pluginhost.BatchStreamKind, d.Plugin)
	if err != nil {
		return nil, err
	}
	bs, err := pluginhost.StartBatchStream(found, p.log)
	if err != nil {
		return nil, err
	}
	if _, err := bs.Open(opts); err != nil {
		bs.Close()
		return nil, fmt.Errorf("%s data: %w", d.Role, err)
	}
	p.log.Debug("data set opened", "role", d.Role, "plugin", d.Plugin, "protocol", bs.Protocol, "samples", bs.Len(), "shape", bs.SampleShape(), "inputs", bs.Inputs(), "shared_memory", bs.Shared)
	return &Dataset{Source: bs, role: d.Role, describe: "plugin " + d.Plugin + " " + sorted(opts), close: bs.Close}, nil
}

// pluginOptions are the data's plugin options, with the mnist plugin's
// defaults.
func (p *Pipeline) pluginOptions(d Data) map[string]string {
	opts := maps.Clone(d.Options)
	if opts == nil {
		opts = map[string]string{}
	}
	if d.Plugin == "mnist" {
		if _, ok := opts["dir"]; !ok {
			opts["dir"] = p.opts.DataDir
		}
		if _, ok := opts["split"]; !ok {
			opts["split"] = d.Split
		}
	}
	return opts
}

// sorted renders options in name order, for descriptions.
func sorted(kv map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		parts = append(parts, k+"="+kv[k])
	}
	return strings.Join(parts, " ")
}
