//go:build !amd64 || purego

package ops

// winoInputFast has no vector version here.
func winoInputFast(a *winoInArgs) bool { return false }

// winoOutputFast has no vector version here.
func winoOutputFast(a *winoOutArgs) bool { return false }
