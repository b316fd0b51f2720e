// Package nvrtc binds NVIDIA's run-time CUDA C++ compiler (libnvrtc)
// through loader, without cgo: the cuda backend compiles the kernels it
// embeds as source once per process, for the GPU it finds, to CUBIN (or
// PTX that the driver compiles).
//
// NVRTC needs no GPU, so its tests run wherever the library is: `make
// gpulibs` installs NVIDIA's nvidia-cuda-nvrtc wheel from PyPI into
// .gpulibs/ for that purpose.
package nvrtc
