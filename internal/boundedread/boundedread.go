// Package boundedread reads a length announced by a file's own header
// without trusting it: the buffer grows as data actually arrives, so a
// forged header cannot make a reader allocate much more than the input
// holds. The IDX, NumPy and batch-file readers share it.
package boundedread

import "io"

// chunk is the first allocation; the buffer then doubles.
const chunk = 1 << 20

// ReadN reads exactly want bytes from r. On a short input it returns what
// it read and io.ErrUnexpectedEOF.
func ReadN(r io.Reader, want int64) ([]byte, error) {
	buf := make([]byte, 0, min(want, chunk))
	for int64(len(buf)) < want {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(want, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return buf, err
		}
	}
	return buf, nil
}
