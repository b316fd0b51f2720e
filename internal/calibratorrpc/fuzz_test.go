package calibratorrpc

import (
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/int8cal/int8cal/calib"
	pb "github.com/int8cal/int8cal/internal/proto/calibratorv1"
)

// The host reads a calibrator plugin's replies, Info and Calibrate's
// ranges, through InfoFromProto and RangesFromProto. Fed arbitrary bytes
// they must never panic, and what they accept must be usable.

func FuzzInfoReply(f *testing.F) {
	for _, r := range []*pb.InfoResponse{
		{Name: "entropy2", Version: "1.0.0", Algorithm: "EntropyCalibration2", Statistics: pb.StatisticsKind(calib.AbsHistogram), Bins: 2048,
			Options: []*pb.Option{{Name: "start", DefaultValue: "128", Description: "smallest cut"}}},
		{Name: "minmax", Algorithm: "MinMaxCalibration", Statistics: pb.StatisticsKind(calib.MinMax)},
	} {
		b, _ := proto.Marshal(r)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var resp pb.InfoResponse
		if proto.Unmarshal(data, &resp) != nil {
			return
		}
		i, err := InfoFromProto(&resp)
		if err != nil {
			return
		}
		histogram := i.Statistics == calib.AbsHistogram || i.Statistics == calib.SignedHistogram
		switch {
		case i.Name == "" || !cacheWord(i.Algorithm) || strings.ContainsAny(i.Algorithm, "\n\r "):
			t.Fatalf("accepted name %q, algorithm %q", i.Name, i.Algorithm)
		case i.Statistics < calib.AbsHistogram || i.Statistics > calib.Raw:
			t.Fatalf("accepted statistics %d", i.Statistics)
		case histogram && (i.Bins < 1 || i.Bins > MaxBins):
			t.Fatalf("accepted %d bins", i.Bins)
		}
	})
}

func FuzzRangesReply(f *testing.F) {
	for _, r := range []*pb.CalibrateResponse{
		{Ranges: []*pb.TensorRange{{Name: "conv1", Amax: 1.5, Curve: []float64{3, 2, math.Inf(1)}, Chosen: 130}, {Name: "prob", Amax: 1}}},
		{Ranges: []*pb.TensorRange{{Name: "a", Amax: float32(math.NaN())}}},
		{Ranges: []*pb.TensorRange{{Name: "a", Amax: -1}, {Name: "", Amax: 2, Chosen: -4}}},
	} {
		b, _ := proto.Marshal(r)
		f.Add(b, uint8(len(r.Ranges)))
	}
	f.Fuzz(func(t *testing.T, data []byte, tensors uint8) {
		var resp pb.CalibrateResponse
		if proto.Unmarshal(data, &resp) != nil {
			return
		}
		ranges, err := RangesFromProto(&resp, int(tensors))
		if err != nil {
			return
		}
		if len(ranges) != int(tensors) {
			t.Fatalf("%d ranges accepted for %d tensors", len(ranges), tensors)
		}
		for _, r := range ranges {
			a := float64(r.Amax)
			if r.Name == "" || math.IsNaN(a) || math.IsInf(a, 0) || a < 0 || r.Chosen < 0 || len(r.Curve) > MaxCurve {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}

// Each kind of unusable reply is refused with an error that says what is
// wrong.
func TestRepliesChecked(t *testing.T) {
	good := func() *pb.InfoResponse {
		return &pb.InfoResponse{Name: "x", Algorithm: "EntropyCalibration2", Statistics: pb.StatisticsKind(calib.AbsHistogram), Bins: 2048}
	}
	if _, err := InfoFromProto(good()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit func(*pb.InfoResponse)
		want string
	}{
		{func(r *pb.InfoResponse) { r.Name = "" }, "no name"},
		{func(r *pb.InfoResponse) { r.Algorithm = "Entropy\nCalibration" }, "algorithm name"},
		{func(r *pb.InfoResponse) { r.Algorithm = "" }, "algorithm name"},
		{func(r *pb.InfoResponse) { r.Statistics = 9 }, "unknown statistics kind 9"},
		{func(r *pb.InfoResponse) { r.Bins = 0 }, "0 bins"},
		{func(r *pb.InfoResponse) { r.Bins = MaxBins + 1 }, "bins"},
		{func(r *pb.InfoResponse) { r.Description = strings.Repeat("x", MaxTextBytes+1) }, "description longer"},
		{func(r *pb.InfoResponse) { r.Options = []*pb.Option{{Name: "a"}, {Name: "a"}} }, `option "a" listed twice`},
		{func(r *pb.InfoResponse) { r.Options = []*pb.Option{{}} }, "an option named"},
	} {
		r := good()
		tc.edit(r)
		if _, err := InfoFromProto(r); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
	for _, tc := range []struct {
		ranges []*pb.TensorRange
		want   string
	}{
		{[]*pb.TensorRange{{Name: "a", Amax: 1}, {Name: "b", Amax: 1}}, "answered 2 ranges for 1 tensors"},
		{[]*pb.TensorRange{{Name: "a", Amax: float32(math.Inf(1))}}, "not a finite non-negative number"},
		{[]*pb.TensorRange{{Name: "a", Amax: -0.5}}, "not a finite non-negative number"},
		{[]*pb.TensorRange{{Amax: 1}}, "a tensor named"},
		{[]*pb.TensorRange{nil}, "a tensor named"},
		{[]*pb.TensorRange{{Name: "a", Amax: 1, Chosen: -1}}, "chosen candidate -1"},
	} {
		if _, err := RangesFromProto(&pb.CalibrateResponse{Ranges: tc.ranges}, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.ranges, err, tc.want)
		}
	}
}
