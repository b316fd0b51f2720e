// Kernels of int8cal's cuda backend, compiled at run time by NVRTC for the
// GPU found (core/cuda/module.go). Activations are float32 NCHW; the
// precision of a plan shows in the operands of its matrix products
// (float, half, or int8 channels-last copies beside the float tensors)
// and, for FP16, in the rounding of every tensor written to half
// precision, as the CPU engine does. Compiled with --fmad=false so that
// the epilogues round exactly as the CPU engine's Go code.
//
// No CUDA headers are included, so that NVRTC needs none: half precision
// goes through PTX cvt instructions.

typedef unsigned long long u64;
typedef long long i64;

#define MAX_RANK 6

// Geometry of a convolution as a product: rows = images·out pixels (the
// product's m, padded to mpad), k = cin·kh·kw (padded to kpad).
struct ConvGeo {
	int n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, k, kpad, rows, mpad;
};

// Epilogue geometry: y is [n][cout][hw]; D holds output (c, row) at
// c·strideC + row·strideP; the quantized copy, when written, is
// channels-last with qstride channels per pixel (cout rounded up to 8).
struct Epi {
	int n, cout, hw, strideC, strideP, relu, half, qstride, rows, chunk;
};

struct Pool {
	int planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
};

// Broadcast of two operands onto a contiguous output of rank dims.
struct Bcast {
	int rank, n;
	int shape[MAX_RANK], sa[MAX_RANK], sb[MAX_RANK];
};

// y[i] = x[start + step·i] per dimension where i is in [lo, hi) and the
// source in range, fill elsewhere (Slice, constant Pad, and chains of them
// composed into one).
struct Affine {
	int rank, n;
	int out[MAX_RANK], in[MAX_RANK], stride[MAX_RANK], start[MAX_RANK], step[MAX_RANK], lo[MAX_RANK], hi[MAX_RANK];
};

__device__ __forceinline__ unsigned short f2h(float x) {
	unsigned short h;
	asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x));
	return h;
}

__device__ __forceinline__ float h2f(unsigned short h) {
	float x;
	asm("cvt.f32.f16 %0, %1;" : "=f"(x) : "h"(h));
	return x;
}

__device__ __forceinline__ float round_half(float x) { return h2f(f2h(x)); }

// As qgemm.Quantize: clamp(round half to even(x/scale), -128, 127), NaN → 0.
__device__ __forceinline__ int quant(float x, float scale) {
	float v = x / scale;
	if (v != v) return 0;
	v = fminf(fmaxf(v, -128.0f), 127.0f);
	return __float2int_rn(v);
}

// Element indices are 32-bit: the host refuses tensors of 2^31 elements
// or more, and 64-bit division is many times slower.
__device__ __forceinline__ int gid() { return blockIdx.x * blockDim.x + threadIdx.x; }

// The operand type of a product's input: float32, or (converted once per
// layer by the kernels below, not once per tap) half or int8.
extern "C" __global__ void to_half(const float* x, unsigned short* h, int n) {
	int i = gid();
	if (i < n) h[i] = f2h(x[i]);
}

__device__ __forceinline__ float4 pack4(const float* v) { return make_float4(v[0], v[1], v[2], v[3]); }
// (Four halves or four int8 of a tile row start on a 32-bit word.)
__device__ __forceinline__ uint2 pack4(const unsigned short* v) {
	const unsigned int* w = (const unsigned int*)v;
	return make_uint2(w[0], w[1]);
}

// Tile of the unfolded input one im2col block builds: TILE_ROWS product
// rows × TILE_TAPS taps (blockIdx.x picks the rows, blockIdx.y the taps),
// so that there are blocks enough for the GPU whatever the layer's shape.
// 48 taps divide the 9·16·2^i taps of 3×3 convolutions over 16·2^i
// channels, so no block gets a sliver of a tile.
#define TILE_ROWS 128
#define TILE_TAPS 48

// The unfolded input, [mpad][kpad] row-major (each product row's taps
// contiguous), one tile per block through shared memory: the block first
// reads the tile's taps with consecutive threads on consecutive output
// pixels (coalesced reads of the NCHW input), then writes the tile's rows
// four taps per thread with consecutive threads on consecutive words
// (coalesced writes). taps[k] = {offset of the input element from the
// window's top-left corner (ci·H·W + dy·W + dx), dy, dx, unused}, made
// once per layer on the host. The loops are kept to a few instructions
// per element: the kernel is bound by instruction issue, not memory.
template <typename T, typename V>
__device__ __forceinline__ void im2col_tiled(const T* x, const int4* taps, V* col, const ConvGeo& g) {
	// Row stride: an odd number of 32-bit words, so that the column-wise
	// stores of phase one (consecutive rows, one tap) fall in distinct
	// banks whatever the element size, and rows start on a word.
	__shared__ __align__(16) T vals[TILE_ROWS][TILE_TAPS + 4 / sizeof(T)];
	__shared__ int4 tap[TILE_TAPS];
	int row0 = blockIdx.x * TILE_ROWS;
	int k0 = blockIdx.y * TILE_TAPS;
	int kc = min(TILE_TAPS, g.kpad - k0); // a multiple of 4
	for (int k = threadIdx.x; k < kc; k += blockDim.x) tap[k] = taps[k0 + k];
	// Each thread keeps one row's window corner in registers and reads
	// every (blockDim/TILE_ROWS)-th tap of it. Rows past the product's
	// have a corner far outside the image, so all their taps read 0, as do
	// the taps past K (the host gives them a far dy).
	int r = threadIdx.x % TILE_ROWS, row = row0 + r;
	int y0 = -(1 << 28), x0 = 0;
	const T* corner = x;
	if (row < g.rows) {
		int hw = g.oh * g.ow;
		int b = row / hw, p = row - b * hw;
		int oy = p / g.ow, ox = p - oy * g.ow;
		y0 = oy * g.sh - g.ph;
		x0 = ox * g.sw - g.pw;
		corner = x + (b * g.c * g.h * g.w + y0 * g.w + x0);
	}
	__syncthreads();
	T* dst = vals[r];
#pragma unroll 4
	for (int k = threadIdx.x / TILE_ROWS; k < kc; k += blockDim.x / TILE_ROWS) {
		int4 t = tap[k];
		unsigned int iy = y0 + t.y, ix = x0 + t.z;
		dst[k] = (iy < (unsigned int)g.h && ix < (unsigned int)g.w) ? corner[t.x] : (T)0;
	}
	__syncthreads();
	// Thread i writes word q of row rr, stepping by blockDim words.
	int groups = kc >> 2, stride = g.kpad >> 2;
	int rr = threadIdx.x / groups, q = threadIdx.x - rr * groups;
	int dr = blockDim.x / groups, dq = blockDim.x - dr * groups;
	V* out = col + (k0 >> 2);
	while (rr < TILE_ROWS) {
		if (row0 + rr < g.mpad) out[(row0 + rr) * stride + q] = pack4(&vals[rr][4 * q]);
		rr += dr;
		q += dq;
		if (q >= groups) {
			q -= groups;
			rr++;
		}
	}
}

