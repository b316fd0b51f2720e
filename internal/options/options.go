// Package options checks the KEY=VALUE options users pass to plugins
// (calibrators, data sets) against the ones a plugin declares, so that every
// plugin reports unknown names and bad values the same way:
// `<plugin>: unknown option "x" (options: a, b)` and
// `<plugin>: option a=v: <why>`.
package options

import (
	"fmt"
	"slices"
	"strings"
)

// Decl is one declared option and its default ("" for none).
type Decl struct {
	Name, Default string
}

// Parse refuses options that are not declared, then hands values to set:
// first, when withDefaults is set, the defaults of the declared options the
// user did not set, then the user's values, in name order (so that the same
// input always gives the same error).
func Parse(owner string, declared []Decl, withDefaults bool, options map[string]string, set func(name, value string) error) error {
	names := make([]string, len(declared))
	for i, d := range declared {
		names[i] = d.Name
	}
	keys := make([]string, 0, len(options))
	for k := range options {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(names, k) {
			list := "none"
			if len(names) > 0 {
				list = strings.Join(names, ", ")
			}
			return fmt.Errorf("%s: unknown option %q (options: %s)", owner, k, list)
		}
	}
	if withDefaults {
		for _, d := range declared {
			if _, ok := options[d.Name]; !ok && d.Default != "" {
				if err := set(d.Name, d.Default); err != nil {
					return fmt.Errorf("%s: option %s=%s (the default): %v", owner, d.Name, d.Default, err)
				}
			}
		}
	}
	for _, k := range keys {
		if err := set(k, options[k]); err != nil {
			return fmt.Errorf("%s: option %s=%s: %v", owner, k, options[k], err)
		}
	}
	return nil
}
