package xmlrpc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/rpcwire/rpcwire/transport"
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

// TestListenConfigDefaults: the limits the README's table promises, and
// that ListenConfig and WithMaxInFlight change them.
func TestListenConfigDefaults(t *testing.T) {
	u := &url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	d := refuseAll{}
	var lc ListenConfig
	srv, err := lc.Listen(context.Background(), u, d)
	require.NoError(t, err)
	defer srv.Close()
	hs := srv.(*server).hs
	assert.Equal(t, 10*time.Second, hs.ReadHeaderTimeout)
	assert.Equal(t, time.Minute, hs.ReadTimeout)
	assert.Equal(t, 5*time.Minute, hs.WriteTimeout)
	assert.Equal(t, 2*time.Minute, hs.IdleTimeout)
	assert.Equal(t, 1024, srv.(*server).h.svc.MaxInFlight())
	assert.Equal(t, 4096, cap(srv.(*server).ln.sem), "max(256, 4 x max in flight) connections")

	lc = ListenConfig{ReadHeaderTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 3 * time.Second,
		IdleTimeout: 4 * time.Second, MaxConns: 7}
	srv2, err := lc.Listen(context.Background(), u, d, transport.WithMaxInFlight(10))
	require.NoError(t, err)
	defer srv2.Close()
	hs = srv2.(*server).hs
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second},
		[]time.Duration{hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout})
	assert.Equal(t, 10, srv2.(*server).h.svc.MaxInFlight())
	assert.Equal(t, 7, cap(srv2.(*server).ln.sem))

	var zero ListenConfig
	srv4, err := zero.Listen(context.Background(), u, d, transport.WithMaxInFlight(10), transport.WithCallTimeout(10*time.Minute))
	require.NoError(t, err)
	defer srv4.Close()
	assert.Equal(t, 256, cap(srv4.(*server).ln.sem), "at least 256 connections")
	assert.Equal(t, 10*time.Minute+30*time.Second, srv4.(*server).hs.WriteTimeout, "the write timeout grows to fit the call timeout")
}

// TestIdleTimeout: a keep-alive connection that sends nothing after a
// call is closed by the server after IdleTimeout.
func TestIdleTimeout(t *testing.T) {
	lc := ListenConfig{IdleTimeout: 200 * time.Millisecond}
	srv, err := lc.Listen(context.Background(), &url.URL{Scheme: "http", Host: "127.0.0.1:0"}, refuseAll{})
	require.NoError(t, err)
	defer srv.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(strings.TrimSuffix(srv.Addr(), "/"), "http://"))
	require.NoError(t, err)
	defer conn.Close()
	body := "<methodCall><methodName>x</methodName></methodCall>"
	_, err = io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	start := time.Now()
	_, err = conn.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the server closes the idle connection")
	assert.Less(t, time.Since(start), 5*time.Second)
}

// refuseAll is a Dispatcher that knows no method.
type refuseAll struct{}

func (refuseAll) Dispatch(context.Context, string, []any) (any, error) {
	return nil, transport.ErrMethodNotFound
}
