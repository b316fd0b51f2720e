package batchstreamrpc

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// nativeLittleEndian reports whether float32 values lie in memory in the
// byte order of the wire (BatchChunk.images), so that they can be sent and
// received as they are.
var nativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// wireBytes returns v as BatchChunk.images bytes: a view of v's own memory
// on little-endian machines, else an encoding into scratch (grown as
// needed).
func wireBytes(v []float32, scratch *[]byte) []byte {
	if nativeLittleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))
	}
	if cap(*scratch) < 4*len(v) {
		*scratch = make([]byte, 4*len(v))
	}
	b := (*scratch)[:4*len(v)]
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// putWireBytes decodes BatchChunk.images bytes into dst[:len(b)/4].
func putWireBytes(dst []float32, b []byte) {
	if nativeLittleEndian {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst))), 4*len(dst)), b)
		return
	}
	for i := range len(b) / 4 {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
}

// float32s and int32s view shared memory as values in the machine's byte
// order (both processes run on the same machine). b starts at a multiple
// of 4 bytes from a page boundary.
func float32s(b []byte) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
}

func int32s(b []byte) []int32 {
	return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
}
