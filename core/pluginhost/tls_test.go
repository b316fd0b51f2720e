package pluginhost

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"testing"
)

// The host's certificate is one a plugin's TLS can verify as a client's:
// P-256 (BoringSSL, hence grpcio, refuses go-plugin's P-521), for
// localhost, its own root, usable for client authentication; and the PEM
// plugins get is the certificate the host presents.
func TestHostTLS(t *testing.T) {
	config, certPEM, err := hostTLS()
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode([]byte(certPEM))
	if block == nil || block.Type != "CERTIFICATE" || len(rest) != 0 {
		t.Fatalf("%s=%q is not one PEM certificate", clientCertEnv, certPEM)
	}
	if got := config.Certificates[0].Certificate[0]; string(got) != string(block.Bytes) {
		t.Fatal("the certificate presented is not the one given to the plugin")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if key, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || key.Curve != elliptic.P256() {
		t.Errorf("key %T, want ECDSA P-256", cert.PublicKey)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "localhost", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("a plugin cannot verify the host's certificate: %v", err)
	}
	if _, again, _ := hostTLS(); again == certPEM {
		t.Error("two plugins got the same certificate")
	}
}