extern "C" __global__ void im2col_f32(const float* x, const int4* taps, float4* col, ConvGeo g) {
	im2col_tiled(x, taps, col, g);
}

extern "C" __global__ void im2col_f16(const unsigned short* x, const int4* taps, uint2* col, ConvGeo g) {
	im2col_tiled(x, taps, col, g);
}

// The epilogues work on tiles of EPI_PIX consecutive product rows
// (output pixels) × all channels, one tile per block: values are computed
// with consecutive threads on consecutive pixels of one channel, so the
// product (pixel orientation), the residual and y (NCHW) are read and
// written coalesced; the quantized copy (channels-last) goes through a
// shared tile and is written a word at a time, coalesced too. Without a
// quantized copy, blockIdx.y splits the channels in chunks, so that a
// fully connected layer (few rows, many channels) has blocks enough. Output
// (b, c, p) is at c·strideC + row·strideP in the product D (row = b·hw + p),
// whichever orientation the product was computed in.
#define EPI_PIX 32

template <typename A>
__device__ __forceinline__ void epilogue_tile(const A* acc, float* y, const float* bias, const float* res, const float* scale, signed char* q, float qscale, const Epi& e) {
	extern __shared__ __align__(16) signed char qt[]; // EPI_PIX rows of qstride + 4 bytes, when q is set
	__shared__ int pb[EPI_PIX], pp[EPI_PIX];
	int row0 = blockIdx.x * EPI_PIX;
	int qs = e.qstride + 4;
	for (int j = threadIdx.x; j < EPI_PIX; j += blockDim.x) {
		int row = row0 + j;
		pb[j] = row / e.hw;
		pp[j] = row - pb[j] * e.hw;
	}
	if (q)
		for (int j = threadIdx.x; j < EPI_PIX * qs / 4; j += blockDim.x) ((int*)qt)[j] = 0;
	__syncthreads();
	int c0 = blockIdx.y * e.chunk, cn = min(e.chunk, e.cout - c0);
	for (int idx = threadIdx.x; idx < EPI_PIX * cn; idx += blockDim.x) {
		int c = c0 + idx / EPI_PIX, j = idx % EPI_PIX;
		int row = row0 + j;
		if (row >= e.rows) continue;
		int i = (pb[j] * e.cout + c) * e.hw + pp[j];
		float v = (float)acc[c * e.strideC + row * e.strideP];
		if (scale) v = v * scale[c];
		if (bias) v = v + bias[c];
		if (res) v = v + res[i];
		if (e.relu) v = fmaxf(v, 0.0f);
		if (e.half) v = round_half(v);
		if (y) y[i] = v;
		if (q) qt[j * qs + c] = (signed char)quant(v, qscale);
	}
	if (!q) return;
	__syncthreads();
	int words = e.qstride >> 2;
	for (int idx = threadIdx.x; idx < EPI_PIX * words; idx += blockDim.x) {
		int j = idx / words, w = idx - j * words;
		if (row0 + j < e.rows) ((unsigned int*)q)[(row0 + j) * words + w] = *(const unsigned int*)&qt[j * qs + 4 * w];
	}
}

// y = D + bias (+ residual), ReLU, rounding; D from a float product.
extern "C" __global__ void epilogue_f32(const float* acc, float* y, const float* bias, const float* res, signed char* q, float qscale, Epi e) {
	epilogue_tile(acc, y, bias, res, (const float*)0, q, qscale, e);
}

// The same for an int32 product: D·scale[c] (input scale × the output
// channel's weight scale) + bias, in the CPU engine's order.
extern "C" __global__ void epilogue_s32(const int* acc, float* y, const float* bias, const float* res, const float* scale, signed char* q, float qscale, Epi e) {
	epilogue_tile(acc, y, bias, res, scale, q, qscale, e);
}

// An INT8 convolution's input, quantized channels-last: q[(b·hw + p)·cq +
// ch], cq = c rounded up to 8 (channelAlign in lower.go), the extra
// channels 0.
extern "C" __global__ void quantize_nhwc_s8(const float* x, signed char* q, int n, int c, int hw, int cq, float scale) {
	int i = gid();
	if (i >= n) return;
	int pix = i / cq, ch = i - pix * cq;
	int b = pix / hw, p = pix - b * hw;
	q[i] = ch < c ? (signed char)quant(x[(b * c + ch) * hw + p], scale) : 0;
}

// The unfolded input of an INT8 convolution from its channels-last
// quantized input (wpt = cq/4 words per pixel): row = output pixel, its
// words in (ky, kx, channel) order, so each tap is a run of wpt words
// copied whole. A block covers NHWC_ROWS rows, their words flattened over
// its threads (rows are often shorter than a warp's stride); the rows'
// window corners are worked out once, in shared memory. words[w] = {dy, dx,
// word within the pixel, 0} (dy far out of range for the padding words
// past K).
#define NHWC_ROWS 32

