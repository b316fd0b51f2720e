// Package idx reads the IDX files in which the MNIST data set is distributed
// (http://yann.lecun.com/exdb/mnist/).
//
// An IDX file is a big-endian header followed by raw bytes. The two kinds used
// by MNIST are
//
//	images: magic 0x00000803 (2051), count, rows, cols (int32 each),
//	        then count*rows*cols pixels, one uint8 each, row-major
//	labels: magic 0x00000801 (2049), count (int32),
//	        then count labels, one uint8 each
//
// ReadImages and ReadLabels accept the files either as published (gzipped)
// or unpacked: gzip is recognised by its magic bytes 1f 8b, not by the file
// name. DecodeImages and DecodeLabels do the same for any io.Reader.
//
// Every error is a single line that names the file and says what is wrong
// with it: a wrong magic (with a hint when images and labels look swapped), a
// truncated header, fewer data bytes than the header promises, dimensions too
// large to be real, or bytes after the promised data. Label values outside
// 0..9 are not an error; IDX permits any byte.
//
// Images.Float32 converts a run of images to float32 pixel/255 in NCHW order
// with C=1, the input convention of TensorRT's sampleINT8 MNISTBatchStream and
// of the LeNet model in data/mnist.
package idx
