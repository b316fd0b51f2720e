package pipeline

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/int8cal/int8cal/core/pluginhost"
)

// Calibrator is one calibrator of a comparison: a plugin and its own
// options, which override the comparison's Calibration.Options.
type Calibrator struct {
	Name    string
	Options map[string]string
}

// ParseCalibrators parses --calibrators: comma-separated specs, each a
// plugin name with options after colons, NAME[:KEY=VALUE...], e.g.
// "entropy2,legacy:quantile=0.999,legacy:quantile=0.9999".
func ParseCalibrators(s string) ([]Calibrator, error) {
	var out []Calibrator
	for _, spec := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(spec), ":")
		c := Calibrator{Name: parts[0], Options: map[string]string{}}
		if c.Name == "" {
			return nil, fmt.Errorf("--calibrators %q: an empty calibrator name; want NAME[:KEY=VALUE...], comma-separated", s)
		}
		for _, kv := range parts[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("--calibrators: %q in %q is not KEY=VALUE; want NAME[:KEY=VALUE...], e.g. legacy:quantile=0.999", kv, spec)
			}
			if _, dup := c.Options[k]; dup {
				return nil, fmt.Errorf("--calibrators: option %s given twice in %q", k, spec)
			}
			c.Options[k] = v
		}
		out = append(out, c)
	}
	return out, nil
}

// String is the spec with its options in key order: its row's name.
func (c Calibrator) String() string { return c.join(":") }

// join is the name and each KEY=VALUE in key order, separated by sep.
func (c Calibrator) join(sep string) string {
	s := c.Name
	for _, k := range slices.Sorted(maps.Keys(c.Options)) {
		s += sep + k + "=" + c.Options[k]
	}
	return s
}

// options are base (--calibrator-opt) with c's own options over them.
func (c Calibrator) options(base map[string]string) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, c.Options)
	return out
}

// ComparisonCache is the table Compare keeps for the calibrator:
// <the calibration's cache>.<name>[-KEY=VALUE...], one per spec, so that
// reruns reuse it. Path separators in values become '_'.
func (p *Pipeline) ComparisonCache(c Calibration, cal Calibrator) string {
	return p.CachePath(c) + "." + strings.NewReplacer("/", "_", `\`, "_").Replace(cal.join("-"))
}

// CheckCalibrators checks, before any work, that each calibrator exists
// and takes its options (with c.Options): each plugin is started and
// configured, so that its own checks of the values run too; when TensorRT
// calibrates, TensorRT's calibrator of the name must take them.
func (p *Pipeline) CheckCalibrators(c Calibration, cals []Calibrator) error {
	for _, cal := range cals {
		run := c
		run.Calibrator, run.Options = cal.Name, cal.options(c.Options)
		if err := p.checkCalibrator(run); err != nil {
			return fmt.Errorf("--calibrators %s: %w", cal, err)
		}
	}
	return nil
}

func (p *Pipeline) checkCalibrator(c Calibration) error {
	if p.tensorrtCalibrates() {
		_, err := p.newTRTCalibration(c, "")
		return err
	}
	found, err := p.findPlugin(pluginhost.CalibratorKind, c.Calibrator)
	if err != nil {
		return err
	}
	cal, err := pluginhost.StartCalibrator(found, p.log)
	if err != nil {
		return err
	}
	defer cal.Close()
	return cal.Configure(c.Options)
}
