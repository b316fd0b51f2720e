// Package qgemm is the INT8 matrix multiply of the CPU inference engine, the
// integer sibling of core/gemm: C_int32 = A_int8 · B_int8, exact, for
// TensorRT-style implicit INT8 (weights symmetric per output channel in
// [-127, 127], activations symmetric per tensor in [-128, 127]), plus the
// Go quantization helpers around it.
//
// # Entry points
//
//	PackA                        weights (m = output channels × k), packed
//	                             once at model load.
//	(*PackedA).Repack            activations as the left operand (INT8
//	                             MatMul rows, attention's Q), packed per
//	                             multiplication into reused buffers.
//	(*PackedA).Mul               B row-major (k×n); packs B per call in
//	                             blocks of 512 columns (pooled buffer).
//	(*PackedA).MulPackedBuf      the convolution hot path: B already in the
//	                             packed-B layout (filled by im2col through
//	                             PackBRows / PackBRow, or PackBInto); never
//	                             allocates.
//	(*PackedA).MulTaps           implicit GEMM: B read in place from the
//	                             caller's bytes, group g of k at a per-group
//	                             offset (a stride-1 convolution over a
//	                             channel-interleaved image: no unfolding, no
//	                             packing; see below); never allocates.
//	Dequantize                   int32 C → float32: ·rowScale[i] + bias[i],
//	                             optional ReLU.
//	DequantizePlanes             convolution output channels: ·scale +
//	                             bias + residual, then an Activation (ReLU
//	                             or Clip), in one pass; rows read at a
//	                             stride (the wide strategy's padded rows),
//	                             scale and bias per plane of rows, the
//	                             planes written a pitch apart (a chunk of
//	                             rows of every channel in one call).
//	RequantizePlanes             the same, each value then quantized with
//	                             the next layer's scale into int8 (int8
//	                             activations between INT8 layers).
//	RequantizeBlocks             RequantizePlanes into channels interleaved
//	                             in blocks of four (the layout MulTaps
//	                             reads), 16 positions a step with AVX-512.
//	DequantizeCols               int32 C → float32: ·colScale[j] + bias[j]
//	                             (weights as the right operand). All of
//	                             them convert 16 values per step with
//	                             AVX-512, 8 with AVX2 (requantizing: up
//	                             to 64 and 32), a row's last ones under a
//	                             mask; a plane whose rows follow each
//	                             other in C and dst as one row.
//	DepthwiseSums                a depthwise convolution's taps summed
//	                             exactly over contiguous runs, 16 positions
//	                             per step with AVX-512 or AVX2 (no GEMM;
//	                             DepthwiseVector says whether it is there).
//	DepthwiseRows.Sums           the same straight from the input planes,
//	                             each output's kernel-row window gathered
//	                             into a dword (VPERMB) and four taps
//	                             multiplied at once; masked loads give the
//	                             padding (AVX-512 VNNI with VBMI; where
//	                             NewDepthwiseRows says it runs).
//	Quantize                     float32 → int8 with a per-tensor scale,
//	                             16 values per step with AVX-512 (the last
//	                             ones under a mask), 8 with AVX2.
//	QuantizeInterleaved          four float planes into one channel-
//	                             interleaved int8 plane (the layout
//	                             MulTaps reads a convolution's input in),
//	                             rows at a pitch, columns at a step of 1 or
//	                             2 (one phase of a strided convolution).
//	QuantizeRows                 one plane into rows at a pitch, columns
//	                             at a step (a depthwise convolution's phase
//	                             planes). Both give Quantize's bytes.
//	Interleave, GatherRows       QuantizeInterleaved and QuantizeRows for
//	                             planes already in int8: bytes moved.
//	QuantizeWeights              per-row symmetric weight quantization.
//
// The quantizers, the epilogues and the depthwise sums use AVX-512 under
// the AVX-512 VNNI and AMX GEMMs and AVX2 under the AVX2 and AVX-VNNI ones, so that
// forcing those (SetImpl) on an AVX-512 machine runs all of the path
// their CPUs take.
//
// C is always overwritten (there is no accumulate mode) and k = 0 gives
// C = 0. Everything runs on the calling goroutine; the engine parallelises
// over images. PackedA is immutable (but for an atomic hint) and safe for
// concurrent use.
//
// # Exactness
//
// Every implementation computes each C element as the exact integer sum
// Σ_p A(i,p)·B(p,j) in int32 with two's complement wrapping, so results are
// bit-identical across implementations, and equal to the mathematical value
// whenever it fits in int32: always for k ≤ 132104 with weights in
// [-127, 127] (127·128·k < 2^31), in particular for the k ≤ 8192 the engine
// needs. (Beyond that every implementation returns the same wrapped value.)
//
// # Packed-B layout (public: filled directly by im2col)
//
// k is padded to Kp = PaddedK(k), a multiple of KGroup = 4. A k×n operand B
// is stored as ceil(n/NR) panels of NR = 16 columns, Kp·16 bytes each.
// Inside a panel, the 4 k values of a column that one VNNI dword lane
// consumes are adjacent:
//
//	B(p, j) is at (j/16)·16·Kp + (p/4)·64 + (j%16)·4 + p%4   (PackedBOffset)
//	len = ceil(n/16)·16·Kp                                    (PackedBSize)
//
// so group g of panel q (k rows 4g..4g+3 of 16 columns) is one 64-byte line,
// one ZMM load. The values are plain int8 (no offset): 0 is a zero
// activation (convolution padding), and the buffer does not depend on the
// CPU. Columns ≥ n of the last panel are computed and discarded; the pad
// rows k..Kp-1 only ever meet the zeros of the packed A, so their content
// is irrelevant (PackBRow and PackBRows do not write them; PackBInto and
// MakePackedBBuffer zero them).
//
// MulTaps reads the same 64-byte lines in place: B(p, j) is
// src[offs[p/4] + 4j + p%4], i.e. this layout with a panel stride of 64
// bytes and a caller-chosen offset per group instead of +64 per group. An
// image stored [C/4][Hp·Wp][4] (4 channels' bytes adjacent per pixel), with
// the weights' k ordered (channel group, tap, 4 channels), gives for a
// stride-1 convolution the offset channel-group plane + tap shift for each
// group; the output columns are the pixels of the padded width. The
// kernels read whole 16-column panels, so TapsSpan(n) = 64·ceil(n/16)
// bytes after every offset must exist (checked; extra columns discarded).
//
// Writers: PackBInto packs a whole row-major matrix; PackBRows writes a
// range of rows and interleaves each aligned group of 4 rows with AVX2 at
// once (the fastest way for im2col: unfold 4 or 8 rows into a small buffer,
// then call it); PackBRow writes one row (AVX-512BW: one masked byte store
// per 16 columns, else scalar). PackBRow and PackBRows write only the bytes
// of their rows, so disjoint rows may be written concurrently.
//
// # Packed-A layout (internal)
//
// The m rows of A are split as evenly as possible into ceil(m/MR) panels
// (MR = 12 for VNNI and AVX2, 6 for AVX-VNNI, 8 for Go; m = 20 gives
// 10+10). A panel of r
// rows starting at row0 occupies [row0·Kp, (row0+r)·Kp) and is group-major:
// A(row0+i, p) is at row0·Kp + (p/4)·4r + 4i + p%4 (zero for p ≥ k), so per
// group the kernel broadcasts one dword (4 k values) per row. PackA also
// keeps an int16 copy with the same indices (read by AVX2's widening
// kernel, for B with negative bytes) and the row sums (for the VNNI
// correction). A PackedA packed under one
// implementation is usable under another (taller panels are run as several
// shorter tiles).
//
// # Micro-kernels
//
// Generated by gen_kernels.go (go generate) into kernels_amd64.s, one
// straight-line kernel per tile height; one call computes several adjacent
// tiles of a column block. Each kernel is generated twice from one
// function: for packed B, and for B in place (MulTaps), which loads the
// group's offset (one scalar load per group) and addresses B from the
// tile's base instead of advancing 64 bytes per group:
//
//	VNNI (AVX512_VNNI + F)   r×32, r = 1..12 (24 ZMM accumulators), and
//	                         r×16 for an odd last panel. VPDPBUSD multiplies
//	                         unsigned by signed bytes, so B is made unsigned
//	                         on load (XOR 0x80 = +128) and the kernel adds
//	                         −128·Σ_p A(i,p) (precomputed by PackA) to row i
//	                         after the last k block: Σ A·(B+128) − 128·ΣA =
//	                         Σ A·B exactly (mod 2^32). Per group: 2 ZMM loads
//	                         + 2 XOR of B, r dword broadcasts of A, 2r
//	                         VPDPBUSD (64 multiply-adds each).
//	AVX-VNNI (VEX, YMM)      r×16, r = 1..6 (12 YMM accumulators), for CPUs
//	                         with AVX-VNNI but without AVX-512 (Intel Alder
//	                         Lake and later client cores): the VNNI kernel's
//	                         scheme (B+128, the same row correction) on the
//	                         two 32-byte halves of each 64-byte line; the
//	                         Go assembler encodes VPDPBUSD only with EVEX,
//	                         so the generator writes the VEX form as bytes.
//	AVX2, B ≥ 0              r×8, r = 1..12. VPMADDUBSW multiplies B as
//	                         unsigned bytes by A and sums pairs into int16,
//	                         which cannot saturate while B ≤ 127:
//	                         |2·127·128| < 32767; VPMADDWD with ones adds a
//	                         column's two pairs into int32, VPADDD
//	                         accumulates. Per group and row: one dword
//	                         broadcast of A and 3 vector operations for 32
//	                         multiply-adds (the widening kernel needs 4 and
//	                         a conversion). Post-ReLU activations are
//	                         ≥ 0, so this is the common case. Every B load
//	                         is ORed into a register; a tile whose B has a
//	                         negative byte (read as 256+b) stores nothing,
//	                         and the kernel returns the tiles it left: the
//	                         widening kernel does the rest of that
//	                         multiplication (a wasted tile, then the same
//	                         speed as before).
//	AVX2, any B              r×8, r = 1..6. B is sign-extended to int16
//	                         (VPMOVSXBW), A is read from its int16 copy,
//	                         VPMADDWD sums pairs into int32 (|2·128·128|
//	                         cannot saturate), VPADDD accumulates; the two
//	                         partial sums per column are added at the end.
//	                         (The exact VPMADDUBSW scheme for signed B,
//	                         |B|·sign(B)·A with VPABSB/VPSIGNB, needs a
//	                         fourth operation per 32 multiply-adds and A ≠
//	                         −128; it measured no faster than this one.)
//	Go                       any tile, 2 rows × 16 columns at a time.
//	AMX (MulTaps only)       16×32 per block: TDPBSSD multiplies int8 tiles
//	                         (16 rows of A × 64 k bytes by 16 k groups × 16
//	                         columns of B) into two 16×16 int32 tiles, signed
//	                         by signed, no correction. Tiles load rows at a
//	                         fixed stride, so each block of 32 columns first
//	                         copies its k groups' 64-byte rows of B into a
//	                         staging buffer (shared by every tile of A); A
//	                         is a row-major copy made by PackTapsA (rows to
//	                         16, k to 64 bytes, zero padding). The tile
//	                         instructions are written as bytes (Go's
//	                         assembler has no AMX), the tile state asked
//	                         of Linux once (arch_prctl). The other products
//	                         run on the VNNI kernels.
//
// AMX is chosen at init when the CPU and OS support it (Sapphire Rapids
// and later Xeons, Linux), else VNNI (golang.org/x/sys/cpu), else
// AVX-VNNI, else AVX2, else Go; the purego build tag or a non-amd64
// GOARCH builds only the Go kernel. SetImpl switches
// implementation (tests and benchmarks).
//
// # Loop nest and blocking
//
//	for each k block of ≤ 1024 (k split evenly; most convolutions are one)
//	  for each row block of ≤ 384 rows (whole A panels)
//	    for each column block (full tiles whose B fits 24 KiB of L1)
//	      for each A panel: one kernel call over the block's tiles
//	    the last, narrower tile column (through a temporary if partial)
//
// The second and later k blocks add to C; the VNNI correction is added with
// the last. MulTaps runs the same nest, each k block with its slice of the
// offsets.
package qgemm

//go:generate go run gen_kernels.go
