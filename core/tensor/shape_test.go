package tensor

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckShape(t *testing.T) {
	for _, tc := range []struct {
		shape []int
		n     int
		err   string // "" when valid
	}{
		{nil, 1, ""},
		{[]int{0}, 0, ""},
		{[]int{2, 3, 4}, 24, ""},
		{[]int{1 << 20, 1 << 20}, 1 << 40, ""},
		{[]int{1 << 40}, 1 << 40, ""},
		{[]int{0, 1 << 40}, 0, ""},
		{[]int{3, -2}, 0, "negative dimension (-2 at index 1)"},
		// The product wraps to a negative int: makeslice panicked.
		{[]int{1 << 31, 1 << 32, 3}, 0, "2.77e+19 elements"},
		// The product wraps to exactly 0: a tensor of no elements.
		{[]int{1 << 32, 1 << 32}, 0, "1.84e+19 elements"},
		{[]int{1 << 40, 2}, 0, "2.2e+12 elements; a tensor may have at most 2^40"},
		// Zero elements, but Flatten would multiply the large dimensions.
		{[]int{0, 1 << 30, 1 << 30, 4}, 0, "4.61e+18 elements"},
	} {
		n, err := CheckShape(tc.shape)
		switch {
		case tc.err == "" && (err != nil || n != tc.n):
			t.Errorf("CheckShape(%v) = %d, %v; want %d", tc.shape, n, err, tc.n)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("CheckShape(%v) error %v, want it to contain %q", tc.shape, err, tc.err)
		case tc.err != "":
			var se *ShapeError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), ShapeString(tc.shape)) {
				t.Errorf("CheckShape(%v) error %v is not a *ShapeError naming the shape", tc.shape, err)
			}
		}
	}
}
