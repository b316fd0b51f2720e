package calib

import (
	"fmt"
	"strconv"

	"github.com/int8cal/int8cal/internal/options"
)

// ParseOptions checks user options against the declared ones and hands each
// value to set, so that calibrators report unknown names and bad values the
// same way: "<calibrator>: unknown option "x" (options: a, b)" and
// "<calibrator>: option a=v: <why>". Defaults are not applied: a
// calibrator starts from its own defaults.
func ParseOptions(calibrator string, declared []Option, opts map[string]string, set func(name, value string) error) error {
	decls := make([]options.Decl, len(declared))
	for i, o := range declared {
		decls[i] = options.Decl{Name: o.Name, Default: o.Default}
	}
	return options.Parse(calibrator, decls, false, opts, set)
}

// ParseUnit parses a number in [0, 1].
func ParseUnit(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= 0 && f <= 1) {
		return 0, fmt.Errorf("want a number in [0,1]")
	}
	return f, nil
}
