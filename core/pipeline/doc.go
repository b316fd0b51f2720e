// Package pipeline is int8cal's application as a library: the path one
// `int8cal run`, `calibrate`, `eval` or `compare` takes through the
// packages below it, with options in plain structs and results as values.
//
// A Pipeline is one model on one backend. Its steps, in the order the
// sample takes them:
//
//	p, err := pipeline.New(opts)            // the backend checked (TensorRT's version, its INT8 route)
//	data, err := p.OpenData(d)              // a data set plugin, or MNIST read in process
//	err = p.Load(batch, data)               // the ONNX file, its inputs checked against the data
//	cal, err := p.Calibrate(c, out)         // a calibration table made, or a valid one reused
//	score, err := p.Evaluate(data, e)       // a runner for a precision, scored: Top-1, Top-5, timing
//	v := pipeline.Judge(scores)             // the sample's verdict
//
// The pipeline prints nothing. It logs through Options.Log, and
// Calibrate writes the sample's calibration lines ("Calibrated batch 0
// in …") to the writer it is given, because those lines are part of the
// sample's report and belong between the caller's own lines. Close
// releases the GPU and TensorRT.
//
// Errors name the command-line flag that changes what went wrong
// (--calibrator, --cache, --backend …): the CLI is the pipeline's main
// caller, and each option's documentation names its flag.
package pipeline
