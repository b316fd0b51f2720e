// Package loader opens native libraries at run time with
// ebitengine/purego, never cgo, so that one CGO_ENABLED=0 int8cal binary
// runs everywhere and uses NVIDIA's libraries (the CUDA driver, NVRTC,
// cuBLASLt, TensorRT) where they are installed.
//
// A Spec names a library, the environment variable that may point at it,
// its sonames and the symbols that must be present. Open searches, in
// order: an explicit path (a flag), the environment variable, each soname
// through the system loader (most specific version first), then the
// unversioned names. It checks every required symbol before anything is
// bound, runs the Spec's version check, and reports failures as typed
// errors (*NotFoundError with every place tried and why, *MissingSymbolError,
// *VersionError) instead of panicking, which binding a missing symbol with
// purego would do.
//
// A library copied out of a pip wheel may need others that sit beside it
// in the wheel's tree, where the system loader does not look: Preload and
// PreloadNeeded load those first, by path.
package loader
