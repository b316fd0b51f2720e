package calibratorrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/int8cal/int8cal/calib"
	pb "github.com/int8cal/int8cal/internal/proto/calibratorv1"
)

// ProtocolVersion is the go-plugin protocol version of
// int8cal.calibrator.v1.
const ProtocolVersion = 1

// PluginName is the name under which the calibrator is dispensed.
const PluginName = "calibrator"

// Handshake is shared by host and plugins. The cookie keeps a plugin binary
// from being run by hand by mistake (it then says so and exits).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "INT8CAL_PLUGIN_COOKIE",
	MagicCookieValue: "int8cal-calibrator-c0ffee",
}

// MaxMessageSize bounds one gRPC message on both sides. Chunking keeps real
// messages far below it; the bound only has to exceed gRPC's 4 MiB default
// with a margin.
const MaxMessageSize = 64 << 20

// ChunkValues is the most histogram counts or raw values in one chunk
// (1 MiB of float32, 2 MiB of uint64).
const ChunkValues = 256 << 10

// Plugins returns the versioned plugin sets: the host offers every version
// it speaks, and go-plugin picks the highest the plugin serves too.
func Plugins(impl calib.Calibrator) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &Plugin{Impl: impl}},
	}
}

// ServerOptions are the gRPC server options a plugin serves with.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize)}
}

// DialOptions are the gRPC dial options the host connects with.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize))}
}

// Plugin is the go-plugin glue for calibrators (gRPC only).
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl calib.Calibrator // set on the plugin side
}

// GRPCServer registers the implementation (plugin side).
func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterCalibratorServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient returns a *Client (host side).
func (p *Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Client{rpc: pb.NewCalibratorClient(c)}, nil
}

type server struct {
	pb.UnimplementedCalibratorServer
	impl calib.Calibrator
}

func (s *server) Info(context.Context, *pb.InfoRequest) (*pb.InfoResponse, error) {
	return infoToProto(s.impl.Info()), nil
}

func (s *server) Configure(_ context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	if err := s.impl.Configure(req.Options); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &pb.ConfigureResponse{}, nil
}

func (s *server) Calibrate(stream pb.Calibrator_CalibrateServer) error {
	var stats []calib.TensorStats
	kind := s.impl.Info().Statistics
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := addChunk(&stats, chunk, kind); err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
	}
	for i := range stats {
		if err := complete(&stats[i]); err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
	}
	ranges, err := s.impl.Calibrate(stream.Context(), stats)
	if err != nil {
		return status.Error(codes.Unknown, err.Error())
	}
	resp := &pb.CalibrateResponse{Ranges: make([]*pb.TensorRange, len(ranges))}
	for i, r := range ranges {
		resp.Ranges[i] = &pb.TensorRange{Name: r.Name, Amax: r.Amax, Curve: r.Curve, Chosen: int32(r.Chosen)}
	}
	return stream.SendAndClose(resp)
}

// addChunk folds one chunk into the statistics being received.
func addChunk(stats *[]calib.TensorStats, chunk *pb.CalibrateChunk, kind calib.StatisticsKind) error {
	switch part := chunk.Part.(type) {
	case *pb.CalibrateChunk_Header:
		h := part.Header
		s := calib.TensorStats{Name: h.Name, Count: h.Count, Min: h.Min, Max: h.Max}
		if h.HistogramBins > 0 {
			if h.HistogramBins > 1<<24 {
				return fmt.Errorf("tensor %q: %d histogram bins is more than supported", h.Name, h.HistogramBins)
			}
			s.Histogram = &calib.Histogram{Range: h.HistogramRange, Signed: kind == calib.SignedHistogram, Counts: make([]uint64, 0, h.HistogramBins)}
		}
		if h.RawCount > 0 {
			if h.RawCount > 1<<31 {
				return fmt.Errorf("tensor %q: %d raw values is more than supported", h.Name, h.RawCount)
			}
			s.Values = make([]float32, 0, h.RawCount)
		}
		*stats = append(*stats, s)
	case *pb.CalibrateChunk_Bins:
		if len(*stats) == 0 || (*stats)[len(*stats)-1].Histogram == nil {
			return errors.New("histogram counts arrived before a header announcing them")
		}
		h := (*stats)[len(*stats)-1].Histogram
		if len(h.Counts)+len(part.Bins.Counts) > cap(h.Counts) {
			return fmt.Errorf("tensor %q: more histogram counts than announced", (*stats)[len(*stats)-1].Name)
		}
		h.Counts = append(h.Counts, part.Bins.Counts...)
	case *pb.CalibrateChunk_Values:
		last := len(*stats) - 1
		if last < 0 || cap((*stats)[last].Values) == 0 {
			return errors.New("raw values arrived before a header announcing them")
		}
		if len((*stats)[last].Values)+len(part.Values.Values) > cap((*stats)[last].Values) {
			return fmt.Errorf("tensor %q: more raw values than announced", (*stats)[last].Name)
		}
		(*stats)[last].Values = append((*stats)[last].Values, part.Values.Values...)
	default:
		return errors.New("empty chunk")
	}
	return nil
}

