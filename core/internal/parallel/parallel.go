// Package parallel splits loops across goroutines for the CPU kernels.
package parallel

import (
	"runtime"
	"sync"
)

// Workers returns the number of goroutines a kernel should use when the
// caller did not say: one per logical CPU the Go scheduler may use.
func Workers() int { return runtime.GOMAXPROCS(0) }

// For calls body over [0,n) split into at most workers contiguous chunks of
// at least minChunk items each, and waits for all of them. With one chunk it
// runs on the calling goroutine, so small loops pay no scheduling cost.
func For(n, workers, minChunk int, body func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if minChunk < 1 {
		minChunk = 1
	}
	chunks := workers
	if max := (n + minChunk - 1) / minChunk; chunks > max {
		chunks = max
	}
	if chunks <= 1 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(chunks - 1)
	for c := 1; c < chunks; c++ {
		lo, hi := n*c/chunks, n*(c+1)/chunks
		go func() {
			defer wg.Done()
			body(lo, hi)
		}()
	}
	body(0, n/chunks)
	wg.Wait()
}

// Each runs body(worker, lo, hi) like For but also passes the chunk's index,
// for kernels that give every worker its own scratch buffer.
func Each(n, workers int, body func(worker, lo, hi int)) {
	if n <= 0 {
		return
	}
	chunks := workers
	if chunks > n {
		chunks = n
	}
	if chunks <= 1 {
		body(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(chunks - 1)
	for c := 1; c < chunks; c++ {
		lo, hi := n*c/chunks, n*(c+1)/chunks
		go func(c int) {
			defer wg.Done()
			body(c, lo, hi)
		}(c)
	}
	body(0, 0, n/chunks)
	wg.Wait()
}
