package main

import (
	"math"
	"runtime"

	"github.com/int8cal/int8cal/core/layererr"
	"github.com/int8cal/int8cal/core/pipeline"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
)

// metadata says what produced a --format json report, so that its numbers
// can be traced to a model file, data, calibration and build.
type metadata struct {
	Model       string `json:"model"`
	ModelSHA256 string `json:"model_sha256"`
	// Data is the data of each role (calibration, evaluation) used.
	Data              map[string]dataMetadata `json:"data"`
	Calibrator        string                  `json:"calibrator,omitempty"`
	CalibratorOptions map[string]string       `json:"calibrator_options,omitempty"`
	// Table is the calibration table INT8 ran from.
	Table     string `json:"table,omitempty"`
	Backend   string `json:"backend"`
	Version   string `json:"int8cal_version"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// dataMetadata is one role's data: a plugin and its options, or an MNIST
// split, and what was opened.
type dataMetadata struct {
	Plugin  string            `json:"plugin,omitempty"`
	Options map[string]string `json:"options,omitempty"`
	Split   string            `json:"mnist_split,omitempty"`
	// Opened is the data set as opened (Dataset.Describe); empty for
	// data opened inside the pipeline (calibration's).
	Opened string `json:"opened,omitempty"`
}

// newMetadata is the metadata of a command that scored the evaluation
// data eval, opened as src, with INT8 from table ("" for none); run adds
// its calibration.
func newMetadata(p *pipeline.Pipeline, c *commonFlags, eval pipeline.Data, src *pipeline.Dataset, table string) (*metadata, error) {
	hash, err := p.ModelSHA256()
	if err != nil {
		return nil, err
	}
	m := &metadata{Model: c.model, ModelSHA256: hash, Data: map[string]dataMetadata{}, Table: table, Backend: c.backend.name,
		Version: version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	m.addData(eval, src)
	return m, nil
}

// addData records d, opened as opened (nil when the pipeline opens it).
func (m *metadata) addData(d pipeline.Data, opened *pipeline.Dataset) {
	dm := dataMetadata{Plugin: d.Plugin, Options: d.Options}
	if d.Plugin == "" {
		dm.Split = d.Split
	}
	if opened != nil {
		dm.Opened = opened.Describe()
	}
	m.Data[d.Role] = dm
}

// scoreJSON is one pass's score as the JSON reports write it, rounded
// (layererr.Number) to the digits that mean something.
type scoreJSON struct {
	Precision  string          `json:"precision"`
	Images     int             `json:"images"`
	Top1       layererr.Number `json:"top1"`
	Top5       layererr.Number `json:"top5"`
	NonFinite  int             `json:"non_finite_scores"`
	MsPerImage layererr.Number `json:"ms_per_image"`
	MsPerBatch layererr.Number `json:"ms_per_batch"`
	// ImagesPerSecond is rounded to a whole image: timings vary more.
	ImagesPerSecond float64 `json:"images_per_second"`
}

func newScoreJSON(pr precision.Precision, s *session.Score) scoreJSON {
	return scoreJSON{Precision: pr.String(), Images: s.Images, Top1: layererr.Number(s.Top1), Top5: layererr.Number(s.Top5),
		NonFinite: s.NonFinite.Values, MsPerImage: layererr.Number(s.MsPerImage()), MsPerBatch: layererr.Number(s.MsPerBatch()),
		ImagesPerSecond: math.Round(s.ImagesPerSecond())}
}
