package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/calibtable"
	"github.com/int8cal/int8cal/core/session"
)

// TableAsGiven reads a table, checks it against the loaded model and
// writes nothing; a table of another model, an unusable scale or a model
// not yet loaded is an error naming the file.
func TestTableAsGiven(t *testing.T) {
	p := lenet(t, Backend{})
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good", lenetTable+"other: 3c010204\n")
	if _, err := p.TableAsGiven(good); err == nil || !strings.Contains(err.Error(), "Prepare first") {
		t.Errorf("before the model is loaded: %v", err)
	}
	data, err := p.OpenData(Data{Role: EvaluationRole, Split: Test})
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	if _, err := p.Prepare(data, session.ScoreConfig{Batch: 10, Batches: 1}); err != nil {
		t.Fatal(err)
	}
	cal, err := p.TableAsGiven(good)
	if err != nil {
		t.Fatal(err)
	}
	if s := cal.Scales(); len(s) != 11 || s["conv1"] == 0 || !cal.Reused() || cal.Cache != good {
		t.Errorf("scales %v, reused %v, cache %s", s, cal.Reused(), cal.Cache)
	}
	for _, tc := range []struct{ name, text, want string }{
		{"foreign", "TRT-8601-EntropyCalibration2\nfoo: 3c010204\n", "the table was made for another model"},
		{"zero", "TRT-8601-EntropyCalibration2\ndata: 00000000\n", "zero"},
	} {
		path := write(tc.name, tc.text)
		if _, err := p.TableAsGiven(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error naming %s with %q", tc.name, err, path, tc.want)
		}
	}
	if _, err := os.Stat(calibtable.SidecarPath(good)); err == nil {
		t.Error("a sidecar was written")
	}
}
