package calibrate

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/int8cal/int8cal/calib"
	"github.com/int8cal/int8cal/calib/entropy2"
	"github.com/int8cal/int8cal/calib/minmax"
	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/engine"
	"github.com/int8cal/int8cal/core/graph"
	"github.com/int8cal/int8cal/core/pluginhost"
	"github.com/int8cal/int8cal/core/session"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/datasets/npy"
)

var (
	pluginOnce sync.Once
	pluginDir  string
	pluginErr  error
)

// entropy2Plugin builds the real entropy2 plugin once.
func entropy2Plugin(b *testing.B) pluginhost.Found {
	pluginOnce.Do(func() {
		pluginDir, pluginErr = os.MkdirTemp("", "int8cal-bench")
		if pluginErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(pluginDir, "int8cal-calibrator-entropy2"), "../../plugins/entropy2")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			pluginErr = err
			b.Log(string(out))
		}
	})
	if pluginErr != nil {
		b.Fatal(pluginErr)
	}
	f, err := pluginhost.Lookup(pluginhost.CalibratorKind, "entropy2", []string{pluginDir})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// benchCalibration times whole calibrations (statistics, calibrator,
// table written), reporting seconds per calibration and the share spent
// collecting statistics.
func benchCalibration(b *testing.B, eng *engine.Engine, src session.Source, input string, batches Batches, c Calibrator, info calib.Info) {
	dir := b.TempDir()
	var collect, search float64
	for i := 0; i < b.N; i++ {
		j := &Job{
			Runner: eng, Input: input, Source: src, Batches: batches,
			Calibrator: c, Info: info, CachePath: filepath.Join(dir, "table"),
			Version: calibtable.TRTVersion{Major: 8, Minor: 6, Patch: 1},
			Out:     io.Discard, Log: hclog.NewNullLogger(),
		}
		os.Remove(j.CachePath)
		res, err := j.Run()
		if err != nil {
			b.Fatal(err)
		}
		collect += res.Collect.Seconds()
		search += res.Search.Seconds()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/calibration")
	b.ReportMetric(search/float64(b.N)*1e3, "ms-calibrator")
}

// LeNet on sampleINT8's 500 images, entropy2 in process and as a plugin:
// the difference is the plugin overhead.
func BenchmarkCalibrateLeNet(b *testing.B) {
	eng, src := lenet(b)
	b.Run("entropy2-inprocess", func(b *testing.B) {
		c := entropy2.NewCalibrator()
		benchCalibration(b, eng, src, "data", Batches{50, 10, 0}, InProcess{c}, c.Info())
	})
	b.Run("entropy2-plugin", func(b *testing.B) {
		c, err := pluginhost.StartCalibrator(entropy2Plugin(b), hclog.NewNullLogger())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		// One call first: the new process's first RPC pays for page faults
		// and lazy initialisation, which the start-up benchmark counts.
		stats, err := Collect(eng, src, "data", Batches{50, 10, 0}, c.Info, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Calibrate(stats); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		benchCalibration(b, eng, src, "data", Batches{50, 10, 0}, c, c.Info)
	})
	// Starting the plugin process, the handshake and Info, and stopping it:
	// paid once per int8cal command.
	b.Run("entropy2-plugin-start", func(b *testing.B) {
		f := entropy2Plugin(b)
		for i := 0; i < b.N; i++ {
			c, err := pluginhost.StartCalibrator(f, hclog.NewNullLogger())
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
		b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/start")
	})
}

// timedSource measures the time spent fetching data.
type timedSource struct {
	session.Source
	spent time.Duration
}

func (s *timedSource) Read(first, n int, images []float32, labels []int) error {
	began := time.Now()
	err := s.Source.Read(first, n, images, labels)
	s.spent += time.Since(began)
	return err
}

// LeNet calibration with the data coming from the real mnist data set
// plugin (shared memory, as by default, and streamed): the share of the
// calibration spent moving data.
func BenchmarkCalibrateLeNetDataPlugin(b *testing.B) {
	eng, _ := lenet(b)
	dir := b.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "int8cal-batchstream-mnist"), "../../datasets/plugins/mnist")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	f, err := pluginhost.Lookup(pluginhost.BatchStreamKind, "mnist", []string{dir})
	if err != nil {
		b.Fatal(err)
	}
	for _, transport := range []pluginhost.Transport{pluginhost.TransportAuto, pluginhost.TransportStream} {
		b.Run(transport.String(), func(b *testing.B) {
			bs, err := pluginhost.StartBatchStream(f, hclog.NewNullLogger())
			if err != nil {
				b.Fatal(err)
			}
			defer bs.Close()
			bs.Transport = transport
			if _, err := bs.Open(map[string]string{"dir": dataDir}); err != nil {
				b.Fatal(err)
			}
			src := &timedSource{Source: bs}
			c := entropy2.NewCalibrator()
			benchCalibration(b, eng, src, "data", Batches{50, 10, 0}, InProcess{c}, c.Info())
			b.ReportMetric(src.spent.Seconds()/b.Elapsed().Seconds()*100, "%data")
		})
	}
}

// The threshold search alone, per tensor, on LeNet's real histograms.
func BenchmarkEntropySearchPerTensor(b *testing.B) {
	eng, src := lenet(b)
	c := entropy2.NewCalibrator()
	stats, err := Collect(eng, src, "data", Batches{50, 10, 0}, c.Info(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Calibrate(context.Background(), stats); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N*len(stats)), "ms/tensor")
}

// cifarCalib serves cifar10_calib_x.npy normalized for resnet20.onnx.
type cifarCalib struct {
	x []byte
	n int
}

func (c *cifarCalib) Len() int           { return c.n }
func (c *cifarCalib) SampleShape() []int { return []int{3, 32, 32} }
func (c *cifarCalib) Read(first, n int, images []float32, labels []int) error {
	mean := [3]float32{0.485, 0.456, 0.406}
	std := [3]float32{0.229, 0.224, 0.225}
	const hw = 32 * 32
	for i := 0; i < n; i++ {
		src := c.x[(first+i)*hw*3:]
		for p := 0; p < hw; p++ {
			for ch := 0; ch < 3; ch++ {
				images[i*3*hw+ch*hw+p] = (float32(src[p*3+ch])/255 - mean[ch]) / std[ch]
			}
		}
		labels[i] = 0
	}
	return nil
}

// ResNet-20 on the 1,000 CIFAR-10 calibration images (batches of 50), the
// run set beside ONNX Runtime's calibrators by `make bench`
// (tools/ort/calib_bench.py --compare). The images are read from
// ../shared, or from the folder INT8CAL_CIFAR10 names.
func BenchmarkCalibrateResNet20(b *testing.B) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "cifar10")
	if d := os.Getenv("INT8CAL_CIFAR10"); d != "" {
		dir = d
	}
	path := filepath.Join(dir, "cifar10_calib_x.npy")
	a, err := npy.ReadFile(path)
	if err != nil {
		b.Skipf("CIFAR-10 calibration images not found (they live in ../shared): %v", err)
	}
	g, err := graph.Load("../../testdata/models/resnet20.onnx")
	if err != nil {
		b.Fatal(err)
	}
	eng := engine.New(g, engine.Options{})
	src := &cifarCalib{x: a.Data, n: a.Shape[0]}
	for _, c := range []calib.Calibrator{entropy2.NewCalibrator(), minmax.NewCalibrator()} {
		b.Run(c.Info().Name, func(b *testing.B) {
			benchCalibration(b, eng, src, "input", Batches{50, 20, 0}, InProcess{c}, c.Info())
		})
	}
	// The floor: reading the same batches and running the fused FP32
	// plan on them (inference's), without observing anything.
	b.Run("forward", func(b *testing.B) {
		x := tensor.New(tensor.Float32, 50, 3, 32, 32)
		labels := make([]int, 50)
		for i := 0; i < b.N; i++ {
			for k := 0; k < 20; k++ {
				if err := session.ReadFinite(src, k*50, 50, x.F32, labels); err != nil {
					b.Fatal(err)
				}
				if _, err := eng.Run(map[string]*tensor.Tensor{"input": x}); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/pass")
	})
}
