// Package dataset defines the contract between the int8cal host and its
// data set plugins: what a data set says about itself (Info), what it
// describes once opened (Meta), and how it delivers samples (BatchStream).
//
// A data set implements BatchStream. Served as a plugin (datasets/sdk) it
// runs in its own process and the host reaches it over the
// int8cal.batchstream.v1 gRPC protocol, reading it like any in-process
// source: Len, SampleShape and Read.
package dataset
