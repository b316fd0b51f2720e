package abi

import (
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// tensorShapeRegistered calls a method returning Dims through purego's
// RegisterFunc, which places the hidden result pointer where the
// platform's ABI wants it: first integer argument on x86-64, x8 on arm64
// (which SyscallN cannot set). The function is made once per function
// pointer. amd64 uses tensorShape (sret_amd64.go) and tests this one
// against it; other architectures use this one, not checked on a real
// arm64 machine.
func tensorShapeRegistered(fn, this uintptr, name *byte, buf *dimsBuf) {
	f, ok := shapeFuncs.Load(fn)
	if !ok {
		var g func(this uintptr, name *byte) dimsRaw
		purego.RegisterFunc(&g, fn)
		f, _ = shapeFuncs.LoadOrStore(fn, g)
	}
	*(*dimsRaw)(unsafe.Pointer(buf)) = f.(func(uintptr, *byte) dimsRaw)(this, name)
}

// dimsRaw is the 72 bytes of a Dims64; a Dims32 (36 bytes) is read from
// the start of it, the callee writing only that much.
type dimsRaw struct {
	NbDims int32
	Pad    int32
	D      [8]int64
}

var shapeFuncs sync.Map // fn → func(this uintptr, name *byte) dimsRaw
