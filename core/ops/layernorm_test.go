package ops

import (
	"math"
	"math/rand"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func TestLayerNormHand(t *testing.T) {
	// rows [1,2,3] and [2,4,6]: means 2 and 4, variances 2/3 and 8/3
	x := f32(sh(2, 3), 1, 2, 3, 2, 4, 6)
	scale, bias := f32(sh(3), 1, 2, 0.5), f32(sh(3), 0, 1, -1)
	eps := float32(1e-5)
	inv1, inv2 := 1/math.Sqrt(2.0/3+float64(eps)), 1/math.Sqrt(8.0/3+float64(eps))
	op := rtBuild(t, 17, "LayerNormalization")
	for _, workers := range []int{1, 2} {
		out := rtMust(t, op, workers, 3, []*tensor.Tensor{x, scale, bias}, allConst)
		checkClose(t, out[0], sh(2, 3), []float64{-inv1, 1, 0.5*inv1 - 1, -2 * inv2, 1, inv2 - 1}, 1e-6)
		checkClose(t, out[1], sh(2, 1), []float64{2, 4}, 0)
		checkClose(t, out[2], sh(2, 1), []float64{inv1, inv2}, 1e-7)
	}
	// no bias, and only Y requested (the optional outputs absent)
	y := rtMust(t, op, 1, 1, []*tensor.Tensor{x, scale}, allConst)[0]
	checkClose(t, y, sh(2, 3), []float64{-inv1, 0, 0.5 * inv1, -2 * inv2, 0, inv2}, 1e-6)
}

func TestLayerNormReference(t *testing.T) {
	r := rtRand(5)
	x := randT(r, 2, 3, 4, 5)
	for i := range x.F32 {
		x.F32[i] = x.F32[i]*3 + 100 // a large mean must not cancel the variance
	}
	for _, tc := range []struct {
		axis         int64
		scaleShape   []int
		normShape    []int
		statShape    []int
		biasAbsent   bool
		stashDefault bool
	}{
		{axis: -1, scaleShape: sh(5), normShape: sh(5), statShape: sh(2, 3, 4, 1)},
		{axis: 2, scaleShape: sh(4, 5), normShape: sh(4, 5), statShape: sh(2, 3, 1, 1)},
		// Scale broadcast over the normalized shape
		{axis: 1, scaleShape: sh(1, 5), normShape: sh(3, 4, 5), statShape: sh(2, 1, 1, 1), biasAbsent: true},
		{axis: 0, scaleShape: sh(), normShape: sh(2, 3, 4, 5), statShape: sh(1, 1, 1, 1)},
	} {
		scale, bias := randT(r, tc.scaleShape...), randT(r, tc.scaleShape...)
		in := []*tensor.Tensor{x, scale, bias}
		if tc.biasAbsent {
			in = in[:2]
		}
		n := tensor.NumElements(tc.normShape)
		rows := x.Len() / n
		want := make([]float64, x.Len())
		means, invs := make([]float64, rows), make([]float64, rows)
		for row := 0; row < rows; row++ {
			v := x.F32[row*n : (row+1)*n]
			var s, sq float64
			for _, e := range v {
				s += float64(e)
			}
			m := s / float64(n)
			for _, e := range v {
				sq += (float64(e) - m) * (float64(e) - m)
			}
			inv := 1 / math.Sqrt(sq/float64(n)+1e-3)
			means[row], invs[row] = m, inv
			for i, e := range v {
				idx := unravel(i, tc.normShape)
				j := refBroadcastIndex(idx, tc.scaleShape)
				w := (float64(e) - m) * inv * float64(scale.F32[j])
				if !tc.biasAbsent {
					w += float64(bias.F32[j])
				}
				want[row*n+i] = w
			}
		}
		op := rtBuild(t, 17, "LayerNormalization", aInt("axis", tc.axis), aFloat("epsilon", 1e-3), aInt("stash_type", 1))
		out := rtMust(t, op, 3, 3, in, allConst)
		checkClose(t, out[0], x.Shape, want, 1e-5)
		checkClose(t, out[1], tc.statShape, means, 1e-6)
		checkClose(t, out[2], tc.statShape, invs, 1e-6)
	}
}

func TestLayerNormRefused(t *testing.T) {
	x := f32(sh(2, 3), 1, 2, 3, 4, 5, 6)
	wantErr(t, rtErr(16, "LayerNormalization", []*tensor.Tensor{x, f32(sh(3), 1, 1, 1)}), "needs opset 17")
	wantErr(t, rtErr(17, "LayerNormalization", []*tensor.Tensor{x, f32(sh(3), 1, 1, 1)}, aInt("stash_type", 11)), "stash_type 11")
	wantErr(t, rtErr(17, "LayerNormalization", []*tensor.Tensor{x, f32(sh(2), 1, 1)}), "Scale", "normalized shape [3]")
	wantErr(t, rtErr(17, "LayerNormalization", []*tensor.Tensor{x, f32(sh(3), 1, 1, 1), f32(sh(2, 3), 1, 1, 1, 1, 1, 1)}), "B of shape [2,3]")
	wantErr(t, rtErr(17, "LayerNormalization", []*tensor.Tensor{x, f32(sh(3), 1, 1, 1)}, aInt("axis", 2)), "out of range")
	wantErr(t, rtErr(17, "LayerNormalization", []*tensor.Tensor{i64(sh(1), 1), i64(sh(1), 1)}), "float")
}

func TestInstanceNorm(t *testing.T) {
	// one image, two channels of two pixels: [1,3] and [5,7]
	x := f32(sh(1, 2, 2), 1, 3, 5, 7)
	out := rtOne(t, 13, "InstanceNormalization", []*tensor.Tensor{x, f32(sh(2), 2, 1), f32(sh(2), 0.5, -1)}, aFloat("epsilon", 0))
	checkF(t, out, sh(1, 2, 2), -1.5, 2.5, -2, 0)
	r := rtRand(9)
	big := randT(r, 2, 3, 40, 50)
	scale, bias := randT(r, 3), randT(r, 3)
	want := make([]float64, big.Len())
	for p := 0; p < 6; p++ {
		v := big.F32[p*2000 : (p+1)*2000]
		var s, sq float64
		for _, e := range v {
			s += float64(e)
		}
		m := s / 2000
		for _, e := range v {
			sq += (float64(e) - m) * (float64(e) - m)
		}
		inv := 1 / math.Sqrt(sq/2000+1e-5)
		for i, e := range v {
			want[p*2000+i] = (float64(e)-m)*inv*float64(scale.F32[p%3]) + float64(bias.F32[p%3])
		}
	}
	got := rtMust(t, rtBuild(t, 13, "InstanceNormalization"), 4, 1, []*tensor.Tensor{big, scale, bias}, allConst)[0]
	checkClose(t, got, big.Shape, want, 1e-6)
	wantErr(t, rtErr(13, "InstanceNormalization", []*tensor.Tensor{x, f32(sh(3), 1, 1, 1), f32(sh(2), 1, 1)}), "scale", "[2]")
	wantErr(t, rtErr(13, "InstanceNormalization", []*tensor.Tensor{f32(sh(2, 2), 1, 1, 1, 1), f32(sh(2), 1, 1), f32(sh(2), 1, 1)}), "rank 2")
}

func TestLogSoftmax(t *testing.T) {
	x := f32(sh(2, 3), 1, 2, 3, 1000, 1000, 1000)
	lse := math.Log(math.Exp(1) + math.Exp(2) + math.Exp(3))
	// opset 13: axis -1 by default
	checkClose(t, rtOne(t, 13, "LogSoftmax", []*tensor.Tensor{x}), sh(2, 3),
		[]float64{1 - lse, 2 - lse, 3 - lse, -math.Log(3), -math.Log(3), -math.Log(3)}, 1e-6)
	// axis 0
	got := rtOne(t, 13, "LogSoftmax", []*tensor.Tensor{f32(sh(2, 2), 0, 0, 1, 0)}, aInt("axis", 0))
	checkClose(t, got, sh(2, 2), []float64{-math.Log1p(math.E), -math.Ln2, 1 - math.Log(1+math.E), -math.Ln2}, 1e-6)
}

// Before opset 13, Softmax and LogSoftmax normalize over all dimensions
// from axis on (the input coerced to 2-D); from 13 on over axis alone.
func TestSoftmaxCoerce2D(t *testing.T) {
	x := f32(sh(1, 2, 2), 0, 0, 0, 0)
	for _, c := range []struct {
		op     string
		opset  int64
		attrs  []*onnx.Attribute
		want   float64
		wantLn bool
	}{
		{"Softmax", 11, nil, 0.25, false},                                // axis 1: 4 values
		{"Softmax", 13, nil, 0.5, false},                                 // axis -1: 2 values
		{"Softmax", 13, []*onnx.Attribute{aInt("axis", 1)}, 0.5, false},  // axis 1 alone: 2 values
		{"Softmax", 11, []*onnx.Attribute{aInt("axis", 0)}, 0.25, false}, // everything
		{"LogSoftmax", 11, nil, 0.25, true},
		{"LogSoftmax", 13, nil, 0.5, true},
	} {
		w := c.want
		if c.wantLn {
			w = math.Log(w)
		}
		checkClose(t, rtOne(t, c.opset, c.op, []*tensor.Tensor{x}, c.attrs...), sh(1, 2, 2), []float64{w, w, w, w}, 1e-7)
	}
}

// The vector statistics and normalization give the Go loops' bits (four
// partial sums, value i's in sum i mod 4, then float64 arithmetic and one
// float32 multiply and add per value), on rows of every length up to 41
// and ViT's 768, around means near and far from zero.
func TestLayerNormVectorSameAsGo(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for _, n := range append([]int{768}, seq(1, 41)...) {
		for _, offset := range []float64{0, 1e4} {
			x, scale, bias := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(offset + r.NormFloat64())
				scale[i], bias[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			}
			var part [4]float64
			for i, v := range x {
				part[i%4] += float64(v)
			}
			mean := ((part[0] + part[1]) + (part[2] + part[3])) / float64(n)
			part = [4]float64{}
			for i, v := range x {
				d := float64(v) - mean
				part[i%4] += d * d
			}
			const eps = float32(1e-5)
			inv := 1 / math.Sqrt(((part[0]+part[1])+(part[2]+part[3]))/float64(n)+float64(eps))
			gotMean, gotInv := meanInvStd(x, eps)
			if gotMean != mean || gotInv != inv {
				t.Fatalf("n=%d offset %g: mean, 1/std = %v, %v; want %v, %v", n, offset, gotMean, gotInv, mean, inv)
			}
			got := make([]float32, n)
			normalizeRow(got, x, scale, bias, mean, inv)
			for i, v := range x {
				want := float32((float64(v)-mean)*inv)*scale[i] + bias[i]
				if math.Float32bits(got[i]) != math.Float32bits(want) {
					t.Fatalf("n=%d offset %g: value %d = %g, want %g", n, offset, i, got[i], want)
				}
			}
		}
	}
}
