package xmlrpc

import (
	"errors"
	"io"
	"slices"
)

// initialBuf is the room readBody makes for a body of unknown length.
const initialBuf = 1 << 10

// errBodyTooLarge is readBody's report of a body beyond its limit.
var errBodyTooLarge = errors.New("body too large")

// readBody appends all of r to dst and returns the result. contentLength
// (negative when unknown) sizes the buffer up front, so a body with a
// Content-Length is read with no regrowth. It reads until io.EOF, which
// lets net/http reuse the connection, and fails with errBodyTooLarge as
// soon as more than limit bytes arrive (or are announced).
func readBody(r io.Reader, dst []byte, contentLength, limit int64) ([]byte, error) {
	if contentLength > limit {
		return dst, errBodyTooLarge
	}
	want := initialBuf
	if contentLength >= 0 {
		want = int(contentLength) + 1 // room to see io.EOF without growing
	}
	dst = slices.Grow(dst, want)
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, max(cap(dst), initialBuf)) // double
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if int64(len(dst)-start) > limit {
			return dst, errBodyTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}
