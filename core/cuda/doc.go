// Package cuda is int8cal's GPU backend: it runs the graphs the CPU
// engine runs, in FP32, FP16 and INT8, on an NVIDIA GPU through the CUDA
// driver, NVRTC and cuBLASLt, all loaded at run time (loader/...), so the
// CGO_ENABLED=0 binary needs none of them until --backend cuda is asked
// for.
//
// Lowering reuses the CPU engine's schedule (core/engine.Schedule:
// folding and shape inference exist once). Convolutions and fully
// connected layers become one matrix product each through cuBLASLt, the
// unfolded input (im2col, written in the product's operand type: float,
// half, or int8 quantized with the layer's calibrated input scale) times
// the weights, followed by an epilogue kernel that adds the bias and the
// fused residual, applies the ReLU and writes NCHW float32: INT8 products
// accumulate in int32 on tensor cores (the "TN" layout the IMMA rules
// ask for, m and k padded to multiples of 8), FP16 ones in float32.
// Everything else runs as CUDA C kernels (kernels.cu, embedded) compiled
// by NVRTC once per process for the GPU found (and cached on disk).
//
// The arithmetic is the CPU engine's: activations float32 between
// layers; FP16 rounds weights, the input and every tensor written to half
// precision; INT8 quantizes each Conv and Gemm input per tensor (round
// half to even, [-128,127]) and the weights per output channel
// (qgemm.QuantizeWeights, the same bytes as the CPU's). Results agree
// with the CPU backend up to the order of summation.
//
// For calibration the engine gathers each tensor's statistics on the GPU
// (core/stats.Runner): a reduction for the extremes and non-finite counts,
// then a histogram kernel with calib/histogram's binning, so only the bins
// travel to the host.
package cuda
