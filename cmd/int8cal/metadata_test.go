package main

import (
	"path/filepath"
	"testing"
)

// checkMetadata fails t unless m names LeNet by its hash, the MNIST test
// split, table and this build.
func checkMetadata(t *testing.T, m *metadata, table string) {
	t.Helper()
	if m == nil || m.Model != filepath.Join(dataDir, "lenet.onnx") || len(m.ModelSHA256) != 64 || m.Table != table || m.Backend != "cpu" ||
		m.Data["evaluation"].Split != "t10k" || m.Data["evaluation"].Opened == "" || m.Version == "" || m.GoVersion == "" || m.Platform == "" {
		t.Errorf("metadata: %+v", m)
	}
}
