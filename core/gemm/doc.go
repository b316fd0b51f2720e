// Package gemm is the single-precision matrix multiply of the CPU inference
// engine: convolutions (their input read in place, or unfolded) and fully
// connected layers.
//
// # Entry points
//
//	Sgemm / SgemmEx              C = A·B (+C), both operands row-major; packs
//	                             both per call (general MatMul).
//	PackA + (*PackedA).Mul       constant left operand (conv weights Cout×K)
//	                             packed once at model load, B row-major.
//	(*PackedA).MulPackedBuf      unfolded convolutions: im2col writes its
//	                             output directly in the packed-B layout, so
//	                             nothing is packed per call; never allocates.
//	PackB + MulPackedB           constant right operand (FC weights, possibly
//	                             stored transposed as ONNX Gemm transB=1; a
//	                             channels-last convolution's weights, A its
//	                             positions × channels); A's rows read in
//	                             place by the direct kernels, packed by Go.
//	(*PackedA).MulRowsEx         B read in place: row p is the run of n
//	                             values at b[off[p]] (a stride-1
//	                             convolution's padded planes shifted by a
//	                             tap); nothing unfolded or packed. Rows
//	                             pages apart (a pointwise convolution's
//	                             input planes) ran slower than MulEx's
//	                             packing on MobileNetV2 and ResNet-50.
//	(*PackedA).MulGridEx         the same over lines×width columns at two
//	                             pitches: a convolution's output rows,
//	                             computed straight into the output.
//
// The Ex variants take an *Epilogue (row bias = conv bias per output
// channel, column bias = FC bias, ReLU, clip to [Lo, Hi] as ReLU6, and a
// residual in C's layout, read where an accumulating product reads C's
// old values) that is applied to each C tile in the kernel's registers
// right after its last k block, and a worker count.
//
// # Packed-B layout (public: filled directly by im2col)
//
// A k×n operand B is stored as ceil(n/NR) panels of NR = 16 columns. Panel
// q holds columns [16q, 16q+16) for all k rows, row-major inside the panel:
//
//	B(p, j) is at (j/16)·16·k + p·16 + j%16         (PackedBOffset)
//	len = ceil(n/16)·16·k                           (PackedBSize)
//
// so panel q is the contiguous slice [16qk, 16(q+1)k) and the 16 values of
// one row of a panel are one 64-byte line. Columns ≥ n of the last panel
// must be zero (MakePackedBBuffer returns a zeroed buffer; a writer that
// never touches those slots keeps them zero across reuse). Buffers should be
// 64-byte aligned (MakePackedBBuffer) so that each AVX-512 load touches one
// cache line. For a convolution with K = Cin·KH·KW rows and n = OH·OW
// output pixels, the writer handles 16 output pixels at a time and for each
// reduction index p = (ci·KH + kh)·KW + kw stores their 16 input values (or
// 0 for padding) at panel + 16p.
//
// Why this layout: the micro-kernel consumes B one row of 16 (AVX2: two
// YMM loads) or 2×16 (AVX-512: two ZMM loads from adjacent panels) floats
// per k step. In the packed layout these are consecutive 64-byte lines, so
// every stream is sequential (hardware prefetch works, every fetched byte is
// used, no TLB or cache-set conflicts from large leading dimensions) and the
// zero padding removes column edge cases from the kernel: a partial last
// panel is computed at full width and only the store goes through a small
// temporary. NR = 16 is one ZMM / two YMM registers, so the same buffer
// serves both kernels and the layout does not depend on the CPU.
//
// # Packed-A layout (internal)
//
// The m rows of A are split as evenly as possible into ceil(m/MR) panels
// (MR = 8 for AVX-512, 6 for AVX2, 8 for Go; sizes differ by at most one, so
// m = 20 gives 7+7+6 rather than 8+8+4 and no tile is mostly idle). A panel
// of r rows starting at row0 occupies [row0·k, (row0+r)·k) and is p-major:
// A(row0+i, p) is at row0·k + p·r + i. Per k step the kernel broadcasts the
// r consecutive floats of one column. A PackedA packed under one
// implementation is usable under another (taller panels are run as several
// shorter tiles).
//
// # Loop nest and blocking (Goto/BLIS)
//
//	for each column block of ≤ ncMax (only when B is packed per call)
//	  for each k block of ≤ kcMax (k split evenly; k ≤ 512 is one block)
//	    [pack the B block]
//	    for each row block of ≤ mcMax rows (whole A panels)
//	      for each tile column (32 columns AVX-512, 16 AVX2)
//	        for each A panel: micro-kernel on an r×32 (r×16) tile
//
// A B tile is reused from L1/L2 by every A panel of the row block; the
// mc×kc block of A stays in L2 while B tiles stream past it. C is updated
// once per k block; the epilogue runs on the last one.
//
// # Micro-kernels
//
// Generated by gen_kernels.go (go generate) into kernels_amd64.s, one
// straight-line kernel per tile height so that no tile computes padded
// rows:
//
//	AVX-512F   r×32, r = 1..8 (16 ZMM accumulators for r = 8) and r×16 for
//	           an odd last panel; per k step 2 ZMM loads of B, r broadcasts
//	           of A, 2r FMAs. Runs at the FMA peak (≈170 GFLOP/s per core
//	           on the target Xeon) for k ≥ 64.
//	AVX2+FMA   r×16, r = 1..6 (12 YMM accumulators for r = 6); 2 YMM loads,
//	           r broadcasts, 2r FMAs per k step (≈85-90 GFLOP/s).
//	Go         any tile, 2×4 scalar register blocks (≈5 GFLOP/s).
//
// The k loop is unrolled 4 times.
//
// Direct kernels (MulPackedBEx) are the same tiles with A's rows read in
// place, lda apart, instead of from a packed micro-panel: 8 streams
// broadcast a float at a time. A is the activations there (an FC layer's
// batch rows, a channels-last convolution's positions), so packing it
// per call was pure overhead: 10% of MobileNetV2's channels-last FP32
// run, gone (+12% images/s on AVX-512, +6% on AVX2).
//
// Indirect kernels (MulRowsEx, MulGridEx) are the same tiles with B's row
// p read at b + 4·off[p] (one more scalar load per k step) instead of a
// packed panel; panel 1 of the tile is at any distance in B and C (the
// next 16 columns, or the next line of a grid when lines are no wider than
// a panel), and one call runs the B tile against all of a row block's
// same-height A panels (C's rows and the row bias advance in the kernel).
// The AVX-512 ones have masked variants (each panel under its own mask)
// for partial tiles, which are therefore read in place too; AVX2 packs a
// partial last tile per k block, the Go implementation every tile.
//
// The AVX-512 kernel is chosen at init when
// the CPU and OS support it (golang.org/x/sys/cpu), else AVX2+FMA, else Go;
// the purego build tag or a non-amd64 GOARCH builds only the Go kernel.
// SetImpl switches implementation (tests and benchmarks).
//
// # Accumulation order (numerical contract)
//
// All implementations compute every element of C in the same order: one
// accumulator starting at zero sums A(i,p)·B(p,j) for p ascending within a
// k block (a single FMA per term in assembly, a rounded product then a
// rounded sum in Go); the block sum is then added to C (the old C when
// accumulating, or the previous blocks' sum); after the last block the row
// bias and then the column bias are added and the clamp is applied: ReLU
// raises values below 0 to 0, Clip values below Lo to Lo and above Hi to
// Hi (a NaN fails both comparisons and is kept; -0 stays -0). Assembly and Go therefore agree within float
// rounding (the FMA's skipped product rounding) but not bit for bit, and
// results depend on kcMax only through where block sums are rounded.
//
// # Threading and allocation
//
// Nothing spawns goroutines unless a worker count > 1 is passed (SgemmEx,
// MulEx, MulPackedBufEx, MulPackedBEx, MulRowsEx, MulGridEx,
// SgemmParallel): the engine normally parallelises over the images of a
// batch and calls the single-threaded functions; the worker variants split
// the columns of C (rows when C is narrow; MulGridEx its lines) for
// batch-1 use, and give each goroutine at least ~2 MFLOP.
// MulPackedBuf never allocates; the other entry points take their packing
// buffers from a sync.Pool, so their steady state does not allocate either.
// Packed operands are immutable and safe for concurrent use.
package gemm

//go:generate go run gen_kernels.go
