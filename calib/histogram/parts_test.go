package histogram

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Parts taken from a filled histogram rebuild it exactly, which is what
// a GPU that bins the same way hands over.
func TestFromPartsRebuildsAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, cfg := range []Config{{Bins: 2048}, {Bins: 64, Signed: true}} {
		x := make([]float32, 5000)
		for i := range x {
			x[i] = float32(r.NormFloat64() * 3)
		}
		x[7], x[8] = 0, float32(math.Copysign(0, -1))
		want, _ := NewConfig(cfg)
		want.Add(x)
		exp, _ := want.Exp()
		got, err := FromParts(Parts{Config: cfg, Exp: exp, Counts: append([]uint64(nil), want.counts...),
			Count: want.Count(), Zeros: want.Zeros(), Min: want.Min(), Max: want.Max()})
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			t.Fatalf("%+v: rebuilt %v, want %v", cfg, got, want)
		}
	}
}

func TestFromPartsChecks(t *testing.T) {
	for name, p := range map[string]Parts{
		"slots": {Config: Config{Bins: 4}, Counts: make([]uint64, 3)},
		"sum":   {Config: Config{Bins: 4}, Counts: []uint64{1, 0, 0, 0, 0}, Count: 2, Max: 1},
		"range": {Config: Config{Bins: 4}, Counts: []uint64{0, 0, 0, 0, 1}, Count: 1, Min: 1, Max: 1, Exp: 3},
		"fixed": {Config: Config{Bins: 4, Range: 2}},
	} {
		if _, err := FromParts(p); err == nil {
			t.Errorf("%s: inconsistent parts accepted", name)
		}
	}
}