func complete(s *calib.TensorStats) error {
	if s.Histogram != nil && len(s.Histogram.Counts) != cap(s.Histogram.Counts) {
		return fmt.Errorf("tensor %q: %d histogram counts received, %d announced", s.Name, len(s.Histogram.Counts), cap(s.Histogram.Counts))
	}
	if len(s.Values) != cap(s.Values) {
		return fmt.Errorf("tensor %q: %d raw values received, %d announced", s.Name, len(s.Values), cap(s.Values))
	}
	return nil
}

// Client is the host's view of a calibrator plugin. Every call takes a
// context; the host puts a deadline on each.
type Client struct {
	rpc pb.CalibratorClient
}

// Info asks the plugin to describe itself.
func (c *Client) Info(ctx context.Context) (calib.Info, error) {
	resp, err := c.rpc.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return calib.Info{}, err
	}
	return InfoFromProto(resp)
}

// Configure sets options.
func (c *Client) Configure(ctx context.Context, options map[string]string) error {
	_, err := c.rpc.Configure(ctx, &pb.ConfigureRequest{Options: options})
	if s, ok := status.FromError(err); ok && s.Code() == codes.InvalidArgument {
		return errors.New(s.Message())
	}
	return err
}

// Calibrate streams the statistics and returns the plugin's ranges.
func (c *Client) Calibrate(ctx context.Context, stats []calib.TensorStats) ([]calib.Range, error) {
	stream, err := c.rpc.Calibrate(ctx)
	if err != nil {
		return nil, err
	}
	for i := range stats {
		if err := sendTensor(stream, &stats[i]); err != nil {
			// The server's own error explains a broken stream best.
			if _, rerr := stream.CloseAndRecv(); rerr != nil {
				return nil, rerr
			}
			return nil, err
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	return RangesFromProto(resp, len(stats))
}

func sendTensor(stream pb.Calibrator_CalibrateClient, s *calib.TensorStats) error {
	h := &pb.TensorHeader{Name: s.Name, Count: s.Count, Min: s.Min, Max: s.Max, RawCount: uint64(len(s.Values))}
	if s.Histogram != nil {
		h.HistogramRange = s.Histogram.Range
		h.HistogramBins = int32(len(s.Histogram.Counts))
	}
	if err := stream.Send(&pb.CalibrateChunk{Part: &pb.CalibrateChunk_Header{Header: h}}); err != nil {
		return err
	}
	if s.Histogram != nil {
		for c := s.Histogram.Counts; len(c) > 0; {
			n := min(len(c), ChunkValues)
			if err := stream.Send(&pb.CalibrateChunk{Part: &pb.CalibrateChunk_Bins{Bins: &pb.BinCounts{Counts: c[:n]}}}); err != nil {
				return err
			}
			c = c[n:]
		}
	}
	for v := s.Values; len(v) > 0; {
		n := min(len(v), ChunkValues)
		if err := stream.Send(&pb.CalibrateChunk{Part: &pb.CalibrateChunk_Values{Values: &pb.RawValues{Values: v[:n]}}}); err != nil {
			return err
		}
		v = v[n:]
	}
	return nil
}

func infoToProto(i calib.Info) *pb.InfoResponse {
	r := &pb.InfoResponse{
		Name: i.Name, Version: i.Version, Algorithm: i.Algorithm, Description: i.Description,
		Statistics: pb.StatisticsKind(i.Statistics), Bins: int32(min(i.Bins, math.MaxInt32)),
	}
	for _, o := range i.Options {
		r.Options = append(r.Options, &pb.Option{Name: o.Name, DefaultValue: o.Default, Description: o.Description})
	}
	return r
}

// Bounds on what a plugin may answer: texts, options, histogram bins and
// the length of a range's diagnostic curve.
const (
	MaxNameBytes = 256
	MaxTextBytes = 64 << 10
	MaxOptions   = 1024
	MaxBins      = 1 << 20
	MaxCurve     = 1 << 20
)

// InfoFromProto reads a plugin's Info reply, refusing what the host cannot
// use: no name, an algorithm name that cannot go in a cache header (it
// must be letters, digits and _.-), an unknown statistics kind, a
// histogram of no or too many bins, too long texts, unnamed or repeated
// options.
func InfoFromProto(r *pb.InfoResponse) (calib.Info, error) {
	i := calib.Info{
		Name: r.Name, Version: r.Version, Algorithm: r.Algorithm, Description: r.Description,
		Statistics: calib.StatisticsKind(r.Statistics), Bins: int(r.Bins),
	}
	switch {
	case i.Name == "":
		return calib.Info{}, errors.New("Info: no name")
	case len(i.Name) > MaxNameBytes || len(i.Version) > MaxNameBytes:
		return calib.Info{}, fmt.Errorf("Info: name or version longer than %d bytes", MaxNameBytes)
	case !cacheWord(i.Algorithm):
		return calib.Info{}, fmt.Errorf("Info: algorithm name %q for the cache header is not 1 to 64 letters, digits and _.-", trim(i.Algorithm))
	case i.Statistics < calib.AbsHistogram || i.Statistics > calib.Raw:
		return calib.Info{}, fmt.Errorf("Info: unknown statistics kind %d", int(i.Statistics))
	case (i.Statistics == calib.AbsHistogram || i.Statistics == calib.SignedHistogram) && (i.Bins < 1 || i.Bins > MaxBins):
		return calib.Info{}, fmt.Errorf("Info: a histogram of %d bins (want 1 to %d)", i.Bins, MaxBins)
	case len(i.Description) > MaxTextBytes:
		return calib.Info{}, fmt.Errorf("Info: description longer than %d bytes", MaxTextBytes)
	case len(r.Options) > MaxOptions:
		return calib.Info{}, fmt.Errorf("Info: %d options (at most %d)", len(r.Options), MaxOptions)
	}
	seen := map[string]bool{}
	for _, o := range r.Options {
		switch {
		case o.Name == "" || len(o.Name) > MaxNameBytes:
			return calib.Info{}, fmt.Errorf("Info: an option named %q", trim(o.Name))
		case seen[o.Name]:
			return calib.Info{}, fmt.Errorf("Info: option %q listed twice", trim(o.Name))
		case len(o.DefaultValue)+len(o.Description) > MaxTextBytes:
			return calib.Info{}, fmt.Errorf("Info: option %q: texts longer than %d bytes", trim(o.Name), MaxTextBytes)
		}
		seen[o.Name] = true
		i.Options = append(i.Options, calib.Option{Name: o.Name, Default: o.DefaultValue, Description: o.Description})
	}
	return i, nil
}

// RangesFromProto reads a plugin's Calibrate reply to a request for
// tensors tensors: one range each, named, with a finite non-negative
// amax, a curve of at most MaxCurve values and a non-negative chosen
// candidate. Names are checked against the request by the caller.
func RangesFromProto(resp *pb.CalibrateResponse, tensors int) ([]calib.Range, error) {
	if len(resp.Ranges) != tensors {
		return nil, fmt.Errorf("answered %d ranges for %d tensors", len(resp.Ranges), tensors)
	}
	out := make([]calib.Range, len(resp.Ranges))
	for i, r := range resp.Ranges {
		if r == nil {
			r = &pb.TensorRange{}
		}
		switch {
		case r.Name == "" || len(r.Name) > MaxTextBytes:
			return nil, fmt.Errorf("range %d: a tensor named %q", i, trim(r.Name))
		case math.IsNaN(float64(r.Amax)) || math.IsInf(float64(r.Amax), 0) || r.Amax < 0:
			return nil, fmt.Errorf("tensor %q: amax %v is not a finite non-negative number", trim(r.Name), r.Amax)
		case len(r.Curve) > MaxCurve:
			return nil, fmt.Errorf("tensor %q: a curve of %d values (at most %d)", trim(r.Name), len(r.Curve), MaxCurve)
		case r.Chosen < 0:
			return nil, fmt.Errorf("tensor %q: chosen candidate %d", trim(r.Name), r.Chosen)
		}
		out[i] = calib.Range{Name: r.Name, Amax: r.Amax, Curve: r.Curve, Chosen: int(r.Chosen)}
	}
	return out, nil
}

// cacheWord reports whether s can stand in a calibration cache header.
func cacheWord(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// trim shortens plugin-provided text quoted in an error (which the host
// cleans further before showing it).
func trim(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