extern "C" __global__ void im2col_nhwc_s8(const unsigned int* q, const int4* words, unsigned int* col, ConvGeo g, int wpt) {
	__shared__ int y0[NHWC_ROWS], x0[NHWC_ROWS], img[NHWC_ROWS];
	int row0 = blockIdx.x * NHWC_ROWS;
	int hw = g.oh * g.ow;
	for (int r = threadIdx.x; r < NHWC_ROWS; r += blockDim.x) {
		int row = row0 + r;
		if (row < g.rows) {
			int b = row / hw, p = row - b * hw;
			int oy = p / g.ow, ox = p - oy * g.ow;
			y0[r] = oy * g.sh - g.ph;
			x0[r] = ox * g.sw - g.pw;
			img[r] = b * g.h * g.w * wpt;
		} else {
			y0[r] = -(1 << 28); // rows past the product's: every word 0
			x0[r] = 0;
			img[r] = 0;
		}
	}
	__syncthreads();
	int n = g.kpad >> 2;
	int rows = min(NHWC_ROWS, g.mpad - row0);
	for (int i = threadIdx.x; i < rows * n; i += blockDim.x) {
		int r = i / n, w = i - r * n;
		int4 t = __ldg(&words[w]);
		unsigned int iy = y0[r] + t.x, ix = x0[r] + t.y;
		col[(row0 + r) * n + w] = (iy < (unsigned int)g.h && ix < (unsigned int)g.w) ? q[img[r] + (iy * g.w + ix) * wpt + t.z] : 0u;
	}
}

extern "C" __global__ void relu(const float* x, float* y, int n) {
	int i = gid();
	if (i < n) y[i] = fmaxf(x[i], 0.0f);
}

extern "C" __global__ void round_half_inplace(float* x, int n) {
	int i = gid();
	if (i < n) x[i] = round_half(x[i]);
}

extern "C" __global__ void add(const float* a, const float* b, float* y, Bcast g, int relu, int half) {
	int i = gid();
	if (i >= g.n) return;
	int ia = 0, ib = 0, rest = i;
	// Unrolled with constant indices: indexing the parameter's arrays with
	// a variable would copy them to local memory in every thread.
#pragma unroll
	for (int d = MAX_RANK - 1; d >= 0; d--) {
		if (d >= g.rank) continue;
		int q = rest / g.shape[d];
		int at = rest - q * g.shape[d];
		rest = q;
		ia += at * g.sa[d];
		ib += at * g.sb[d];
	}
	float v = a[ia] + b[ib];
	if (relu) v = fmaxf(v, 0.0f);
	if (half) v = round_half(v);
	y[i] = v;
}

// Max pooling that also writes its output quantized for the INT8 product
// reading it (q, when set): element (b, c, p) at b·img + p·pix + c·ch
// (channels-last for a convolution, the flattened row for a Gemm after a
// Flatten), rounded as quantize_nhwc_s8 rounds, so that no quantizing
// kernel runs between them. The padding bytes stay as zeroed.
struct QView {
	int c, img, pix, ch;
};

extern "C" __global__ void maxpool(const float* x, float* y, Pool p, signed char* q, float qscale, QView v) {
	int i = gid();
	if (i >= p.planes * p.oh * p.ow) return;
	int per = p.oh * p.ow;
	int plane = i / per, r = i - plane * per;
	int oy = r / p.ow, ox = r - oy * p.ow;
	const float* src = x + plane * p.h * p.w;
	float m = __int_as_float(0xff800000); // -inf
	for (int ky = 0; ky < p.kh; ky++) {
		int iy = oy * p.sh - p.ph + ky * p.dh;
		if (iy < 0 || iy >= p.h) continue;
		for (int kx = 0; kx < p.kw; kx++) {
			int ix = ox * p.sw - p.pw + kx * p.dw;
			if (ix < 0 || ix >= p.w) continue;
			m = fmaxf(m, src[iy * p.w + ix]);
		}
	}
	if (y) y[i] = m;
	if (q) {
		int b = plane / v.c, c = plane - b * v.c;
		q[b * v.img + r * v.pix + c * v.ch] = (signed char)quant(m, qscale);
	}
}

// One warp per plane.
extern "C" __global__ void global_avgpool(const float* x, float* y, int planes, int hw, int half) {
	int warp = gid() / 32;
	int lane = threadIdx.x & 31;
	if (warp >= planes) return;
	const float* src = x + warp * hw;
	float s = 0.0f;
	for (int j = lane; j < hw; j += 32) s += src[j];
	for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
	if (lane == 0) {
		float v = s / (float)hw;
		y[warp] = half ? round_half(v) : v;
	}
}

// Softmax of one row of cols values (in: stride floats apart), as the
// softmax kernel and conv_s8's fused softmax compute it.
__device__ __forceinline__ void softmax_row(const float* in, int stride, float* out, int cols, int half) {
	float m = in[0];
	for (int j = 1; j < cols; j++) m = fmaxf(m, in[j * stride]);
	float s = 0.0f;
	for (int j = 0; j < cols; j++) {
		float e = expf(in[j * stride] - m);
		out[j] = e;
		s += e;
	}
	for (int j = 0; j < cols; j++) {
		float v = out[j] / s;
		out[j] = half ? round_half(v) : v;
	}
}

// Softmax over the last cols values of each row, one thread per row.
extern "C" __global__ void softmax(const float* x, float* y, int rows, int cols, int half) {
	int r = gid();
	if (r < rows) softmax_row(x + r * cols, 1, y + r * cols, cols, half);
}

// Pad (constant) and Slice: each output element reads x at start + step·i
// per dimension, or takes fill when that is outside x.
extern "C" __global__ void gather_affine(const float* x, float* y, Affine a, float fill) {
	int i = gid();
	if (i >= a.n) return;
	int src = 0, rest = i;
	bool inside = true;
#pragma unroll
	for (int d = MAX_RANK - 1; d >= 0; d--) {
		if (d >= a.rank) continue;
		int q = rest / a.out[d];
		int at = rest - q * a.out[d];
		rest = q;
		int j = a.start[d] + a.step[d] * at;
		if (at < a.lo[d] || at >= a.hi[d] || j < 0 || j >= a.in[d]) inside = false;
		src += j * a.stride[d];
	}
	y[i] = inside ? x[src] : fill;
}

