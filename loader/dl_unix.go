//go:build linux || darwin

package loader

import (
	"fmt"

	"github.com/ebitengine/purego"
)

func dlopen(path string) (uintptr, error) {
	return purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
}

func dlsym(h uintptr, name string) (uintptr, error) { return purego.Dlsym(h, name) }

func dlclose(h uintptr) error { return purego.Dlclose(h) }

// bind registers fptr through purego, which panics on a function type it
// cannot call; that is turned into an error.
func bind(fptr any, sym uintptr) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("loader: cannot bind %T: %v", fptr, r)
		}
	}()
	purego.RegisterFunc(fptr, sym)
	return nil
}
