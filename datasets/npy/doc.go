// Package npy reads and writes NumPy .npy files and .npz archives.
//
// A .npy file (format versions 1.0, 2.0 and 3.0) is the magic "\x93NUMPY",
// a major and minor version byte, the length of a header (uint16
// little-endian in version 1, uint32 in versions 2 and 3), the header — a
// Python dict literal such as
//
//	{'descr': '<f4', 'fortran_order': False, 'shape': (10000, 32, 32, 3), }
//
// padded with spaces and ended by a newline — and then the array's bytes.
// The header is parsed by a small literal parser here; nothing is evaluated.
//
// Supported element types (descr) are |u1, |i1, |b1, <f2, <f4, <f8, <i4 and
// <i8. For one-byte types the byte-order character does not matter; for wider
// types '=' (native) is read as '<', and big-endian '>' types are rejected
// with an error naming the descr. Only C-order arrays are read: a header with
// 'fortran_order': True is an error that says how to rewrite the file.
//
// An Array keeps the file's raw little-endian bytes. Float32 converts any
// supported type to float32 (float16 exactly, with internal/float16, the
// conversion the ONNX reader uses), Ints any integer or boolean type to
// int64.
//
// A .npz file is a zip archive (stored or deflated) of .npy files; ReadNPZ
// returns its arrays keyed by member name without the .npy suffix.
//
// Write stores an Array as a version 1.0 .npy file with the header layout
// numpy.save uses, atomically (a temporary file in the same directory is
// renamed over the target), for golden files; WriteNPZ stores arrays as a
// .npz archive, as numpy.savez does.
//
// Every error is a single line naming the file and what is wrong with it.
package npy
