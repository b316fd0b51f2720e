// Package layout holds no code. Its tests keep the module's layering true
// as the code changes: a plugin binary (plugins/*, datasets/plugins/*) is
// built from its SDK, its contract and shared leaf packages only, never
// from the host (core/..., loader/..., cmd/...); the conformance suites
// drive a plugin through the same client adapters as the host, never
// through generated protobuf code; the GPU backend does not depend on the
// calibration job. See ARCHITECTURE.md.
package layout