// Order-preserving integer key of a float's bits (histogram.key).
__device__ __forceinline__ int fkey(unsigned int b) { return (int)(b ^ ((unsigned int)((int)b >> 31) & 0x7fffffffu)); }

// Per-tensor statistics of one batch: rec = {min key, max key, zeros,
// NaNs, +Inf, -Inf}, merged with atomics (rec starts as {INT_MAX,
// INT_MIN, 0, 0, 0, 0}).
extern "C" __global__ void stats(const float* x, int n, i64* rec) {
	int mn = 0x7fffffff, mx = (int)0x80000000;
	i64 zeros = 0, nan = 0, pinf = 0, ninf = 0;
	for (int i = gid(); i < n; i += gridDim.x * blockDim.x) {
		unsigned int b = __float_as_uint(x[i]);
		unsigned int a = b & 0x7fffffffu;
		if (a > 0x7f800000u) { nan++; continue; }
		if (a == 0x7f800000u) { if (b >> 31) ninf++; else pinf++; continue; }
		int k = fkey(b);
		mn = min(mn, k);
		mx = max(mx, k);
		if (a == 0) zeros++;
	}
	for (int o = 16; o > 0; o >>= 1) {
		mn = min(mn, __shfl_xor_sync(0xffffffffu, mn, o));
		mx = max(mx, __shfl_xor_sync(0xffffffffu, mx, o));
		zeros += __shfl_xor_sync(0xffffffffu, zeros, o);
		nan += __shfl_xor_sync(0xffffffffu, nan, o);
		pinf += __shfl_xor_sync(0xffffffffu, pinf, o);
		ninf += __shfl_xor_sync(0xffffffffu, ninf, o);
	}
	if ((threadIdx.x & 31) == 0) {
		atomicMin(&rec[0], (i64)mn);
		atomicMax(&rec[1], (i64)mx);
		if (zeros) atomicAdd((u64*)&rec[2], (u64)zeros);
		if (nan) atomicAdd((u64*)&rec[3], (u64)nan);
		if (pinf) atomicAdd((u64*)&rec[4], (u64)pinf);
		if (ninf) atomicAdd((u64*)&rec[5], (u64)ninf);
	}
}

// Histogram of one batch with histogram.Histogram's binning: slot
// floor(|v|·scale) (scale = bins/2^e, exact in double), on the negative
// side (offset side) for negative values when signed; NaN and ±Inf are
// skipped (stats counts them). Counts go to shared memory first when
// slots·4 bytes fit (shared != 0), then to counts with 64-bit atomics.
extern "C" __global__ void histogram(const float* x, int n, u64* counts, double scale, int side, int slots, int shared) {
	extern __shared__ unsigned int local[];
	if (shared) {
		for (int j = threadIdx.x; j < slots; j += blockDim.x) local[j] = 0;
		__syncthreads();
	}
	for (int i = gid(); i < n; i += gridDim.x * blockDim.x) {
		unsigned int b = __float_as_uint(x[i]);
		unsigned int a = b & 0x7fffffffu;
		if (a >= 0x7f800000u) continue;
		int slot = (int)((double)__uint_as_float(a) * scale) + ((b >> 31) ? side : 0);
		if (shared) atomicAdd(&local[slot], 1u);
		else atomicAdd(&counts[slot], 1ull);
	}
	if (shared) {
		__syncthreads();
		for (int j = threadIdx.x; j < slots; j += blockDim.x)
			if (local[j]) atomicAdd(&counts[j], (u64)local[j]);
	}
}

// Implicit-GEMM INT8 convolution on the tensor cores (sm_80 and newer):
// the product of the unfolded channels-last input and the weights without
// writing the unfolded matrix, and the epilogue (scale, bias, residual,
// ReLU, the float output and the quantized channels-last copy) in the
// same kernel, in three passes through a stage in shared memory (the
// scaled accumulators; residual, ReLU and the float output in 16-byte
// pieces along NCHW rows; the quantized copy 8 channels a work item), so
// that its global reads and writes are coalesced and an INT8 convolution
// is one kernel instead of im2col, a cuBLASLt product and an epilogue. The
// sums are exact int32 and the epilogue is epilogue_s32's arithmetic in
// its order (quant_exact giving quant's integers without dividing), so
// the outputs are those of that path bit for bit.
//
// A block of CONV_WARPS warps covers (CONV_WARPS/KW)·16·MT output pixels
// (product rows) × 8·NT output channels (blockIdx.y picks the channel
// chunk): each warp owns MT tiles of 16 rows and all NT tiles of 8
// channels, and the KW warps on the same rows split K between them (their
// sums are added through shared memory: a deep K over few rows, as in
// fully connected layers, is then not one long chain of dependent
// loads). K goes 64 taps at a time (two mma.m16n8k32.s8.s8.s32 steps;
// an odd last step of 32 alone), all operands of both steps loaded before
// their products so that the loads overlap. A's operands come from the
// block's input tile in shared memory (conv_tile, where it fits and the
// tactic timing finds it faster: each input word loaded and
// bounds-checked once per tile slot, not once per tap and row) or
// straight from global memory (read-only cache); B's from global memory.
// PTX's m16n8k32 s8 fragments: with g =
// lane/4 and t = lane%4, A registers 0-3 hold rows g, g+8, g, g+8 at K
// words t, t, t+4, t+4; B registers 0-1 hold channel g at K words t and
// t+4; accumulator registers 0-3 hold (row g, channel 2t), (g, 2t+1),
// (g+8, 2t), (g+8, 2t+1). Which K word of a step is which tap and channel
// is free (the sum is the same), so a lane's K words t and t+4 are taken
// to be the step's adjacent words 2t and 2t+1: A's two words of a row are
// one 64-bit load of an input pixel (pixels are whole pairs of words:
// channels padded to 8; words[] says which pixel word, as for
// im2col_nhwc_s8, zero outside the image), and B's two words one 64-bit
// load from weights stored in that fragment order (fragmentOrder in
// lower.go: a warp reads 256 contiguous bytes), instead of one load per
// word from rows far apart. With a float input (xf, NCHW: a first layer of
// at most 8 channels) A's words are quantized as they are read (into the
// tile, or per tap), with quantize_nhwc_s8's rounding, so that no
// separate quantizing kernel runs. The residual is read through a map
// (RMap), so that a ResNet shortcut's strided slice and channel padding
// need no gather kernel; a fully connected layer's softmax can be applied
// in the epilogue when the block covers all its outputs (IConv.softmax).
// n / d for 0 ≤ n < 2^31 by a divisor fixed for the launch, as a multiply
// and a shift (the host's fastDiv): mul = ⌈2^(31+L)/d⌉ with 2^L ≥ d >
// 2^(L-1), shr = L - 1; mul = 0 for d = 1. A 32-bit division by a
// variable is about 20 instructions, and conv_s8 makes a dozen a thread.
struct FDiv {
	unsigned mul, shr;
};

