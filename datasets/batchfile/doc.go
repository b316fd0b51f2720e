// Package batchfile reads and writes the calibration batch files of
// TensorRT's sampleINT8 (the BatchStream class of samples/common/BatchStream.h,
// and the Caffe patch int8_caffe.patch that produced them).
//
// A batch file is
//
//	header  4 × int32: N, C, H, W (little-endian; TensorRT writes host
//	        order, which is little-endian on x86 and ARM)
//	images  N·C·H·W × float32, NCHW (image after image)
//	labels  N × float32 (present in the files although the old README
//	        omits them; Caffe's Dtype is float)
//
// nothing before, between or after. The files of one data set are named
// prefix + k + suffix for k = 0, 1, 2, ... (sampleINT8 used prefix
// "batches/batch" and no suffix, giving batches/batch0; BatchStream's
// 4-argument constructor uses suffix ".batch").
//
// Open finds the files from k = 0 up to the first that does not exist (a
// later one existing after that gap is an error), reads every header and
// checks every size, but reads no data. The dimensions come from file 0;
// every later file must have exactly the same N, C, H and W, as BatchStream
// requires. Stream.Read then serves any run of samples over the
// concatenation of the files, assembling batches across file boundaries as
// BatchStream does when the requested batch size differs from N. Labels are
// converted to int and must be integral, finite and non-negative; image
// values must be finite (a NaN usually means the file was written in the
// other byte order or is not a batch file).
//
// Write produces such files from images and labels, each atomically (a
// temporary file in the same folder is renamed over the target), for tests
// and for converting other data sets into TensorRT's format.
//
// Decode reads one file from an io.Reader, for tools and the fuzz test.
//
// Every error is a single line that names the file and what is wrong with
// it: a truncated header, non-positive or absurd dimensions (with a hint
// when they look byte-swapped), fewer or more bytes than the header
// promises, dimensions that differ from file 0's, a label that is not a
// class index.
package batchfile
