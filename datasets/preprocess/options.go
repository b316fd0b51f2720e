package preprocess

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Option documents one option Parse accepts. Its fields are those of
// dataset.Option, so a plugin can convert one into the other.
type Option struct {
	Name        string
	Default     string // "" where unset means "none"
	Description string
}

// Options lists the options Parse accepts, sorted by name, for a plugin's
// declared options and help text.
var Options = []Option{
	{"channels", "rgb", "channel order the network expects: rgb or bgr"},
	{"crop", "", "center crop after resize: N (square) or HxW in pixels, e.g. 224 or 224x224; 0 or unset = none"},
	{"layout", "nchw", "memory layout of a sample: nchw or nhwc"},
	{"mean", "", "per-channel mean subtracted after scaling, in RGB order: one number for all channels or one per channel, e.g. 0.485,0.456,0.406"},
	{"resize", "", "shorter side in pixels after a bilinear resize keeping the aspect ratio, e.g. 256; 0 or unset = none"},
	{"scale", "", "factor applied to raw 0..255 values, a number or a fraction: 0.00392156862745098 or 1/255; unset = 1"},
	{"std", "", "per-channel divisor applied after the mean, in RGB order: one number or one per channel, e.g. 0.229,0.224,0.225"},
}

func optionNames() string {
	names := make([]string, len(Options))
	for i, o := range Options {
		names[i] = o.Name
	}
	return strings.Join(names, ", ")
}

// IsOption reports whether name is one of the options Parse accepts.
func IsOption(name string) bool {
	return slices.ContainsFunc(Options, func(o Option) bool { return o.Name == name })
}

// Split separates the options Parse accepts from the rest, so that a
// plugin can hand the first to Parse and check the others itself.
func Split(options map[string]string) (pre, rest map[string]string) {
	pre, rest = map[string]string{}, map[string]string{}
	for k, v := range options {
		if IsOption(k) {
			pre[k] = v
		} else {
			rest[k] = v
		}
	}
	return pre, rest
}

// Parse reads a Spec from string options (see Options); unset options keep
// the zero Spec's values (identity, NCHW, RGB). An unknown option or a bad
// value is an error naming it and the accepted forms: "preprocess: option
// crop=22a: want ...". Checks that need the channel count (the number of
// mean and std values) are left to Spec.Validate.
func Parse(options map[string]string) (Spec, error) {
	var s Spec
	for _, k := range slices.Sorted(maps.Keys(options)) { // the same error whatever the map order
		if !IsOption(k) {
			return Spec{}, fmt.Errorf("preprocess: unknown option %q (options: %s)", k, optionNames())
		}
		if err := s.Set(k, options[k]); err != nil {
			return Spec{}, fmt.Errorf("preprocess: option %s=%s: %v", k, options[k], err)
		}
	}
	return s, nil
}

// Set sets one option (see Options) from its string value, for plugins
// that parse their options one at a time (dataset.ParseOptions). Values are
// case-insensitive and may be surrounded by spaces. The error says what
// would be accepted, without naming the option, which the caller adds.
func (s *Spec) Set(name, value string) error {
	v := strings.TrimSpace(value)
	t := *s // changed only on success
	var err error
	switch name {
	case "scale":
		t.Scale, err = parseScale(v)
	case "mean":
		t.Mean, err = parseList(v, false)
	case "std":
		t.Std, err = parseList(v, true)
	case "layout":
		switch strings.ToLower(v) {
		case "nchw":
			t.Layout = NCHW
		case "nhwc":
			t.Layout = NHWC
		default:
			err = fmt.Errorf("want nchw or nhwc")
		}
	case "channels":
		switch strings.ToLower(v) {
		case "rgb":
			t.Order = RGB
		case "bgr":
			t.Order = BGR
		default:
			err = fmt.Errorf("want rgb or bgr")
		}
	case "resize":
		t.Resize, err = parseSide(v)
		if err != nil {
			err = fmt.Errorf("want the shorter side in pixels, an integer in [0, %d] (0 = no resize), e.g. resize=256", MaxSide)
		}
	case "crop":
		t.CenterCrop, err = parseCrop(v)
	default:
		err = fmt.Errorf("not a preprocessing option (options: %s)", optionNames())
	}
	if err != nil {
		return err
	}
	*s = t
	return nil
}

