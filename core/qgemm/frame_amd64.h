// The interleaving kernels' common start: the fields of the
// *interleaveFrame at f+0(FP) (quantize_amd64.go) into registers, and
// their rows' common end.

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

// LASTBLOCK8 moves a row's pointers back to the block of 8 columns that
// ends at its last column, when CX < 8 columns are left of a row of at
// least 8: DX (the destination, dunit bytes a column) and AX (the source,
// sunit bytes a value, R14 values a column) go back by 8−CX columns, and
// CX becomes 8. The block writes those columns again with the values
// they already hold, so a row's tail needs neither a scalar loop nor a
// store past its last column (the zero padding of the planes the taps
// read).
#define LASTBLOCK8(dunit, sunit) \
	SUBQ  $8, CX \
	LEAQ  (DX)(CX*dunit), DX \
	IMULQ R14, CX \
	LEAQ  (AX)(CX*sunit), AX \
	MOVQ  $8, CX
