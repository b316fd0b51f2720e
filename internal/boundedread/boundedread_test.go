package boundedread

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestReadN(t *testing.T) {
	data := bytes.Repeat([]byte{7}, 3*chunk+5)
	for _, want := range []int64{0, 1, chunk, chunk + 1, int64(len(data))} {
		got, err := ReadN(bytes.NewReader(data), want)
		if err != nil || int64(len(got)) != want {
			t.Errorf("want %d: got %d bytes, %v", want, len(got), err)
		}
	}
	// A header promising far more than the input holds: the allocation
	// stays near what arrived.
	got, err := ReadN(bytes.NewReader(data[:10]), 1<<40)
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(got) != 10 || cap(got) > chunk {
		t.Errorf("short input: %d bytes (cap %d), %v", len(got), cap(got), err)
	}
}