__device__ __forceinline__ int fdiv(int n, FDiv d) { return d.mul ? __umulhi((unsigned)n, d.mul) >> d.shr : n; }

struct IConv {
	int rows, hw, ow, h, w, c, sh, sw, ph, pw, wpt, ksteps, cout, qstride, relu;
	float inScale, qinv; // the float input's scale; 1/qscale for quant_exact
	// The input tile in shared memory (tile != 0; see conv_tile): the
	// input rows the block's output rows read, ic columns from -pw; oh
	// output rows an image, ihv = (oh-1)·sh + (kh-1)·dh + 1 input rows
	// (from -ph) that an image's output rows read.
	int tile, kh, dh, oh, ihv, ic;
	int wtiles; // channel tiles of 8 in the weights (fragment order)
	// A fully connected layer followed by a softmax over its cout
	// outputs (one channel chunk): y receives the softmax.
	int softmax;
	FDiv dhw, dow, doh, dihv, dic; // division by hw, ow, oh, ihv and ic
};

// Where conv_s8 reads output element (b, c, oy, ox)'s residual: per
// dimension d (0 images, 1 channels, 2 rows, 3 columns) index j = start
// + step·i of a source of in[d] (element stride stride[d]), where i is in
// [lo, hi) and j in the source; fill elsewhere. The identity map of the
// output's own shape reads a residual of that shape; a ResNet shortcut's
// strided Slice and channel Pad (gather_affine's map, composed) are read
// in place, with no gather kernel and no gathered tensor.
struct RMap {
	int start[4], step[4], lo[4], hi[4], in[4], stride[4];
	float fill;
	int mapped; // 0: the identity, read at the output's own offset
};

// The offset of index i along dimension d of the residual map, or -1
// where the map fills.
__device__ __forceinline__ int rmap_at(const RMap& m, int d, int i) {
	int j = m.start[d] + m.step[d] * i;
	return i >= m.lo[d] && i < m.hi[d] && (unsigned)j < (unsigned)m.in[d] ? j * m.stride[d] : -1;
}

#define CONV_WARPS 4

// quant(x, scale) without a division or a branch: with inv = 1/scale
// rounded to float (quantInverse on the host, which passes 0 where scale
// is below 2^-100 or 1/scale no normal float: then the caller divides,
// conv_quantized), t = x·inv is within an ulp of x/scale, the remainder
// x - t·scale is exact in one fused multiply-add, and t + remainder·inv
// rounded is the float quotient x/scale itself (Markstein's division
// step), which quant then rounds and clamps. Infinite x gives an infinite
// t (kept: NaN only from the remainder), NaN gives 0.
__device__ __forceinline__ int quant_exact(float x, float scale, float inv) {
	float t = x * inv;
	float v = fmaf(fmaf(-t, scale, x), inv, t);
	v = fabsf(t) > 3.40282347e38f ? t : v; // t infinite
	int r = __float2int_rn(fminf(fmaxf(v, -128.0f), 127.0f));
	return x != x ? 0 : r;
}

__device__ __forceinline__ void mma_s8(int* c, const unsigned* a, const unsigned* b) {
#if __CUDA_ARCH__ >= 800
	asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
		: "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
		: "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
	__trap(); // the host never launches these kernels below sm_80
#endif
}

// The 8 channels 4·z to 4·z+7 of a float NCHW pixel (px: its channel 0)
// quantized as quantize_nhwc_s8 does, the channels past c 0.
__device__ __forceinline__ uint2 quant_pair(const float* __restrict__ px, int z, const IConv& g) {
	unsigned v[2] = {0u, 0u};
#pragma unroll
	for (int j = 0; j < 8; j++) {
		int ch = 4 * z + j;
		if (ch < g.c) v[j >> 2] |= (unsigned)(quant(__ldg(px + ch * g.h * g.w), g.inScale) & 0xff) << (8 * (j & 3));
	}
	return make_uint2(v[0], v[1]);
}

// Two A words from global memory: input pixel (y0 + t.x, x0 + t.y), its
// words t.z and t.z+1 (t.z even), or 0 outside the image. img is the
// pixel's image offset: in words of q, or in floats of xf when the input
// is float.
__device__ __forceinline__ uint2 conv_pair(const unsigned* __restrict__ q, const float* __restrict__ xf, int img, int y0, int x0, int4 t, const IConv& g) {
	unsigned iy = y0 + t.x, ix = x0 + t.y;
	if (!(iy < (unsigned)g.h && ix < (unsigned)g.w)) return make_uint2(0u, 0u);
	if (!xf) return __ldg((const uint2*)&q[img + (iy * g.w + ix) * g.wpt + t.z]);
	return quant_pair(xf + img + iy * g.w + ix, t.z, g);
}

