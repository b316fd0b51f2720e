//go:build !amd64 || purego

package engine

func chainValues(a, o, x, y []float32) { chainGo(a, o, x, y) }
