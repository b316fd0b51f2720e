// The interleaving kernels' common start: the fields of the
// *interleaveFrame at f+0(FP) (quantize_amd64.go) into registers.

// LOADFRAME loads R8 the frame, DI dst, SI src, R9 rows, R11 ldd, R12 lds,
// BX plane and R13 3·plane, R14 step, R15 planes.
#define LOADFRAME \
	MOVQ f+0(FP), R8 \
	MOVQ 0(R8), DI \
	MOVQ 8(R8), SI \
	MOVQ 16(R8), R9 \
	MOVQ 32(R8), R11 \
	MOVQ 40(R8), R12 \
	MOVQ 48(R8), BX \
	LEAQ (BX)(BX*2), R13 \
	MOVQ 56(R8), R14 \
	MOVQ 72(R8), R15
