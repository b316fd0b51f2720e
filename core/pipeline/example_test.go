package pipeline_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/int8cal/int8cal/core/pipeline"
	"github.com/int8cal/int8cal/core/precision"
	"github.com/int8cal/int8cal/core/session"
)

// Calibrate LeNet with the entropy2 calibrator plugin (found on
// $INT8CAL_PLUGIN_PATH, or beside the program) on 500 MNIST training
// images, then score it in INT8 on the first 1,000 test images.
func Example() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	p, err := pipeline.New(pipeline.Options{Model: "../../data/mnist/lenet.onnx", DataDir: "../../data/mnist"})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	cal, err := p.Calibrate(pipeline.Calibration{Calibrator: "entropy2", Batch: 50, Batches: 10, Cache: filepath.Join(dir, "table"),
		Data: pipeline.Data{Role: pipeline.CalibrationRole, Split: pipeline.Train}}, io.Discard)
	if err != nil {
		log.Fatal(err)
	}
	data, err := p.OpenData(pipeline.Data{Role: pipeline.EvaluationRole, Split: pipeline.Test})
	if err != nil {
		log.Fatal(err)
	}
	defer data.Close()
	score, err := p.Evaluate(data, pipeline.Evaluation{Precision: precision.INT8, Calibration: cal, ScoreConfig: session.ScoreConfig{Batch: 100, Batches: 10}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("INT8 Top-1 %.3f on %d images\n", score.Top1, score.Images)
	// Output: INT8 Top-1 0.987 on 1000 images
}
