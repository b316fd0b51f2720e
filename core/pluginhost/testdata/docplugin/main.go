// Command docplugin is a calibrator written from docs/protocol.md alone,
// as a plugin in another language would be: plain gRPC and crypto/tls,
// none of go-plugin's server code and no SDK. It serves only what the
// document calls required (the calibrator service and
// plugin.GRPCController), with a certificate that is not a CA's, and
// checks the host's certificate by comparing bytes, as a TLS stack that
// refuses CA certificates as end-entity ones must. TestPluginFromProtocolDoc
// starts it through the host.
//
// Its calibrator answers amax = max(|min|, |max|) from min-max statistics.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	pb "github.com/int8cal/int8cal/internal/proto/calibratorv1"
)

func main() {
	// Start: the cookie, then the version.
	if os.Getenv("INT8CAL_PLUGIN_COOKIE") != "int8cal-calibrator-c0ffee" {
		fmt.Fprintln(os.Stderr, "This program is an int8cal calibrator plugin: int8cal starts it.")
		os.Exit(1)
	}
	if !slices.Contains(strings.Split(os.Getenv("PLUGIN_PROTOCOL_VERSIONS"), ","), "1") {
		fail(fmt.Errorf("the host offers protocol versions %q; this plugin speaks 1", os.Getenv("PLUGIN_PROTOCOL_VERSIONS")))
	}

	// TLS: a fresh self-signed certificate for localhost; the host's
	// certificate compared byte for byte.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fail(err)
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "fromdoc"},
		DNSNames:     []string{"localhost"},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		fail(err)
	}
	hostCert, _ := pem.Decode([]byte(os.Getenv("PLUGIN_CLIENT_CERT")))
	if hostCert == nil {
		fail(errors.New("PLUGIN_CLIENT_CERT holds no PEM certificate"))
	}
	config := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
		ClientAuth:   tls.RequireAnyClientCert,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !bytes.Equal(raw[0], hostCert.Bytes) {
				return errors.New("not the certificate of the host that started this plugin")
			}
			return nil
		},
	}

	// Services: the calibrator and the controller, nothing else.
	path := filepath.Join(os.Getenv("PLUGIN_UNIX_SOCKET_DIR"), "fromdoc.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		fail(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(config))) // ALPN h2 included
	pb.RegisterCalibratorServer(srv, calibrator{})
	srv.RegisterService(&controller, func() {
		// After the reply has left; Stop if something holds on.
		done := make(chan struct{})
		go func() { srv.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Second):
			srv.Stop()
		}
	})

	logJSON("info", "serving", "socket", path)
	fmt.Printf("1|1|unix|%s|grpc|%s\n", path, base64.RawStdEncoding.EncodeToString(der))
	if err := srv.Serve(l); err != nil {
		fail(err)
	}
}

// hangShutdownEnv, set to anything, makes Shutdown never answer: the
// host's test of a plugin that hangs on its way out.
const hangShutdownEnv = "INT8CAL_TEST_HANG_SHUTDOWN"

// controller is plugin.GRPCController, written out: its Empty message is
// wire-identical to google.protobuf.Empty.
var controller = grpc.ServiceDesc{
	ServiceName: "plugin.GRPCController",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Shutdown",
		Handler: func(srv any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			if err := dec(new(emptypb.Empty)); err != nil {
				return nil, err
			}
			if os.Getenv(hangShutdownEnv) != "" {
				select {} // a plugin that never answers Shutdown, for the host's test
			}
			go srv.(func())()
			return new(emptypb.Empty), nil
		},
	}},
}

type calibrator struct {
	pb.UnimplementedCalibratorServer
}

func (calibrator) Info(context.Context, *pb.InfoRequest) (*pb.InfoResponse, error) {
	return &pb.InfoResponse{
		Name: "fromdoc", Version: "0.1.0", Algorithm: "FromDoc", Description: "amax = max |x|, from docs/protocol.md",
		Statistics: pb.StatisticsKind_STATISTICS_KIND_MIN_MAX,
		Options:    []*pb.Option{{Name: "scale", DefaultValue: "1", Description: "multiplies amax"}},
	}, nil
}

func (calibrator) Configure(_ context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	if v, ok := req.Options["scale"]; ok && v != "1" {
		return nil, status.Errorf(codes.InvalidArgument, "option scale=%q: only 1 is implemented", v)
	}
	return &pb.ConfigureResponse{}, nil
}

func (calibrator) Calibrate(stream pb.Calibrator_CalibrateServer) error {
	var resp pb.CalibrateResponse
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&resp)
		}
		if err != nil {
			return err
		}
		h := chunk.GetHeader()
		if h == nil {
			return status.Error(codes.InvalidArgument, "min-max statistics come as headers only")
		}
		amax := math.Max(math.Abs(float64(h.Min)), math.Abs(float64(h.Max)))
		resp.Ranges = append(resp.Ranges, &pb.TensorRange{Name: h.Name, Amax: float32(amax)})
	}
}

// logJSON writes one log line as the host reads them.
func logJSON(level, msg string, kv ...string) {
	entry := map[string]string{"@level": level, "@message": msg, "@timestamp": time.Now().Format("2006-01-02T15:04:05.000000Z07:00")}
	for i := 0; i+1 < len(kv); i += 2 {
		entry[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(entry)
	os.Stderr.Write(append(b, '\n'))
}

func fail(err error) {
	logJSON("error", "cannot serve", "error", err.Error())
	os.Exit(1)
}
