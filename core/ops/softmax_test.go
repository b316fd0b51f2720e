package ops

import (
	"math"
	"math/rand"
	"testing"

	"github.com/int8cal/int8cal/core/tensor"
)

// softmaxExp is e^x to float64 precision on softmax's range: within 1e-14
// relative of math.Exp from −104 to 0 (and 0 past −104, where float32
// has nothing).
func TestSoftmaxExpAccuracy(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	xs := []float64{0, -1e-300, -0.5 * math.Ln2, -0.5*math.Ln2 - 1e-12, -math.Ln2, -1, -10, -87.3, -103.97, -104}
	for i := 0; i < 100000; i++ {
		xs = append(xs, -104*r.Float64(), -r.Float64())
	}
	worst := 0.0
	for _, x := range xs {
		got, want := softmaxExp(x), math.Exp(x)
		if rel := math.Abs(got-want) / want; rel > worst {
			worst = rel
		}
	}
	if worst > 1e-14 {
		t.Errorf("softmaxExp: worst relative error %.3g against math.Exp, want ≤ 1e-14", worst)
	}
	if got := softmaxExp(-200); float32(got) != 0 {
		t.Errorf("softmaxExp(-200) = %g: want nothing in float32", got)
	}
	if got := softmaxExp(math.NaN()); !math.IsNaN(got) {
		t.Errorf("softmaxExp(NaN) = %g, want NaN", got)
	}
}

// expRow's vector kernel gives the Go function's values and sum bit for
// bit, on rows of every length up to 41 and the ViT's 197, random values
// with and without NaN and infinities.
func TestExpRowVectorSameAsGo(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, n := range append([]int{197}, seq(1, 41)...) {
		for trial := 0; trial < 20; trial++ {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64() * 8)
			}
			switch trial {
			case 1:
				x[r.Intn(n)] = float32(math.NaN())
			case 2:
				x[r.Intn(n)] = float32(math.Inf(-1))
			case 3:
				x[r.Intn(n)] = float32(math.Inf(1))
			}
			maxv := float32(math.Inf(-1))
			for _, v := range x {
				if v > maxv {
					maxv = v
				}
			}
			got := make([]float32, n)
			gotSum := expRow(got, x, n, 1, maxv)
			want := make([]float32, n)
			var part [4]float64
			for i, v := range x {
				e := softmaxExp(float64(v - maxv))
				want[i] = float32(e)
				part[i%4] += e
			}
			wantSum := (part[0] + part[1]) + (part[2] + part[3])
			same := func(a, b float64) bool { return a == b || a != a && b != b }
			if !same(gotSum, wantSum) {
				t.Fatalf("n=%d trial %d: sum %v, want %v", n, trial, gotSum, wantSum)
			}
			for i := range want {
				if !same(float64(got[i]), float64(want[i])) || math.Float32bits(got[i]) != math.Float32bits(want[i]) && got[i] == got[i] {
					t.Fatalf("n=%d trial %d: e[%d] of %g = %g, want %g", n, trial, i, x[i], got[i], want[i])
				}
			}
		}
	}
}

// seq returns lo..hi.
func seq(lo, hi int) []int {
	var s []int
	for i := lo; i <= hi; i++ {
		s = append(s, i)
	}
	return s
}

// Softmax over contiguous rows (the vector kernels' maximum, exponentials
// and division) gives bit for bit what it gives over the same rows laid
// out as columns (the Go loops), whatever the row holds.
func TestSoftmaxRowsSameAsColumns(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, n := range []int{1, 3, 4, 7, 8, 9, 16, 31, 197} {
		for trial := 0; trial < 8; trial++ {
			rows := make([]float32, 2*n) // [2, n]: softmax over axis 1
			for i := range rows {
				rows[i] = float32(r.NormFloat64() * 5)
			}
			switch trial {
			case 1:
				rows[r.Intn(n)] = float32(math.NaN())
			case 2:
				rows[r.Intn(n)] = float32(math.Inf(1))
			case 3:
				rows[r.Intn(n)] = float32(math.Inf(-1))
			case 4:
				for i := range rows {
					rows[i] = float32(math.Copysign(0, float64(i%2)-0.5))
				}
			}
			cols := make([]float32, 2*n) // [n, 2]: softmax over axis 0
			for i := 0; i < n; i++ {
				cols[2*i], cols[2*i+1] = rows[i], rows[n+i]
			}
			byRow := rtOne(t, 13, "Softmax", []*tensor.Tensor{f32(sh(2, n), rows...)}, aInt("axis", 1))
			byCol := rtOne(t, 13, "Softmax", []*tensor.Tensor{f32(sh(n, 2), cols...)}, aInt("axis", 0))
			for i := 0; i < n; i++ {
				for k := 0; k < 2; k++ {
					a, b := byRow.F32[k*n+i], byCol.F32[2*i+k]
					if math.Float32bits(a) != math.Float32bits(b) && !(a != a && b != b) {
						t.Fatalf("n=%d trial %d: row %d value %d = %g as a row, %g as a column", n, trial, k, i, a, b)
					}
				}
			}
		}
	}
}
