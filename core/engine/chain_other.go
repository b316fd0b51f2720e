//go:build !amd64 || purego

package engine

var chainImpls = []string{"go"}

var chainImpl = chainImpls[0]

func chainValues(a, o, x, y []float32) { chainGo(a, o, x, y) }
