package calibrate

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/aciq"
	"github.com/int8cal/int8cal/calib/entropy"
	"github.com/int8cal/int8cal/calib/entropy2"
	"github.com/int8cal/int8cal/calib/legacy"
	"github.com/int8cal/int8cal/calib/minmax"
	"github.com/int8cal/int8cal/calib/mse"
	"github.com/int8cal/int8cal/calib/percentile"
	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/core/stats"
	"github.com/int8cal/int8cal/datasets/npy"
)

// arraySource serves the images of a float32 .npy file (labels 0).
type arraySource struct {
	shape  []int
	values []float32
}

func (a *arraySource) Len() int           { return a.shape[0] }
func (a *arraySource) SampleShape() []int { return a.shape[1:] }
func (a *arraySource) Read(first, n int, images []float32, labels []int) error {
	size := len(a.values) / a.shape[0]
	copy(images, a.values[first*size:(first+n)*size])
	clear(labels)
	return nil
}

// resnet20 is ResNet-20 and the 16 CIFAR-10 test images of its golden
// outputs (testdata/golden, normalized as the model expects).
func resnet20(t *testing.T) (*engine.Engine, session.Source) {
	t.Helper()
	g, err := graph.Load("../../testdata/models/resnet20.onnx")
	if err != nil {
		t.Fatal(err)
	}
	a, err := npy.ReadFile("../../testdata/golden/resnet20_input.npy")
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(a.Data)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(a.Data[4*i:]))
	}
	return engine.New(g, engine.Options{}), &arraySource{shape: a.Shape, values: v}
}

// shardCalibrators are the calibrators a merge must serve: TensorRT's
// three (entropy2, legacy, and minmax) and issue 12's.
var shardCalibrators = []func() calib.Calibrator{
	func() calib.Calibrator { return entropy2.NewCalibrator() },
	func() calib.Calibrator { return minmax.NewCalibrator() },
	func() calib.Calibrator { return legacy.NewCalibrator() },
	func() calib.Calibrator { return entropy.NewCalibrator() },
	func() calib.Calibrator { return percentile.NewCalibrator() },
	func() calib.Calibrator { return mse.NewCalibrator() },
	func() calib.Calibrator { return aciq.NewCalibrator() },
}

// TestShardsMergeToTheSingleRunTable: a calibration split into N shards
// (1, 2, 3 and 8, of unequal sizes where the batches do not divide),
// each written to a statistics file, read back and merged in a shuffled
// order, gives the table and sidecar of the one-process calibration byte
// for byte, for every calibrator, on LeNet and ResNet-20.
func TestShardsMergeToTheSingleRunTable(t *testing.T) {
	lenetEng, mnistSrc := lenet(t)
	resEng, cifar := resnet20(t)
	models := []struct {
		name   string
		runner ObservedRunner
		src    session.Source
		input  string
		b      Batches
	}{
		{"LeNet", lenetEng, mnistSrc, "data", Batches{Batch: 50, Batches: 8, First: 100}},
		{"ResNet-20", resEng, cifar, "input", Batches{Batch: 2, Batches: 8}},
	}
	for _, m := range models {
		for _, newCal := range shardCalibrators {
			c := newCal()
			info := c.Info()
			dir := t.TempDir()
			job := func(cache string) *Job {
				return &Job{
					Runner: m.runner, Input: m.input, Source: m.src, Batches: m.b,
					Calibrator: InProcess{c}, Info: info, CachePath: filepath.Join(dir, cache),
					Version:    calibtable.TRTVersion{Major: 8, Minor: 6, Patch: 1},
					Provenance: calibtable.Sidecar{ModelSHA256: "sha-" + m.name, Dataset: "test images"},
					Out:        &bytes.Buffer{}, Log: hclog.NewNullLogger(),
				}
			}
			if _, err := job("single").Run(); err != nil {
				t.Fatalf("%s %s: %v", m.name, info.Name, err)
			}
			want := readPair(t, filepath.Join(dir, "single"))
			for _, n := range []int{1, 2, 3, 8} {
				var files []*stats.File
				for i := range n {
					path := filepath.Join(dir, fmt.Sprintf("shard-%d-of-%d.stats", i, n))
					if _, err := job("").RunShard(Shard{Index: i, Count: n}, path); err != nil {
						t.Fatalf("%s %s shard %d/%d: %v", m.name, info.Name, i, n, err)
					}
					f, err := stats.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					files = append(files, f)
				}
				rand.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
				merged, err := stats.Merge(files)
				if err != nil {
					t.Fatal(err)
				}
				cache := fmt.Sprintf("merged-%d", n)
				j := job(cache)
				j.Merged = merged
				if _, err := j.Run(); err != nil {
					t.Fatalf("%s %s, %d shards: %v", m.name, info.Name, n, err)
				}
				if got := readPair(t, filepath.Join(dir, cache)); got != want {
					t.Errorf("%s %s, %d shards: the merged table differs from the single run's:\n%s\nwant\n%s", m.name, info.Name, n, got, want)
				}
			}
		}
	}
}

