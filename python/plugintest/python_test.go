package plugintest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestPythonUnitTests runs the SDK's own unit tests (python/tests).
func TestPythonUnitTests(t *testing.T) {
	py := python(t)
	cmd := exec.Command(py, "-m", "unittest", "discover", "-v", "-s", filepath.Join(repoRoot(t), "python", "tests"))
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python -m unittest: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestCertificate checks the SDK's hand-made certificate with Go's
// crypto/x509 and crypto/tls, as go-plugin's host uses them: it parses,
// its key matches, it verifies as its own root for "localhost" with
// server and client authentication, and the handshake line's encoding of
// it is base64.RawStdEncoding.
func TestCertificate(t *testing.T) {
	py := python(t)
	script := `import json, int8cal_plugin._x509 as x
c = x.generate()
print(json.dumps({"cert": c.cert_pem.decode(), "key": c.key_pem.decode(), "line": c.handshake_text()}))`
	for range 5 { // fresh keys and serial numbers each time
		out, err := exec.Command(py, "-c", script).Output()
		if err != nil {
			t.Fatalf("generating a certificate: %v", err)
		}
		var got struct{ Cert, Key, Line string }
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if _, err := tls.X509KeyPair([]byte(got.Cert), []byte(got.Key)); err != nil {
			t.Fatalf("tls.X509KeyPair: %v", err)
		}
		block, _ := pem.Decode([]byte(got.Cert))
		der, err := base64.RawStdEncoding.DecodeString(got.Line)
		if err != nil || string(der) != string(block.Bytes) {
			t.Fatalf("the handshake's certificate is not the PEM's in base64.RawStdEncoding: %v", err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("x509.ParseCertificate: %v", err)
		}
		if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 || cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
			t.Errorf("IsCA %v, key usage %b; want a CA that signs certificates and handshakes", cert.IsCA, cert.KeyUsage)
		}
		if cert.NotBefore.After(time.Now()) || cert.NotAfter.Before(time.Now().AddDate(1, 0, 0)) {
			t.Errorf("valid from %v to %v", cert.NotBefore, cert.NotAfter)
		}
		roots := x509.NewCertPool()
		roots.AddCert(cert)
		_, err = cert.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: roots,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}})
		if err != nil {
			t.Errorf("Verify: %v", err)
		}
		if err := cert.CheckSignatureFrom(cert); err != nil {
			t.Errorf("self-signature: %v", err)
		}
	}
}
