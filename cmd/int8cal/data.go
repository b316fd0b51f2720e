package main

import (
	"flag"

	"github.com/int8cal/int8cal/core/pipeline"
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

func (d *dataFlags) calibration() pipeline.Data {
	return pipeline.Data{Role: pipeline.CalibrationRole, Plugin: first(d.calData, d.data), Options: merge(d.dataOpts, d.calOpts), Split: pipeline.Train}
}

func (d *dataFlags) evaluation(split string) pipeline.Data {
	return pipeline.Data{Role: pipeline.EvaluationRole, Plugin: first(d.evalData, d.data), Options: merge(d.dataOpts, d.evalOpt), Split: split}
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func merge(base, over keyValues) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}