// readPair is a table and its sidecar, the sidecar's table hash left
// out (the tables are compared themselves).
func readPair(t *testing.T, cache string) string {
	t.Helper()
	table, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	side, err := calibtable.ReadSidecar(calibtable.SidecarPath(cache))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s\n%+v", table, *side)
}

// TestShardRefusals: shard specs that split nothing, merged statistics
// of another calibration, and raw values, which do not merge.
func TestShardRefusals(t *testing.T) {
	f := newJobFixture(t)
	for _, c := range []struct {
		s    Shard
		want string
	}{
		{Shard{Index: 2, Count: 2}, "shard 2/2: the index must be from 0 to the count less one"},
		{Shard{Index: 0, Count: 3}, "3 shards of 2 calibration batches would leave shards without a batch; use at most 2 shards"},
	} {
		if _, err := f.job().RunShard(c.s, filepath.Join(f.dir, "s")); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.s, err, c.want)
		}
	}
	raw := f.job()
	raw.Info.Statistics = calib.Raw
	if _, err := raw.RunShard(Shard{Count: 1}, filepath.Join(f.dir, "s")); err == nil || !strings.Contains(err.Error(), "raw statistics are not kept in statistics files") {
		t.Errorf("raw: %v", err)
	}
	// Statistics of other batches are not this job's.
	path := filepath.Join(f.dir, "half.stats")
	if _, err := f.job().RunShard(Shard{Index: 0, Count: 2}, path); err != nil {
		t.Fatal(err)
	}
	half, err := stats.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	j := f.job()
	j.Merged = half
	if _, err := j.Run(); err == nil || !strings.Contains(err.Error(), "not the statistics of every batch of this calibration") {
		t.Errorf("half the batches: %v", err)
	}
}

// TestHistogramCacheServesMinMax: the histogram cache of a histogram
// calibrator serves a min-max one, whose table is the one it gets from
// its own statistics.
func TestHistogramCacheServesMinMax(t *testing.T) {
	f := newJobFixture(t)
	f.run(f.job())
	want, _ := os.ReadFile(f.cache)
	statsCache := filepath.Join(f.dir, "hist.stats")
	e := entropy2.NewCalibrator()
	j := f.job()
	j.Calibrator, j.Info, j.StatsCache, j.CachePath = InProcess{e}, e.Info(), statsCache, filepath.Join(f.dir, "entropy2")
	f.run(j)
	j = f.job()
	j.StatsCache, j.CachePath = statsCache, filepath.Join(f.dir, "minmax")
	f.run(j)
	if !strings.Contains(f.log.String(), "using histogram cache") {
		t.Errorf("the min-max job did not use the histogram cache:\n%s", f.log.String())
	}
	if got, _ := os.ReadFile(j.CachePath); !bytes.Equal(got, want) {
		t.Errorf("min-max table from the histogram cache:\n%s\nwant\n%s", got, want)
	}
}
