package cuda

import (
	"errors"
	"fmt"
	"testing"

	"github.com/int8cal/int8cal/internal/gpulibs"
	"github.com/int8cal/int8cal/loader"
	"github.com/int8cal/int8cal/loader/cudadriver"
)

// BenchmarkConvS8 times each conv_s8 kernel alone on a 3×3 convolution of
// each of ResNet-20's stages at batch 256 (zero data), with its whole
// epilogue (residual read, float output and quantized copy written:
// "full"), with the quantized copy only ("q") and with nothing written
// ("none", about the product alone): where a layer's time goes, product
// or epilogue, and which kernel suits which shape.
func BenchmarkConvS8(b *testing.B) {
	gpu, err := Open(Libraries{NVRTC: gpulibs.NVRTC("../..")}, 0, nil)
	if err != nil {
		if loader.IsNotFound(err) || errors.Is(err, ErrNoGPU) {
			b.Skipf("no usable GPU: %v", err)
		}
		b.Fatal(err)
	}
	defer gpu.Close()
	if !gpu.tensorCoresS8 {
		b.Skip("no int8 mma.sync (sm_80)")
	}
	leave, err := gpu.enter()
	if err != nil {
		b.Fatal(err)
	}
	defer leave()
	d := gpu.Driver
	var owned []cudadriver.Ptr
	defer func() {
		for _, ptr := range owned {
			d.Free(ptr)
		}
	}()
	buf := func(ptr cudadriver.Ptr, err error) cudadriver.Ptr {
		if err != nil {
			b.Fatal(err)
		}
		owned = append(owned, ptr)
		return ptr
	}
	for _, st := range []struct{ c, hw, cout int }{{16, 32, 16}, {32, 16, 32}, {64, 8, 64}} {
		n := 256
		geo := convGeo{N: int32(n), C: int32(st.c), H: int32(st.hw), W: int32(st.hw), KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1,
			OH: int32(st.hw), OW: int32(st.hw)}
		rows, cq := n*st.hw*st.hw, roundUp(st.c, 4)
		kGemm := 9 * cq
		geo.K, geo.Rows = int32(kGemm), int32(rows)
		table := geo
		table.Kpad = int32(roundUp(kGemm, convK))
		ones := make([]float32, st.cout)
		for i := range ones {
			ones[i] = 1
		}
		c := &convS8{geo: newIConv(geo, st.cout, cq, kGemm, true, 0),
			words:   buf(upload(gpu, wordTable(table, int32(cq/4)))),
			weights: buf(zeroed(d, roundUp(st.cout, convChannels)*roundUp(kGemm, convK))),
			scale:   buf(upload(gpu, ones))}
		in := buf(zeroed(d, rows*cq))
		y, res := buf(zeroed(d, 4*rows*st.cout)), buf(zeroed(d, 4*rows*st.cout))
		qo := buf(zeroed(d, rows*roundUp(st.cout, 4)))
		for _, cfg := range convConfigs {
			if cfg.channels() >= 2*roundUp(st.cout, 8) {
				continue
			}
			c.cfg = cfg
			for _, v := range []struct {
				name        string
				res, y, out cudadriver.Ptr
			}{{"full", res, y, qo}, {"q", 0, 0, qo}, {"none", 0, 0, 0}} {
				l := c.launch(gpu, in, 0, v.res, v.y, v.out, 1, identityMap([]int{n, st.cout, st.hw, st.hw}))
				b.Run(fmt.Sprintf("c%d_%dx%d/%s/%s", st.c, st.hw, st.hw, cfg.label(), v.name), func(b *testing.B) {
					leave, err := gpu.enter() // sub-benchmarks run on goroutines of their own
					if err != nil {
						b.Fatal(err)
					}
					defer leave()
					per, err := timeIt(d, b.N, func() error { return gpu.run(l) })
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(per.Nanoseconds())/1e3, "µs/layer")
				})
			}
		}
	}
}
