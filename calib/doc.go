// Package calib defines the contract between the int8cal host and its
// calibrators: what a calibrator says about itself (Info), the per-tensor
// statistics the host gathers for it (TensorStats), and the dynamic range
// it answers with (Range).
//
// A calibrator implements Calibrator. Served as a plugin (plugins/sdk) it
// runs in its own process and the host reaches it over the
// int8cal.calibrator.v1 gRPC protocol; the subpackages (entropy2, entropy,
// minmax, legacy, percentile, mse, aciq) hold the algorithms of the
// calibrators int8cal ships, and histogram the statistics they read.
package calib
