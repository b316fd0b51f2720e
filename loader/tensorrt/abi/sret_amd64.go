package abi

import "unsafe"

// tensorShape calls a method returning Dims (getTensorShape(char const*))
// into buf. On x86-64 a struct larger than 16 bytes is returned through a
// hidden pointer passed as the first integer argument, before this.
func tensorShape(fn, this uintptr, name *byte, buf *dimsBuf) {
	call(fn, uintptr(unsafe.Pointer(buf)), this, uintptr(unsafe.Pointer(name)))
}
