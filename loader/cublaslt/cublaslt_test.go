package cublaslt

import (
	"strings"
	"testing"

	"github.com/int8cal/int8cal/loader"
)

// checkIMMA must refuse, before cuBLASLt is asked, every INT8 product the
// regular-ordering IMMA kernels cannot run, and say which rule fails:
// cuBLASLt itself only answers CUBLAS_STATUS_NOT_SUPPORTED.
func TestCheckIMMA(t *testing.T) {
	tn := Shape{M: 8, N: 6, K: 16, TransA: true, LDA: 16, LDB: 16, LDD: 8}
	for _, tc := range []struct {
		name string
		edit func(*Shape)
		want string // in the error; "" when the shape is accepted
	}{
		{"TN, multiples of 4", func(*Shape) {}, ""},
		{"N need not be a multiple of 4", func(s *Shape) { s.N = 7 }, ""},
		{"NN", func(s *Shape) { s.TransA = false }, "A transposed and B not (TN)"},
		{"TT", func(s *Shape) { s.TransB = true }, "A transposed and B not (TN)"},
		{"m=6", func(s *Shape) { s.M = 6 }, "m (6)"},
		{"k=26", func(s *Shape) { s.K, s.LDA, s.LDB = 26, 28, 28 }, "k (26)"},
		{"lda=30", func(s *Shape) { s.LDA = 30 }, "leading dimensions (30, 16, 8)"},
		{"ldb=30", func(s *Shape) { s.LDB = 30 }, "leading dimensions (16, 30, 8)"},
		{"ldd=30", func(s *Shape) { s.LDD = 30 }, "leading dimensions (16, 16, 30)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tn
			tc.edit(&s)
			err := checkIMMA(s)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%+v refused: %v", s, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("%+v: error %v, want one naming %q", s, err, tc.want)
			}
		})
	}
}

func TestVersionString(t *testing.T) {
	for _, tc := range []struct {
		v    int
		want string
	}{
		{130100, "13.1.0"},
		{130001, "13.0.1"},
		{MinVersion, "11.0.0"},
	} {
		if got := VersionString(tc.v); got != tc.want {
			t.Errorf("VersionString(%d) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// An explicit path (--cublaslt-lib) that does not exist is reported, with
// the path, rather than passed over for a copy found elsewhere.
func TestOpenNotFound(t *testing.T) {
	const path = "/nonexistent/libcublasLt.so.13"
	_, err := Open(path)
	if !loader.IsNotFound(err) || !strings.Contains(err.Error(), path) {
		t.Fatalf("want a NotFoundError naming %s, got %v", path, err)
	}
}
