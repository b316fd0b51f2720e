// Package cuda is int8cal's GPU backend: it runs the graphs the CPU
// engine runs, in FP32, FP16 and INT8, on an NVIDIA GPU through the CUDA
// driver, NVRTC and cuBLASLt, all loaded at run time (loader/...), so the
// CGO_ENABLED=0 binary needs none of them until --backend cuda is asked
// for.
//
// Lowering reuses the CPU engine's schedule (core/engine.Schedule:
// folding and shape inference exist once). FP32 and FP16 convolutions and
// fully connected layers become one matrix product each through cuBLASLt,
// the unfolded input (im2col, in the product's operand type) times the
// weights, followed by an epilogue kernel that adds the bias and the
// fused residual, applies the ReLU and writes NCHW float32 (FP16 products
// accumulate in float32).
//
// INT8 products read their input quantized with the layer's calibrated
// scale, channels-last with the channels padded to 8; the layer writing
// such a tensor (a convolution's epilogue, a max pooling, also for the
// flattened row a Gemm reads) writes that copy beside, or instead of, its
// float values. Each INT8 product then runs as one implicit-GEMM kernel
// on the tensor cores (conv_s8 in kernels.cu: mma.sync m16n8k32 s8 on
// sm_80 and newer, no unfolded matrix, the epilogue in the same kernel
// through a stage in shared memory, so that the float output and the
// quantized copy are written coalesced), or as im2col, a cuBLASLt
// product (int32 on tensor cores, the "TN" layout IMMA asks for) and an
// epilogue, whichever the tactic timing finds faster for the layer's
// shape on the GPU at hand (the conv_s8 tile shapes are timed too, each with its
// input read through a tile in shared memory and straight from global
// memory). A ResNet shortcut's Slice and Pad, read only as a
// convolution's residual, are read in place by conv_s8 (no gather
// kernel), and a Gemm's Softmax runs in its epilogue (or as a kernel
// after it on the other paths). Everything else
// runs as CUDA C kernels (kernels.cu, embedded) compiled by NVRTC once
// per process for the GPU found (and cached on disk). A plan's kernels
// are recorded into a CUDA graph; Run copies the inputs into page-locked
// memory and replays a graph that copies them in, runs the plan and
// copies the outputs back, waiting once.
//
// The arithmetic is the CPU engine's: activations float32 between
// layers; FP16 rounds weights, the input and every tensor written to half
// precision; INT8 quantizes each Conv and Gemm input per tensor (round
// half to even, [-128,127]) and the weights per output channel
// (qgemm.QuantizeWeights, the same bytes as the CPU's), sums exactly in
// int32 and scales in the CPU engine's order, so both INT8 paths give the
// same bits (TestINT8ProductPaths). Results agree with the CPU backend up
// to the order of float summation.
//
// For calibration the engine gathers each tensor's statistics on the GPU
// (core/stats.Runner): a reduction for the extremes and non-finite counts,
// then a histogram kernel with calib/histogram's binning, so only the bins
// travel to the host.
package cuda