// The block's input tile in shared memory: the input rows its product
// rows read, numbered as virtual rows v = b·ihv + oy·sh + ky·dh (image b,
// output row oy, kernel row ky; row iy = v - b·ihv - ph of image b), from
// v0, the first output row's; each slot holds columns -pw to -pw+ic-1 of
// its row, every word of each pixel, zero outside the image. Each input
// word is then read from global memory and bounds-checked once per block
// instead of once per tap and product row, and a float input is
// quantized once per block. An A pair is then the words at a row's base
// (its virtual row's slot and column ox·sw) plus its word's tile offset
// (the word table's 4th field: ((ky·dh)·ic + kx·dw)·wpt + z words, in
// bytes), with no bounds to check. slotBase (shared, one entry a slot)
// holds each slot's source row: its offset in q (or xf) or -1 where it is
// zero.
__device__ __forceinline__ void conv_tile(unsigned* tile, int* slotBase, const unsigned* __restrict__ q, const float* __restrict__ xf,
	int v0, int slots, const IConv& g) {
	for (int s = threadIdx.x; s < slots; s += blockDim.x) {
		int v = v0 + s, b = fdiv(v, g.dihv), iy = v - b * g.ihv - g.ph;
		int base = -1;
		if ((unsigned)iy < (unsigned)g.h) base = xf ? (b * g.c * g.h + iy) * g.w : (b * g.h + iy) * g.w * g.wpt;
		slotBase[s] = base;
	}
	__syncthreads();
	int pairs = g.wpt >> 1;
	for (int e = threadIdx.x; e < slots * g.ic; e += blockDim.x) {
		int s = fdiv(e, g.dic), ix = e - s * g.ic - g.pw;
		int base = slotBase[s];
		bool in = base >= 0 && (unsigned)ix < (unsigned)g.w;
		uint2* dst = (uint2*)(tile + e * g.wpt);
		if (xf) { // cq = 8: one pair
			dst[0] = in ? quant_pair(xf + base + ix, 0, g) : make_uint2(0u, 0u);
			continue;
		}
		const uint2* src = (const uint2*)(q + base + ix * g.wpt);
		for (int z = 0; z < pairs; z++) dst[z] = in ? __ldg(src + z) : make_uint2(0u, 0u);
	}
	__syncthreads();
}

// S steps of 32 taps: all their operands, then their products. wd is
// this lane's word in the first step's word table, wp its B pair of the
// first step's first channel tile (fragment order: a step's tiles
// together, 32 pairs each). With a tile (TILE), row (mt, h)'s A pairs are
// at byte pix[mt][h] + t.w of it; without, they are read from global
// memory (conv_pair) with the row's window corner (y0, x0) and image
// offset pix.
template <bool TILE, int S, int MT, int NT>
__device__ __forceinline__ void conv_steps(int (&acc)[MT][NT][4], const unsigned* __restrict__ q, const float* __restrict__ xf,
	const char* tile, const int4* __restrict__ wd, const uint2* __restrict__ wp, const int (&pix)[MT][2], const int (&y0)[MT][2],
	const int (&x0)[MT][2], const IConv& g) {
	unsigned a[S][MT][4], b[S][NT][2];
#pragma unroll
	for (int s = 0; s < S; s++) {
		int4 t = __ldg(&wd[s * 8]);
#pragma unroll
		for (int mt = 0; mt < MT; mt++)
#pragma unroll
			for (int h = 0; h < 2; h++) {
				uint2 v = TILE ? *(const uint2*)(tile + pix[mt][h] + t.w) : conv_pair(q, xf, pix[mt][h], y0[mt][h], x0[mt][h], t, g);
				a[s][mt][h] = v.x;
				a[s][mt][2 + h] = v.y;
			}
#pragma unroll
		for (int nt = 0; nt < NT; nt++) {
			uint2 v = __ldg(&wp[(s * g.wtiles + nt) * 32]);
			b[s][nt][0] = v.x;
			b[s][nt][1] = v.y;
		}
	}
#pragma unroll
	for (int s = 0; s < S; s++)
#pragma unroll
		for (int nt = 0; nt < NT; nt++)
#pragma unroll
			for (int mt = 0; mt < MT; mt++) mma_s8(acc[mt][nt], a[s][mt], b[s][nt]);
}

// This warp's share of K: pairs of steps wk, wk+KW, ..., then an odd last
// step; wd and wp as for conv_steps, at step 0.
template <bool TILE, int MT, int NT, int KW>
__device__ __forceinline__ void conv_k(int wk, int (&acc)[MT][NT][4], const unsigned* __restrict__ q, const float* __restrict__ xf,
	const char* tile, const int4* __restrict__ wd, const uint2* __restrict__ wp, const int (&pix)[MT][2], const int (&y0)[MT][2],
	const int (&x0)[MT][2], const IConv& g) {
	int pairs = g.ksteps >> 1, stepPairs = g.wtiles * 32; // B pairs a step
	const int4* d = wd + 2 * wk * 8;
	const uint2* w = wp + 2 * wk * stepPairs;
	for (int pp = wk; pp < pairs; pp += KW, d += 2 * KW * 8, w += 2 * KW * stepPairs)
		conv_steps<TILE, 2>(acc, q, xf, tile, d, w, pix, y0, x0, g);
	if ((g.ksteps & 1) && wk == pairs % KW)
		conv_steps<TILE, 1>(acc, q, xf, tile, wd + (g.ksteps - 1) * 8, wp + (g.ksteps - 1) * stepPairs, pix, y0, x0, g);
}

