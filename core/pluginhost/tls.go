package pluginhost

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// clientCertEnv is where a go-plugin plugin finds the host's certificate,
// the root it verifies the host's connection against.
const clientCertEnv = "PLUGIN_CLIENT_CERT"

// hostTLS makes the host's side of mutual TLS with one plugin: a fresh
// self-signed certificate, the TLS configuration presenting it, and its
// PEM for clientCertEnv. It is go-plugin's AutoMTLS (mtls.go
// generateCert) with a P-256 key instead of P-521: BoringSSL, the TLS of
// grpcio and so of every Python plugin, does not accept P-521 signatures,
// and a plugin could then not verify the host at all. The plugin's
// certificate, from its handshake line, becomes the configuration's root
// when go-plugin reads that line (client.go loadServerCert).
func hostTLS() (*tls.Config, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("making the host's TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, "", fmt.Errorf("making the host's TLS certificate: %w", err)
	}
	now := time.Now()
	template := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"int8cal"}},
		DNSNames:              []string{"localhost"},
		SerialNumber:          serial,
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour), // outlives any run
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // the plugin takes it as its root
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		return nil, "", fmt.Errorf("making the host's TLS certificate: %w", err)
	}
	config := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
		ServerName:   "localhost",
	}
	return config, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}
