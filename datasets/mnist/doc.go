// Package mnist reads the MNIST training or test split from the four IDX
// files, as TensorRT's MNISTBatchStream does: pixels scaled by 1/255 into
// [1,28,28] float32 samples, labels as class indices.
package mnist
