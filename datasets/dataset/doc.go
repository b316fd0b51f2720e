// Package dataset defines the contract between the int8cal host and its
// data set plugins: what a data set says about itself (Info), what it
// describes once opened (Meta), and how it delivers samples (BatchStream).
//
// A data set of float32 samples of one shape (images) implements
// BatchStream; served as a plugin (datasets/sdk.Serve) it runs in its own
// process and the host reaches it over the int8cal.batchstream.v1 gRPC
// protocol, reading it like any in-process source: Len, SampleShape and
// Read. A data set whose samples are several named inputs, or inputs of
// other element types (token ids, masks), implements TensorStream and is
// served over int8cal.batchstream.v2 (datasets/sdk.ServeTensors); the host
// matches its inputs with the model's by name.
package dataset
