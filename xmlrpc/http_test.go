package xmlrpc_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/internal/testtls"
	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/transporttest"
	"github.com/rpcwire/rpcwire/xmlrpc"
	"github.com/rpcwire/rpcwire/xmlrpc/xmlcodec"
)

func TestConformance(t *testing.T) {
	transporttest.Run(t, transporttest.Transport{
		Name: "xmlrpc",
		Listen: func(ctx context.Context, d transport.Dispatcher, opts ...transport.ServerOption) (transport.Server, error) {
			return xmlrpc.Listen(ctx, &url.URL{Scheme: "http", Host: "127.0.0.1:0", Path: "/rpc"}, d, opts...)
		},
		Dial: func(ctx context.Context, addr string, opts ...transport.ClientOption) (transport.Client, error) {
			u, err := url.Parse(addr)
			if err != nil {
				return nil, err
			}
			return xmlrpc.Dial(ctx, u, opts...)
		},
		NoServer: "http://" + closedAddr(t) + "/RPC2",
		Secret:   "http://user:" + transporttest.Password + "@" + closedAddr(t) + "/RPC2",
		Limited:  transport.BodyOnly(xmlcodec.Codec{MaxDepth: 3}),
	})
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// testRegistry serves fun_add, fib and introspection, plus helpers the
// HTTP tests need: echo, sleep (honours ctx, reports its start on started)
// and block (waits for release or ctx).
type testServer struct {
	reg     *registry.Registry
	started chan struct{}
	release chan struct{}
}

func newTestServer(t *testing.T) *testServer {
	ts := &testServer{reg: funcs.NewRegistry(), started: make(chan struct{}, 64), release: make(chan struct{})}
	ts.reg.MustRegister("echo", func(v any) any { return v })
	ts.reg.MustRegister("sleep", func(ctx context.Context, ms int) (string, error) {
		ts.started <- struct{}{}
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
			return "slept", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	})
	ts.reg.MustRegister("block", func(ctx context.Context) error {
		ts.started <- struct{}{}
		select {
		case <-ts.release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	return ts
}

// listen starts a server on 127.0.0.1:0 at rawURL's path and closes it when
// the test ends.
func (ts *testServer) listen(t *testing.T, rawURL string, opts ...transport.ServerOption) transport.Server {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	srv, err := xmlrpc.Listen(context.Background(), u, ts.reg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, srv.Close()) })
	return srv
}

// waitStarted waits until a sleep or block call has reached the server.
func (ts *testServer) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-ts.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the call never reached the server")
	}
}

// dial opens a client for rawURL and closes it when the test ends.
func dial(t *testing.T, rawURL string, opts ...transport.ClientOption) transport.Client {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	c, err := xmlrpc.Dial(context.Background(), u, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close()) })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// post sends body to url with net/http and returns status, headers and body.
func post(t *testing.T, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/xml")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

const addCall = `<?xml version="1.0"?><methodCall><methodName>fun_add</methodName>` +
	`<params><param><value><int>2</int></value></param><param><value><int>3</int></value></param></params></methodCall>`

func TestMethodNotAllowed(t *testing.T) {
	srv := newTestServer(t).listen(t, "http://127.0.0.1:0/")
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		resp, _ := post(t, method, srv.Addr(), "")
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, method)
		assert.Equal(t, "POST", resp.Header.Get("Allow"), method)
	}
}

func TestRawPost(t *testing.T) {
	srv := newTestServer(t).listen(t, "http://127.0.0.1:0/")
	resp, body := post(t, http.MethodPost, srv.Addr(), addCall)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/xml", resp.Header.Get("Content-Type"))
	assert.Equal(t, fmt.Sprint(len(body)), resp.Header.Get("Content-Length"))
	assert.Contains(t, body, "<int>5</int>")
}

func TestMalformedBodyIsAFault(t *testing.T) {
	ts := newTestServer(t)
	srv := ts.listen(t, "http://127.0.0.1:0/")
	for _, body := range []string{"", "<not xml", "<methodCall><methodName>x</methodName><params><param>",
		strings.Repeat("<value>", 10_000), "\x00\xff\xfe", "<methodResponse/>"} {
		resp, got := post(t, http.MethodPost, srv.Addr(), body)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "a fault travels with 200: %q", body)
		assert.Contains(t, got, "<fault>", "%q", body)
		assert.Contains(t, got, "<int>-32700</int>", "%q", body)
	}
	var sum int
	require.NoError(t, dial(t, srv.Addr()).Call(ctxT(t), "fun_add", []any{2, 3}, &sum), "still serving")
	assert.Equal(t, 5, sum)
}