func parseScale(v string) (float32, error) {
	bad := fmt.Errorf("want a non-zero finite number or fraction, e.g. scale=0.00392156862745098 or scale=1/255")
	var f float64
	if num, den, ok := strings.Cut(v, "/"); ok {
		a, err1 := strconv.ParseFloat(strings.TrimSpace(num), 64)
		b, err2 := strconv.ParseFloat(strings.TrimSpace(den), 64)
		if err1 != nil || err2 != nil || b == 0 {
			return 0, bad
		}
		f = a / b
	} else {
		var err error
		if f, err = strconv.ParseFloat(v, 32); err != nil {
			return 0, bad
		}
	}
	f32 := float32(f)
	if f32 == 0 || math.IsNaN(float64(f32)) || math.IsInf(float64(f32), 0) {
		return 0, bad
	}
	return f32, nil
}

func parseList(v string, positive bool) ([]float32, error) {
	example := "mean=0.485,0.456,0.406 or mean=127.5"
	if positive {
		example = "std=0.229,0.224,0.225 or std=127.5"
	}
	parts := strings.Split(v, ",")
	out := make([]float32, len(parts))
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || (positive && !(f > 0)) {
			what := "finite numbers"
			if positive {
				what = "positive numbers"
			}
			return nil, fmt.Errorf("value %d (%q): want %s separated by commas, one for all channels or one per channel in RGB order, e.g. %s",
				i+1, strings.TrimSpace(p), what, example)
		}
		out[i] = float32(f)
	}
	return out, nil
}

func parseSide(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > MaxSide {
		return 0, fmt.Errorf("bad size")
	}
	return n, nil
}

func parseCrop(v string) ([2]int, error) {
	bad := fmt.Errorf("want N or HxW, integers in [0, %d] (0 = no crop), e.g. crop=224 or crop=224x224", MaxSide)
	h, w, ok := strings.Cut(strings.ToLower(v), "x")
	if !ok {
		w = h
	}
	hn, err1 := parseSide(strings.TrimSpace(h))
	wn, err2 := parseSide(strings.TrimSpace(w))
	if err1 != nil || err2 != nil {
		return [2]int{}, bad
	}
	return [2]int{hn, wn}, nil
}

// Options returns the options that Parse turns back into s, leaving out
// those at their defaults. Numbers are written with the fewest digits that
// read back to the same float32.
func (s Spec) Options() map[string]string {
	m := map[string]string{}
	if s.Scale != 0 && s.Scale != 1 {
		m["scale"] = formatFloat(s.Scale)
	}
	if len(s.Mean) > 0 {
		m["mean"] = formatList(s.Mean)
	}
	if len(s.Std) > 0 {
		m["std"] = formatList(s.Std)
	}
	if s.Layout != NCHW {
		m["layout"] = s.Layout.String()
	}
	if s.Order != RGB {
		m["channels"] = s.Order.String()
	}
	if s.Resize != 0 {
		m["resize"] = strconv.Itoa(s.Resize)
	}
	if h, w := s.CenterCrop[0], s.CenterCrop[1]; h != 0 || w != 0 {
		if h == w {
			m["crop"] = strconv.Itoa(h)
		} else {
			m["crop"] = fmt.Sprintf("%dx%d", h, w)
		}
	}
	return m
}

// String writes s as options for a log line, "key=value" separated by
// spaces in sorted key order; unlike Options it always includes channels
// and layout.
func (s Spec) String() string {
	m := s.Options()
	m["channels"] = s.Order.String()
	m["layout"] = s.Layout.String()
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, " ")
}

func formatFloat(f float32) string {
	return strconv.FormatFloat(float64(f), 'g', -1, 32)
}

func formatList(vs []float32) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = formatFloat(v)
	}
	return strings.Join(parts, ",")
}
