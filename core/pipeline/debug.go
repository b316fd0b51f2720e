package pipeline

import (
	"fmt"

	"github.com/int8cal/int8cal/core/layererr"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/internal/progress"
)

// Debugging says what Debug compares.
type Debugging struct {
	// Table is the calibration table (--table), read as given and never
	// written.
	Table string
	// Batch, Start and Batches choose the samples, as Evaluation's do.
	session.ScoreConfig
	// Sort orders the layers: layererr.SortAlone or
	// layererr.SortAccumulated (--sort).
	Sort string
}

// Debug runs the model in FP32 and in INT8 from a table on data's batches
// and returns every quantized layer's error against FP32, accumulated and
// with the layer quantized alone (core/layererr), worst first. It runs on
// the CPU engine whatever the backend: only it shows every tensor, and
// the GPU backend computes the same numbers (ARCHITECTURE.md).
func (p *Pipeline) Debug(data *Dataset, d Debugging) (*layererr.Report, error) {
	if d.Sort != layererr.SortAlone && d.Sort != layererr.SortAccumulated {
		return nil, fmt.Errorf("--sort %q unknown: %s or %s", d.Sort, layererr.SortAlone, layererr.SortAccumulated)
	}
	cfg := d.ScoreConfig
	if cfg.Batches == 0 && cfg.Batch > 0 {
		cfg.Batches = data.Len()/cfg.Batch - cfg.Start
	}
	if err := p.load(cfg.Batch, data); err != nil {
		return nil, err
	}
	if err := session.CheckRange(cfg, data.Len()); err != nil {
		return nil, err
	}
	if p.opts.Backend.Name != CPU {
		p.log.Info("the per-layer comparison runs on the cpu backend, the only one that shows every tensor", "backend", p.opts.Backend.Name)
	}
	table, err := p.TableAsGiven(d.Table)
	if err != nil {
		return nil, err
	}
	p.checkInput(data, cfg, table)
	scales := table.Scales()
	feed, err := session.NewFeed(data, p.graph.Inputs, cfg.Batch)
	if err != nil {
		return nil, data.errorf(err)
	}
	c := layererr.New(p.graph, layererr.Options{Scales: scales, Workers: p.opts.Workers, Exclude: p.opts.Exclude})
	labels := make([]int, cfg.Batch)
	bar := progress.New("FP32/INT8 per-layer comparison", cfg.Batches, p.log)
	defer bar.Finish()
	for b := 0; b < cfg.Batches; b++ {
		inputs, err := feed.Read((cfg.Start+b)*cfg.Batch, labels)
		if err != nil {
			return nil, data.errorf(err)
		}
		if err := c.Add(inputs); err != nil {
			return nil, fmt.Errorf("%s with %s: %w", p.opts.Model, d.Table, err)
		}
		bar.Add(1)
	}
	return c.Report(d.Sort)
}