func TestPaths(t *testing.T) {
	srv := newTestServer(t).listen(t, "http://127.0.0.1:0/api/xmlrpc")
	u, err := url.Parse(srv.Addr())
	require.NoError(t, err)
	assert.Equal(t, "/api/xmlrpc", u.Path)
	assert.NotEqual(t, "0", u.Port(), "Addr reports the real port")
	base := "http://" + u.Host
	for _, target := range []string{srv.Addr(), base + "/", base + "/RPC2", base} {
		var sum int
		require.NoError(t, dial(t, target).Call(ctxT(t), "fun_add", []any{2, 3}, &sum), target)
		assert.Equal(t, 5, sum, target)
	}
	err = dial(t, base+"/elsewhere").Call(ctxT(t), "fun_add", []any{2, 3}, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, transport.ErrNotFound, "404: no endpoint at that path")
	assert.NotErrorIs(t, err, transport.ErrNoServer, "a server answered")
	var se *xmlrpc.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusNotFound, se.StatusCode)
	assert.Equal(t, "/elsewhere", se.Path)
	assert.Contains(t, err.Error(), "HTTP 404 Not Found for /elsewhere", "the error names the status and the path")
	assert.Contains(t, err.Error(), "/api/xmlrpc", "the 404 names the path that works")
}

func TestTooLarge(t *testing.T) {
	ts := newTestServer(t)
	srv := ts.listen(t, "http://127.0.0.1:0/", transport.WithMaxMessageSize(1024))
	c := dial(t, srv.Addr())
	big := strings.Repeat("x", 2048)

	resp, _ := post(t, http.MethodPost, srv.Addr(), big)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "with Content-Length")

	// Without a Content-Length the limit is hit while reading.
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodPost, srv.Addr(), io.MultiReader(strings.NewReader(big)))
	require.NoError(t, err)
	req.ContentLength = -1
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err = (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "chunked")

	err = c.Call(ctxT(t), "echo", []any{big}, nil)
	assert.ErrorIs(t, err, transport.ErrTooLarge, "the client reads the 413 as too large")

	var sum int
	require.NoError(t, c.Call(ctxT(t), "fun_add", []any{2, 3}, &sum), "still serving")
	assert.Equal(t, 5, sum)
}

func TestBasicAuth(t *testing.T) {
	srv := newTestServer(t).listen(t, "http://alice:s3cret@127.0.0.1:0/")
	assert.NotContains(t, srv.Addr(), "s3cret")
	assert.NotContains(t, srv.Addr(), "alice")
	host := strings.TrimPrefix(srv.Addr(), "http://")

	var sum int
	require.NoError(t, dial(t, "http://alice:s3cret@"+host).Call(ctxT(t), "fun_add", []any{2, 3}, &sum))
	assert.Equal(t, 5, sum)

	for _, creds := range []string{"", "alice:wrong@", "bob:s3cret@", "alice@", "alice:s3cret2@"} {
		err := dial(t, "http://"+creds+host).Call(ctxT(t), "fun_add", []any{2, 3}, &sum)
		assert.ErrorIs(t, err, transport.ErrUnauthorized, creds)
		if err != nil {
			assert.NotContains(t, err.Error(), "wrong", "the password never appears in errors")
		}
	}
	resp, _ := post(t, http.MethodPost, srv.Addr(), addCall)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
}

func TestRequireBasicAuthOnOwnMux(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/xmlrpc", xmlrpc.RequireBasicAuth("u", "p", newHandler(t, funcs.NewRegistry())))
	hs := httptest.NewServer(mux)
	defer hs.Close()
	var fib int
	require.NoError(t, dial(t, "http://u:p@"+hs.Listener.Addr().String()+"/xmlrpc").Call(ctxT(t), "fib", []any{7}, &fib))
	assert.Equal(t, 13, fib)
	err := dial(t, hs.URL+"/xmlrpc").Call(ctxT(t), "fib", []any{7}, &fib)
	assert.ErrorIs(t, err, transport.ErrUnauthorized)
}

func TestShutdownWaitsForCallInFlight(t *testing.T) {
	ts := newTestServer(t)
	srv := ts.listen(t, "http://127.0.0.1:0/")
	c := dial(t, srv.Addr())
	done := make(chan error, 1)
	var out string
	go func() { done <- c.Call(ctxT(t), "sleep", []any{300}, &out) }()
	ts.waitStarted(t)
	start := time.Now()
	require.NoError(t, srv.Shutdown(ctxT(t)))
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "Shutdown waited for the call")
	require.NoError(t, <-done)
	assert.Equal(t, "slept", out)
	err := c.Call(ctxT(t), "fun_add", []any{1, 2}, nil)
	assert.ErrorIs(t, err, transport.ErrNoServer, "nothing listens after Shutdown")
	assert.NoError(t, srv.Shutdown(ctxT(t)), "Shutdown twice")
}

