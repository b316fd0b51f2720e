//go:build !linux

package loader

// File returns the path the library was opened by (only Linux tells
// where the system loader found a soname).
func (l *Library) File() string { return l.Path }
