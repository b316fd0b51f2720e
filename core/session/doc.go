// Package session runs the passes of TensorRT's sampleINT8 over a model:
// scoring batches of labelled samples for Top-1 and Top-5 accuracy and
// timing the inference, the way the sample reports them.
package session
