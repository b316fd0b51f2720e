//go:build !unix

package pidalive

// Alive says yes where processes cannot be probed: nothing is swept.
func Alive(int) bool { return true }
