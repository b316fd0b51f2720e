package histogram

import "fmt"

// Impl names an implementation of the loops of [Histogram.Add] and
// [Bounds]. Every implementation gives identical results; SetImpl exists
// for tests and benchmarks.
type Impl int

const (
	// ImplGo is the portable loop, one value at a time.
	ImplGo Impl = iota
	// ImplAVX2 computes 8 bin indices at a time (amd64 with AVX2).
	ImplAVX2
	// ImplAVX512 computes 16 at a time (amd64 with AVX-512 F).
	ImplAVX512
)

func (i Impl) String() string {
	switch i {
	case ImplGo:
		return "go"
	case ImplAVX2:
		return "avx2"
	case ImplAVX512:
		return "avx512"
	}
	return fmt.Sprintf("Impl(%d)", int(i))
}

// impl is the implementation in use, the best available by default.
var impl = func() Impl { a := Available(); return a[len(a)-1] }()

// Available returns the implementations this CPU and build can run, best
// last; ImplGo always. The build tag purego leaves only ImplGo.
func Available() []Impl { return available() }

// CurrentImpl returns the implementation in use.
func CurrentImpl() Impl { return impl }

// SetImpl selects the implementation used from now on and returns the
// previous one, or an error naming one this CPU or build cannot run. It
// must not be called while other goroutines fill histograms.
func SetImpl(i Impl) (prev Impl, err error) {
	for _, a := range Available() {
		if a == i {
			prev, impl = impl, i
			return prev, nil
		}
	}
	return impl, fmt.Errorf("histogram: implementation %v not available on this CPU/build (available: %v)", i, Available())
}
