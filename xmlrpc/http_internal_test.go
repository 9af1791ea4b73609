package xmlrpc

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadBody(t *testing.T) {
	big := strings.Repeat("x", 5000)
	cases := []struct {
		name    string
		body    string
		length  int64
		limit   int64
		wantErr error
	}{
		{"known length", "hello", 5, 100, nil},
		{"unknown length", big, -1, 10_000, nil},
		{"at the limit", big, -1, 5000, nil},
		{"over the limit", big, -1, 4999, errBodyTooLarge},
		{"announced over the limit", big, 5000, 4999, errBodyTooLarge},
		{"empty", "", 0, 10, nil},
		{"empty unknown", "", -1, 10, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.body), iotest.OneByteReader(strings.NewReader(tc.body)),
				iotest.DataErrReader(strings.NewReader(tc.body))} {
				got, err := readBody(r, []byte("prefix:"), tc.length, tc.limit)
				if tc.wantErr != nil {
					assert.ErrorIs(t, err, tc.wantErr)
					continue
				}
				require.NoError(t, err)
				assert.Equal(t, "prefix:"+tc.body, string(got))
			}
		})
	}
	boom := errors.New("boom")
	_, err := readBody(iotest.ErrReader(boom), nil, -1, 10)
	assert.ErrorIs(t, err, boom)
}

func TestReadBodyKnownLengthDoesNotGrow(t *testing.T) {
	body := bytes.Repeat([]byte("y"), 10_000)
	got, err := readBody(bytes.NewReader(body), nil, int64(len(body)), 1<<20)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, cap(got), len(body)+1, "room to see EOF")
	assert.Less(t, cap(got), len(body)+len(body)/8, "sized once from Content-Length, not grown by doubling")
}

func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := newLimitListener(inner, 1)
	accepted := make(chan net.Conn, 2)
	acceptErr := make(chan error, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			accepted <- c
		}
	}()
	c1, err := net.Dial("tcp", inner.Addr().String())
	require.NoError(t, err)
	defer c1.Close()
	c2, err := net.Dial("tcp", inner.Addr().String()) // waits in the backlog
	require.NoError(t, err)
	defer c2.Close()

	first := <-accepted
	select {
	case <-accepted:
		t.Fatal("a second connection was accepted beyond the cap")
	case <-time.After(100 * time.Millisecond):
	}
	require.NoError(t, first.Close())
	_ = first.Close() // a second Close gives back nothing (it would block on the empty semaphore)
	select {
	case second := <-accepted:
		second.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("closing a connection did not free its slot")
	}
	require.NoError(t, ln.Close())
	select {
	case err := <-acceptErr:
		assert.ErrorIs(t, err, net.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Accept did not return after Close")
	}
}