func TestShutdownDeadlineCutsCallsOff(t *testing.T) {
	ts := newTestServer(t)
	srv := ts.listen(t, "http://127.0.0.1:0/")
	c := dial(t, srv.Addr())
	done := make(chan error, 1)
	go func() { done <- c.Call(ctxT(t), "block", nil, nil) }()
	ts.waitStarted(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := srv.Shutdown(ctx)
	assert.ErrorIs(t, err, transport.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	select {
	case err := <-done:
		assert.Error(t, err, "the call was cut off")
	case <-time.After(5 * time.Second):
		t.Fatal("the call in flight never ended")
	}
}

func TestHTTPS(t *testing.T) {
	certs := testtls.NewTLS(t)
	ts := newTestServer(t)
	srv := ts.listen(t, "https://127.0.0.1:0/", transport.WithTLSConfig(certs.Server))
	assert.True(t, strings.HasPrefix(srv.Addr(), "https://"), srv.Addr())
	var sum int
	require.NoError(t, dial(t, srv.Addr(), transport.WithTLSConfig(certs.Client)).Call(ctxT(t), "fun_add", []any{2, 3}, &sum))
	assert.Equal(t, 5, sum)

	err := dial(t, srv.Addr()).Call(ctxT(t), "fun_add", []any{2, 3}, &sum)
	assert.ErrorIs(t, err, transport.ErrConnection, "an untrusted certificate fails the call")

	_, err = xmlrpc.Listen(ctxT(t), &url.URL{Scheme: "https", Host: "127.0.0.1:0"}, ts.reg)
	assert.ErrorContains(t, err, "certificate")
}

func TestBadURLs(t *testing.T) {
	reg := funcs.NewRegistry()
	_, err := xmlrpc.Listen(ctxT(t), &url.URL{Scheme: "ftp", Host: "127.0.0.1:0"}, reg)
	assert.ErrorIs(t, err, transport.ErrUnknownScheme)
	_, err = xmlrpc.Listen(ctxT(t), &url.URL{Scheme: "http", Host: "127.0.0.1:0"}, nil)
	assert.ErrorContains(t, err, "nil dispatcher")
	_, err = xmlrpc.Listen(ctxT(t), &url.URL{Scheme: "http", Host: "256.0.0.1:0", User: url.UserPassword("u", "hidden")}, reg)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hidden")
	_, err = xmlrpc.Dial(ctxT(t), &url.URL{Scheme: "amqp", Host: "127.0.0.1"})
	assert.ErrorIs(t, err, transport.ErrUnknownScheme)
	_, err = xmlrpc.Dial(ctxT(t), &url.URL{Scheme: "http"})
	assert.ErrorContains(t, err, "no host")
}

// newHandler is xmlrpc.NewHandler for a test, closed when it ends.
func newHandler(t *testing.T, d transport.Dispatcher, opts ...transport.ServerOption) *xmlrpc.Handler {
	h, err := xmlrpc.NewHandler(d, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// TestNilDispatcherHandler: a handler without a dispatcher is refused
// when it is made, as Listen refuses one, not by every call it serves.
func TestNilDispatcherHandler(t *testing.T) {
	h, err := xmlrpc.NewHandler(nil)
	assert.Nil(t, h)
	assert.ErrorContains(t, err, "xmlrpc.NewHandler: nil dispatcher")
}

func TestStatusErrors(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := 0
		_, _ = fmt.Sscanf(r.URL.Path, "/%d", &code)
		http.Error(w, "status for the test", code)
	}))
	defer hs.Close()
	cases := []struct {
		code     int
		sentinel error
	}{
		{401, transport.ErrUnauthorized},
		{403, transport.ErrUnauthorized},
		{404, transport.ErrNotFound},
		{413, transport.ErrTooLarge},
		{429, transport.ErrBusy},
		{503, transport.ErrBusy},
		{500, transport.ErrInternal},
		{302, nil},
	}
	for _, tc := range cases {
		err := dial(t, fmt.Sprintf("%s/%d", hs.URL, tc.code)).Call(ctxT(t), "fun_add", []any{1, 2}, nil)
		var se *xmlrpc.StatusError
		require.ErrorAs(t, err, &se, "%d", tc.code)
		assert.Equal(t, tc.code, se.StatusCode)
		assert.Equal(t, fmt.Sprintf("/%d", tc.code), se.Path)
		if tc.code == 302 {
			assert.ErrorContains(t, err, "HTTP 302 Found for /302: redirect not followed", "a redirect without Location")
			continue
		}
		assert.Contains(t, err.Error(), "status for the test")
		for _, s := range []error{transport.ErrUnauthorized, transport.ErrNotFound, transport.ErrNoServer, transport.ErrTooLarge,
			transport.ErrBusy, transport.ErrInternal} {
			assert.Equal(t, s == tc.sentinel, errors.Is(err, s), "%d is %v", tc.code, s)
		}
	}
}

func TestDeadlineReachesMethod(t *testing.T) {
	ts := newTestServer(t)
	ts.reg.MustRegister("remaining_ms", func(ctx context.Context) int64 {
		dl, ok := ctx.Deadline()
		if !ok {
			return -1
		}
		return time.Until(dl).Milliseconds()
	})
	srv := ts.listen(t, "http://127.0.0.1:0/")
	c := dial(t, srv.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var ms int64
	require.NoError(t, c.Call(ctx, "remaining_ms", nil, &ms))
	assert.Greater(t, ms, int64(3000))
	assert.LessOrEqual(t, ms, int64(5001))
	require.NoError(t, c.Call(context.Background(), "remaining_ms", nil, &ms))
	assert.Equal(t, int64(-1), ms, "no deadline, no header")

	// A header from another client is checked, not trusted blindly.
	for _, v := range []string{"abc", "-5", "0", "99999999999999999999"} {
		req, err := http.NewRequestWithContext(ctxT(t), http.MethodPost, srv.Addr(),
			strings.NewReader(`<methodCall><methodName>remaining_ms</methodName></methodCall>`))
		require.NoError(t, err)
		req.Header.Set(xmlrpc.TimeoutHeader, v)
		tr := &http.Transport{}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		assert.Contains(t, string(body), "<int>-1</int>", v)
	}
}

func TestGzipRequest(t *testing.T) {
	srv := newTestServer(t).listen(t, "http://127.0.0.1:0/", transport.WithMaxMessageSize(4096))
	send := func(encoding string, body []byte) (int, string) {
		req, err := http.NewRequestWithContext(ctxT(t), http.MethodPost, srv.Addr(), bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Encoding", encoding)
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte(s))
		require.NoError(t, zw.Close())
		return b.Bytes()
	}
	status, body := send("gzip", gz(addCall))
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "<int>5</int>")

	status, _ = send("gzip", []byte("not gzip"))
	assert.Equal(t, http.StatusBadRequest, status)
	status, _ = send("br", []byte(addCall))
	assert.Equal(t, http.StatusUnsupportedMediaType, status)
	bomb := gz(`<methodCall><methodName>echo</methodName><params><param><value><string>` +
		strings.Repeat("a", 1<<20) + `</string></value></param></params></methodCall>`)
	require.Less(t, len(bomb), 4096)
	status, _ = send("gzip", bomb)
	assert.Equal(t, http.StatusRequestEntityTooLarge, status, "the limit applies to the inflated body")
}

// TestValuesOutliveBuffers checks that decoded values do not share the
// pooled body buffers: values kept by a method or a caller stay intact
// while later calls reuse the buffers.
func TestValuesOutliveBuffers(t *testing.T) {
	ts := newTestServer(t)
	var (
		mu   sync.Mutex
		kept []any
	)
	ts.reg.MustRegister("keep", func(s string, b []byte) string {
		mu.Lock()
		defer mu.Unlock()
		kept = append(kept, s, b)
		return s
	})
	srv := ts.listen(t, "http://127.0.0.1:0/")
	c := dial(t, srv.Addr())
	var results []string
	for i := range 50 {
		s := fmt.Sprintf("value %d %s", i, strings.Repeat(string(rune('a'+i%26)), i))
		var got string
		require.NoError(t, c.Call(ctxT(t), "keep", []any{s, []byte(s)}, &got))
		results = append(results, got)
	}
	for i, got := range results {
		want := fmt.Sprintf("value %d %s", i, strings.Repeat(string(rune('a'+i%26)), i))
		assert.Equal(t, want, got, "reply %d", i)
		assert.Equal(t, want, kept[2*i], "argument %d", i)
		assert.Equal(t, []byte(want), kept[2*i+1], "argument %d", i)
	}
}

func TestCloseDuringShutdown(t *testing.T) {
	ts := newTestServer(t)
	srv := ts.listen(t, "http://127.0.0.1:0/")
	c := dial(t, srv.Addr())
	call := make(chan error, 1)
	go func() { call <- c.Call(ctxT(t), "block", nil, nil) }()
	ts.waitStarted(t)
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(ctxT(t)) }()
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned with a call in flight: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	require.NoError(t, srv.Close(), "Close cuts off what Shutdown waits for")
	select {
	case err := <-shutdown:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return after Close")
	}
	select {
	case err := <-call:
		assert.Error(t, err, "the call was cut off")
	case <-time.After(5 * time.Second):
		t.Fatal("the call never ended")
	}
	assert.NoError(t, srv.Shutdown(ctxT(t)), "Shutdown after Close")
}
