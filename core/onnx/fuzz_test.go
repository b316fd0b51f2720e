package onnx

import (
	"math/rand"
	"os"
	"strings"
	"testing"
)

// fuzzSeeds returns the seed inputs: the first bytes of the real models
// (the header and the start of the graph), the small zoo model whole if
// present, and every hand-built message of the other tests.
func fuzzSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	for _, path := range []string{"../../data/mnist/lenet.onnx", "../../testdata/models/resnet20.onnx"} {
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, data[:min(len(data), 2048)])
	}
	if data, err := os.ReadFile("../../testdata/models/mnist_zoo.onnx"); err == nil {
		seeds = append(seeds, data)
	}
	seeds = append(seeds, attributeModel(), oldIRModel())
	for _, tc := range tensorCases {
		seeds = append(seeds, tc.proto, modelWithInit(tc.proto))
	}
	for _, tc := range errorCases() {
		seeds = append(seeds, tc.data)
	}
	return seeds
}

// checkDecode runs both decoders on data: neither may panic, errors must
// carry the package prefix, and a successful decode must be internally
// consistent (every tensor's data length equals the product of its dims).
func checkDecode(t *testing.T, data []byte) {
	m, err := Decode(data)
	if err != nil {
		if !strings.HasPrefix(err.Error(), "onnx: ") {
			t.Fatalf("error without prefix: %v", err)
		}
	} else if err := checkModel(m); err != nil {
		t.Fatalf("inconsistent model: %v", err)
	}

	tt, _, err := DecodeTensor(data)
	if err != nil {
		if !strings.HasPrefix(err.Error(), "onnx: ") {
			t.Fatalf("error without prefix: %v", err)
		}
	} else if err := checkTensor(tt); err != nil {
		t.Fatalf("inconsistent tensor: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(checkDecode)
}

// TestMutatedInputs is a cheap, deterministic stand-in for fuzzing in
// ordinary test runs: it decodes a few thousand random corruptions
// (overwritten, inserted and dropped bytes) of the seeds.
func TestMutatedInputs(t *testing.T) {
	seeds := fuzzSeeds(t)
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 5000; i++ {
		b := append([]byte(nil), seeds[r.Intn(len(seeds))]...)
		for k := 0; k < 1+r.Intn(4) && len(b) > 0; k++ {
			p := r.Intn(len(b))
			switch r.Intn(3) {
			case 0:
				b[p] = byte(r.Intn(256))
			case 1:
				b = b[:p]
			case 2:
				b = append(b[:p], append([]byte{byte(r.Intn(256))}, b[p:]...)...)
			}
		}
		checkDecode(t, b)
	}
}