// The epilogue's second pass over the block's outputs, staged as
// v = acc·scale + bias in st (channel-major, SP floats a channel): each
// work item is W consecutive rows of one channel (W = 4 where the output
// planes are whole groups of 4 pixels, so that a group lies in one plane
// and its floats are one 16-byte load or store, consecutive threads
// taking consecutive groups: coalesced along NCHW rows), adding the
// residual, applying the ReLU, writing y unless a softmax follows, and
// leaving the final values in st for the quantized copy or the softmax.
// ebase[r]: row r's output offset (b·cout)·hw + p; rrow[r]: its residual
// offset along images, rows and columns (-1: filled).
template <int W, int BM, int BN, int SP>
__device__ __forceinline__ void conv_out(float* st, const int* ebase, const int* rrow, const float* __restrict__ res,
	float* __restrict__ y, int c0, const IConv& g, const RMap& rm) {
	for (int idx = threadIdx.x; idx < BN * BM / W; idx += blockDim.x) {
		int cl = idx / (BM / W), r = idx % (BM / W) * W;
		int c = c0 + cl;
		if (c >= g.cout || blockIdx.x * BM + r >= g.rows) continue; // W = 4: rows are whole groups too
		float* s = st + cl * SP + r;
		float v[W];
		if (W == 4) *(float4*)v = *(const float4*)s;
		else v[0] = s[0];
		int i = ebase[r] + c * g.hw;
		if (res && !rm.mapped) {
			float rv[W];
			if (W == 4) *(float4*)rv = __ldg((const float4*)(res + i));
			else rv[0] = __ldg(res + i);
#pragma unroll
			for (int e = 0; e < W; e++) v[e] = v[e] + rv[e];
		} else if (res) {
			int rc = rmap_at(rm, 1, c);
#pragma unroll
			for (int e = 0; e < W; e++) {
				int rr = rrow[r + e];
				v[e] = v[e] + ((rr | rc) < 0 ? rm.fill : __ldg(res + rr + rc));
			}
		}
		if (g.relu)
#pragma unroll
			for (int e = 0; e < W; e++) v[e] = fmaxf(v[e], 0.0f);
		if (y && !g.softmax) {
			if (W == 4) *(float4*)(y + i) = *(const float4*)v;
			else y[i] = v[0];
		}
		if (W == 4) *(float4*)s = *(const float4*)v;
		else s[0] = v[0];
	}
}

// The epilogue's third pass: the quantized copy of the final values in st,
// 8 channels (8 bytes) a work item, consecutive threads taking a row's
// consecutive pieces; the stage holds 0 for the channels past cout, which
// therefore quantize to 0. DIV: divide (quant) instead of quant_exact.
template <bool DIV, int BM, int BN, int SP>
__device__ __forceinline__ void conv_quantized(const float* st, signed char* __restrict__ qo, float qscale, int c0, const IConv& g) {
	const int KC = BN / 8;
	int chunks = min(KC, (g.qstride - c0) >> 3);
	for (int idx = threadIdx.x; idx < BM * KC; idx += blockDim.x) {
		int r = idx / KC, k = idx % KC;
		int row = blockIdx.x * BM + r;
		if (row >= g.rows || k >= chunks) continue;
		unsigned w[2] = {0u, 0u};
#pragma unroll
		for (int j = 0; j < 8; j++) {
			float x = st[(8 * k + j) * SP + r];
			int v = DIV ? quant(x, qscale) : quant_exact(x, qscale, g.qinv);
			w[j >> 2] |= (unsigned)(v & 0xff) << (8 * (j & 3));
		}
		*(uint2*)(qo + row * g.qstride + c0 + 8 * k) = make_uint2(w[0], w[1]);
	}
}

