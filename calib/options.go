package calib

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ParseOptions checks user options against the declared ones and hands each
// value to set, so that calibrators report unknown names and bad values the
// same way: "<calibrator>: unknown option "x" (options: a, b)" and
// "<calibrator>: option a=v: <why>".
func ParseOptions(calibrator string, declared []Option, options map[string]string, set func(name, value string) error) error {
	names := make([]string, len(declared))
	for i, o := range declared {
		names[i] = o.Name
	}
	keys := make([]string, 0, len(options))
	for k := range options {
		keys = append(keys, k)
	}
	slices.Sort(keys) // report the same error whatever the map order
	for _, k := range keys {
		if !slices.Contains(names, k) {
			list := "none"
			if len(names) > 0 {
				list = strings.Join(names, ", ")
			}
			return fmt.Errorf("%s: unknown option %q (options: %s)", calibrator, k, list)
		}
		if err := set(k, options[k]); err != nil {
			return fmt.Errorf("%s: option %s=%s: %v", calibrator, k, options[k], err)
		}
	}
	return nil
}

// ParseUnit parses a number in [0, 1].
func ParseUnit(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= 0 && f <= 1) {
		return 0, fmt.Errorf("want a number in [0,1]")
	}
	return f, nil
}
