//go:build amd64 && !purego && !linux

package qgemm

// amxPermitted: the AMX kernel asks for the tile state the Linux way
// only; elsewhere it is not used.
func amxPermitted() bool { return false }