template <int MT, int NT, int KW>
__device__ __forceinline__ void conv_s8(const unsigned* __restrict__ q, const float* __restrict__ xf, const int4* __restrict__ words,
	const unsigned* __restrict__ wts, const float* __restrict__ scale, const float* __restrict__ bias, const float* __restrict__ res,
	float* __restrict__ y, signed char* __restrict__ qo, float qscale, const IConv& g, const RMap& rm) {
	// SP: the stage's floats a channel, BM + 4 so that a warp's pass-one
	// stores (8 rows × 4 channels 2 apart) fall in 32 banks and rows stay
	// 16-byte aligned.
	const int WM = CONV_WARPS / KW, BM = WM * 16 * MT, BN = 8 * NT, E = MT * NT * 4, SP = BM + 4;
	__shared__ int red[KW > 1 ? (KW - 1) * WM * E * 32 : 1]; // partial sums of the warps wk > 0
	__shared__ int ebase[BM], rrow[BM];                       // see conv_out
	// The input tile (g.tile), then its slots' sources; after the
	// product, the epilogue's stage (BN × SP floats; the host sizes the
	// dynamic shared memory for both).
	extern __shared__ __align__(16) unsigned tile[];
	int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
	int wm = warp % WM, wk = warp / WM;
	int gr = lane >> 2, tg = lane & 3;
	int row0 = blockIdx.x * BM + wm * 16 * MT;
	int c0 = blockIdx.y * BN;
	// The virtual input rows (see conv_tile) the block's product rows
	// read: from its first output row's first to its last's last.
	int R0 = fdiv(blockIdx.x * BM, g.dow), R1 = fdiv(min(blockIdx.x * BM + BM, g.rows) - 1, g.dow);
	int b0 = fdiv(R0, g.doh), b1 = fdiv(R1, g.doh);
	int v0 = b0 * g.ihv + (R0 - b0 * g.oh) * g.sh;
	int slots = b1 * g.ihv + (R1 - b1 * g.oh) * g.sh + (g.kh - 1) * g.dh - v0 + 1;
	// Each of this thread's 2·MT rows: with a tile, its base there (see
	// conv_tile); without, its window corner and image (pix), rows past
	// the product's getting a corner no tap reaches, so that they read 0.
	int pix[MT][2], y0[MT][2], x0[MT][2];
	int imgSize = xf ? g.c * g.h * g.w : g.h * g.w * g.wpt;
#pragma unroll
	for (int mt = 0; mt < MT; mt++)
#pragma unroll
		for (int h = 0; h < 2; h++) {
			int row = row0 + mt * 16 + gr + 8 * h;
			y0[mt][h] = -(1 << 28);
			x0[mt][h] = 0;
			pix[mt][h] = 0;
			if (row < g.rows) {
				int b = fdiv(row, g.dhw), p = row - b * g.hw;
				int R = fdiv(row, g.dow), ox = row - R * g.ow, oy = R - b * g.oh;
				if (g.tile) {
					pix[mt][h] = ((b * g.ihv + oy * g.sh - v0) * g.ic + ox * g.sw) * g.wpt * 4;
				} else {
					y0[mt][h] = oy * g.sh - g.ph;
					x0[mt][h] = ox * g.sw - g.pw;
					pix[mt][h] = b * imgSize;
				}
			}
		}
	for (int r = threadIdx.x; r < BM; r += blockDim.x) {
		int row = blockIdx.x * BM + r;
		if (row >= g.rows) continue;
		int b = fdiv(row, g.dhw), p = row - b * g.hw;
		ebase[r] = b * g.cout * g.hw + p;
		if (rm.mapped) {
			int R = fdiv(row, g.dow), ox = row - R * g.ow, oy = R - b * g.oh;
			int ry = rmap_at(rm, 2, oy), rx = rmap_at(rm, 3, ox), rb = rmap_at(rm, 0, b);
			rrow[r] = (ry | rx | rb) < 0 ? -1 : ry + rx + rb;
		}
	}
	int acc[MT][NT][4];
#pragma unroll
	for (int mt = 0; mt < MT; mt++)
#pragma unroll
		for (int nt = 0; nt < NT; nt++)
#pragma unroll
			for (int i = 0; i < 4; i++) acc[mt][nt][i] = 0;
	const int4* wd = words + 2 * tg;
	const uint2* wp = (const uint2*)wts + (c0 >> 3) * 32 + lane;
	if (g.tile) {
		conv_tile(tile, (int*)tile + slots * g.ic * g.wpt, q, xf, v0, slots, g);
		conv_k<true, MT, NT, KW>(wk, acc, q, xf, (const char*)tile, wd, wp, pix, y0, x0, g);
	} else {
		conv_k<false, MT, NT, KW>(wk, acc, q, xf, (const char*)tile, wd, wp, pix, y0, x0, g);
	}
	if (KW > 1 && wk > 0) {
		int* r = red + ((wk - 1) * WM + wm) * E * 32 + lane;
#pragma unroll
		for (int mt = 0; mt < MT; mt++)
#pragma unroll
			for (int nt = 0; nt < NT; nt++)
#pragma unroll
				for (int i = 0; i < 4; i++) r[((mt * NT + nt) * 4 + i) * 32] = acc[mt][nt][i];
	}
	__syncthreads(); // the partial sums are written, the tile no longer read
	float* st = (float*)tile;
	// Pass one: the accumulators, scaled and biased in the CPU engine's
	// order, into the stage (this thread's channels' scales and biases
	// read once), 0 for the channels past cout (pass two leaves those).
	if (wk == 0) {
#pragma unroll
		for (int k = 1; k < KW; k++) {
			const int* r = red + ((k - 1) * WM + wm) * E * 32 + lane;
#pragma unroll
			for (int mt = 0; mt < MT; mt++)
#pragma unroll
				for (int nt = 0; nt < NT; nt++)
#pragma unroll
					for (int i = 0; i < 4; i++) acc[mt][nt][i] += r[((mt * NT + nt) * 4 + i) * 32];
		}
#pragma unroll
		for (int nt = 0; nt < NT; nt++)
#pragma unroll
			for (int j = 0; j < 2; j++) {
				int cl = nt * 8 + 2 * tg + j, c = min(c0 + cl, g.cout - 1);
				float sc = __ldg(scale + c), bi = bias ? __ldg(bias + c) : 0.0f;
#pragma unroll
				for (int mt = 0; mt < MT; mt++)
#pragma unroll
					for (int h = 0; h < 2; h++) {
						float v = (float)acc[mt][nt][2 * h + j] * sc;
						if (bias) v = v + bi;
						st[cl * SP + wm * 16 * MT + mt * 16 + gr + 8 * h] = c0 + cl < g.cout ? v : 0.0f;
					}
			}
	}
	__syncthreads();
	// Pass two: residual, ReLU, y.
	if (g.hw % 4 == 0) conv_out<4, BM, BN, SP>(st, ebase, rrow, res, y, c0, g, rm);
	else conv_out<1, BM, BN, SP>(st, ebase, rrow, res, y, c0, g, rm);
	if (!qo && !g.softmax) return;
	__syncthreads();
	if (g.softmax) { // the rows' logits, one thread a row
		for (int r = threadIdx.x; r < BM; r += blockDim.x)
			if (blockIdx.x * BM + r < g.rows) softmax_row(st + r, SP, y + (blockIdx.x * BM + r) * g.cout, g.cout, 0);
		return;
	}
	// Pass three: the quantized copy (quant_exact, or the division where
	// the host gives no inverse: the same for the whole launch).
	if (g.qinv != 0.0f) conv_quantized<false, BM, BN, SP>(st, qo, qscale, c0, g);
	else conv_quantized<true, BM, BN, SP>(st, qo, qscale, c0, g);
}

// MINB: blocks per SM the registers must allow (more for the smaller
// tiles, whose warps wait on loads and need company).
#define CONV_S8(MT, NT, KW, MINB)                                                                                                   \
	extern "C" __global__ void __launch_bounds__(CONV_WARPS * 32, MINB) conv_s8_m##MT##n##NT##k##KW(const unsigned* q,            \
		const float* xf, const int4* words, const unsigned* wts, const float* scale, const float* bias, const float* res, float* y, \
		signed char* qo, float qscale, IConv g, RMap rm) {                                                                         \
		conv_s8<MT, NT, KW>(q, xf, words, wts, scale, bias, res, y, qo, qscale, g, rm);                                             \
	}
CONV_S8(1, 1, 1, 8)
CONV_S8(1, 2, 1, 8)
CONV_S8(1, 4, 1, 6)
CONV_S8(1, 8, 1, 4)
CONV_S8(2, 1, 1, 8)
CONV_S8(2, 2, 1, 6)
CONV_S8(2, 4, 1, 4)
CONV_S8(2, 8, 1, 2)
CONV_S8(1, 1, 4, 8)
CONV_S8(1, 2, 4, 8)
CONV_S8(1, 4, 4, 6)
CONV_S8(1, 8, 4, 4)
