package main

import (
	"fmt"
	"io"

	"github.com/int8cal/int8cal/core/layererr"
	"github.com/int8cal/int8cal/core/pipeline"
	"github.com/int8cal/int8cal/core/report"
	"github.com/int8cal/int8cal/core/session"
)

const debugSynopsis = `Runs the model in FP32 and in INT8 from a calibration table side by side on a
few batches and reports, for every layer INT8 quantizes (ONNX node, operator,
output tensor), the SQNR, cosine similarity and max and mean absolute error of
its output against FP32: accumulated (every layer quantized, so each layer
carries the errors of those before it) and alone (only that layer quantized,
the rest FP32; at its output and at the model's output). Layers come worst
first: by the model output's SQNR with the layer alone (--sort alone: the
layers the network is most sensitive to) or by the layer's accumulated SQNR.
Layers kept in FP32 by --exclude-nodes and --exclude-op-types are left out
and stay FP32 in the INT8 run. The table is read as given, never written.
Runs on the CPU engine.`

func debugCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("debug", debugSynopsis)
	var c commonFlags
	c.register(fs)
	c.registerExclude(fs)
	var table string
	fs.StringVar(&table, "table", "", tableUsage+" (required)")
	fs.StringVar(&table, "cache", "", "same as --table")
	batch := fs.Int("batch", 32, "images per batch")
	start := fs.Int("start", 0, "first batch compared")
	batches := fs.Int("batches", 4, "number of batches compared")
	top := fs.Int("top", 20, "layers listed, worst first (0: all)")
	sort := fs.String("sort", layererr.SortAlone, "order: alone (the model output's SQNR with the layer quantized alone) or accumulated (the layer's SQNR in the INT8 run)")
	format := fs.String("format", "text", formatUsage)
	split := fs.String("split", pipeline.Test, "MNIST split when no data set plugin is named: train or t10k")
	var d dataFlags
	d.register(fs, false, true)
	var rf reportFlag
	rf.register(fs)
	if err := parse(fs, sampleArgs(args, "batch", "start"), stdout, stderr); err != nil {
		return err
	}
	switch {
	case table == "":
		return fmt.Errorf("--table is required: the calibration table to compare with (int8cal calibrate writes one)")
	case *batches <= 0 || *top < 0:
		return fmt.Errorf("--batches %d, --top %d: want a positive number of batches and a top of 0 (all) or more", *batches, *top)
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	p, _, err := c.open(stderr)
	if err != nil {
		return err
	}
	defer p.Close()
	if err := p.CheckReport(rf.path, nil, []string{table}, d.evaluation(*split)); err != nil {
		return err
	}
	src, err := p.OpenData(d.evaluation(*split))
	if err != nil {
		return err
	}
	defer src.Close()
	dbg := pipeline.Debugging{Table: table, Sort: *sort, ScoreConfig: session.ScoreConfig{Batch: *batch, Start: *start, Batches: *batches}}
	r, err := p.Debug(src, dbg)
	if err != nil {
		return err
	}
	if err := rf.write(messages(*format, stdout, stderr), func() (*report.Report, error) {
		return p.DebugReport("int8cal debug", src, dbg, r) // every layer, before --top
	}); err != nil {
		return err
	}
	r.Truncate(*top)
	if *format == "json" {
		m, err := newMetadata(p, &c, d.evaluation(*split), src, table)
		if err != nil {
			return err
		}
		// The run's inputs first, then the report's fields.
		return writeJSON(stdout, struct {
			Metadata *metadata `json:"metadata"`
			Model    string    `json:"model"`
			Data     string    `json:"data"`
			Table    string    `json:"table"`
			*layererr.Report
		}{m, c.model, src.Describe(), table, r})
	}
	fmt.Fprintf(stdout, "model %s, data %s, table %s\n", c.model, src.Describe(), table)
	return r.WriteText(stdout)
}
