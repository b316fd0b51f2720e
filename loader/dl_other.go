//go:build !(linux || darwin)

package loader

import (
	"errors"
	"runtime"
)

var errUnsupported = errors.New("loading native libraries is not supported on " + runtime.GOOS)

func dlopen(string) (uintptr, error)         { return 0, errUnsupported }
func dlsym(uintptr, string) (uintptr, error) { return 0, errUnsupported }
func dlclose(uintptr) error                  { return nil }
func bind(any, uintptr) error                { return errUnsupported }
