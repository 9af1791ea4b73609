package xmlrpc_test

// Hostile input over HTTP (issue 6, item 3): every test sends something a
// careless server would choke on, checks the answer is a clear refusal that
// comes quickly, and then checks that an ordinary call is still served.

import (
	"bufio"
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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc"
	"github.com/rpcwire/rpcwire/xmlrpc/xmlcodec"
)

// listenWith starts the test server's registry with cfg's limits on a free
// port and closes it when the test ends.
func (ts *testServer) listenWith(t *testing.T, cfg xmlrpc.ListenConfig, opts ...transport.ServerOption) transport.Server {
	t.Helper()
	srv, err := cfg.Listen(context.Background(), &url.URL{Scheme: "http", Host: "127.0.0.1:0", Path: "/"}, ts.reg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, srv.Close()) })
	return srv
}

// stillServes checks that an ordinary call on a fresh client succeeds
// within limit.
func stillServes(t *testing.T, addr string, limit time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var sum int
	require.NoError(t, dial(t, addr).Call(ctx, "fun_add", []any{2, 3}, &sum), "an ordinary call is still served")
	assert.Equal(t, 5, sum)
}

// postBody sends body (with its length unless chunked) and returns the
// status and the reply. A connection the server closed without a reply
// gives status 0.
func postBody(t *testing.T, addr string, body io.Reader, length int64, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodPost, addr, body)
	require.NoError(t, err)
	req.ContentLength = length
	for k, v := range header {
		req.Header[k] = v
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// nested returns a call of echo whose one argument nests n levels of open,
// then n of close.
func nested(n int, open, close string) string {
	return `<?xml version="1.0"?><methodCall><methodName>echo</methodName><params><param>` +
		strings.Repeat(open, n) + "<value><int>1</int></value>" + strings.Repeat(close, n) +
		"</param></params></methodCall>"
}

// assertParseFault checks that an HTTP reply is an XML-RPC parse fault
// saying want.
func assertParseFault(t *testing.T, status int, body, want, what string) {
	t.Helper()
	assert.Equal(t, http.StatusOK, status, "%s: faults travel with 200", what)
	assert.Contains(t, body, "<fault>", what)
	assert.Contains(t, body, "<int>-32700</int>", what)
	assert.Contains(t, body, want, what)
}

// TestHostileBodySize: bodies over the limit get 413 however they arrive
// (with a length, chunked, gzip that inflates past it, a lying length),
// the Dial client reports ErrTooLarge, and the server keeps serving.
func TestHostileBodySize(t *testing.T) {
	const limit = 64 << 10
	ts := newTestServer(t)
	srv := ts.listen(t, "http://127.0.0.1:0/", transport.WithMaxMessageSize(limit))
	big := strings.Repeat("x", 4*limit)

	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, err := zw.Write(bytes.Repeat([]byte("<value>"), 4*limit/7)) // 4× the limit from a few hundred bytes
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.Less(t, zipped.Len(), limit, "the bomb itself is small")

	for _, tc := range []struct {
		name   string
		body   io.Reader
		length int64
		header http.Header
	}{
		{"content-length", strings.NewReader(big), int64(len(big)), nil},
		{"chunked", io.MultiReader(strings.NewReader(big)), -1, nil},
		{"gzip bomb", bytes.NewReader(zipped.Bytes()), int64(zipped.Len()), http.Header{"Content-Encoding": {"gzip"}}},
	} {
		start := time.Now()
		status, reply := postBody(t, srv.Addr(), tc.body, tc.length, tc.header)
		assert.Equal(t, http.StatusRequestEntityTooLarge, status, "%s: %s", tc.name, reply)
		assert.Contains(t, reply, strconv.Itoa(limit), "%s: the reply names the limit", tc.name)
		assert.Less(t, time.Since(start), 3*time.Second, tc.name)
	}

	// A Content-Length of 1 TB is refused from the header, before any body.
	conn, err := net.Dial("tcp", strings.TrimPrefix(strings.TrimSuffix(srv.Addr(), "/"), "http://"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n", int64(1)<<40)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "a lying Content-Length")

	err = dial(t, srv.Addr()).Call(ctxT(t), "echo", []any{big}, nil)
	assert.ErrorIs(t, err, transport.ErrTooLarge)
	stillServes(t, srv.Addr(), 5*time.Second)
}

// TestHostileNesting: 100 000 levels of arrays, structs or both get a parse
// fault at once (the decoder keeps an explicit stack bounded by
// Codec.MaxDepth, so the Go stack never grows with the input); the same
// from a hostile server reaches the client as ErrParse; a Go value nested
// beyond the limit (a slice that contains itself) fails to encode cleanly.
func TestHostileNesting(t *testing.T) {
	const levels = 100_000
	ts := newTestServer(t)
	// Room for the whole body, so the nesting, not the size, is what fails.
	srv := ts.listen(t, "http://127.0.0.1:0/", transport.WithMaxMessageSize(32<<20))
	const (
		arrayOpen   = "<value><array><data>"
		arrayClose  = "</data></array></value>"
		structOpen  = "<value><struct><member><name>k</name>"
		structClose = "</member></struct></value>"
	)
	bodies := map[string]string{
		"arrays":          nested(levels, arrayOpen, arrayClose),
		"structs":         nested(levels, structOpen, structClose),
		"mixed":           nested(levels/2, arrayOpen+structOpen, structClose+arrayClose),
		"arrays unclosed": nested(levels, arrayOpen, ""),
	}
	for name, body := range bodies {
		start := time.Now()
		status, reply := postBody(t, srv.Addr(), strings.NewReader(body), int64(len(body)), nil)
		assertParseFault(t, status, reply, "nested deeper than", name)
		assert.Less(t, time.Since(start), 2*time.Second, "%s (%d bytes)", name, len(body))
	}
	stillServes(t, srv.Addr(), 5*time.Second)

	// A hostile server answering with deep nesting.
	reply := strings.Replace(strings.Replace(bodies["arrays"], "methodCall", "methodResponse", 1),
		"<methodName>echo</methodName>", "", 1)
	reply = strings.Replace(reply, "</methodCall>", "</methodResponse>", 1)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, reply)
	}))
	defer evil.Close()
	err := dial(t, evil.URL, transport.WithMaxMessageSize(32<<20)).Call(ctxT(t), "x", nil, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, transport.ErrParse)
	assert.Contains(t, err.Error(), "nested deeper than")

	loop := []any{nil}
	loop[0] = loop
	err = dial(t, srv.Addr()).Call(ctxT(t), "echo", []any{loop}, nil)
	require.Error(t, err, "a value that contains itself")
	assert.Contains(t, err.Error(), "deeper")
}

// TestHostileElementCounts: the most elements a body within the size limit
// can hold (about 40 000 values per MB) decode in bounded time (the codec's
// decoding time is linear, see TestDecodeLinearTime; 1 MB here keeps the
// test quick under -race), and the codec refuses more elements than its
// MaxElements.
func TestHostileElementCounts(t *testing.T) {
	const limit = 1 << 20
	ts := newTestServer(t)
	srv := ts.listen(t, "http://127.0.0.1:0/", transport.WithMaxMessageSize(limit))
	const tiny = "<value><i4>1</i4></value>"
	n := (limit - 200) / len(tiny)
	for name, body := range map[string]string{
		"array": `<methodCall><methodName>echo</methodName><params><param><value><array><data>` +
			strings.Repeat(tiny, n) + `</data></array></value></param></params></methodCall>`,
		"params": `<methodCall><methodName>fun_add</methodName><params>` +
			strings.Repeat("<param>"+tiny+"</param>", n*len(tiny)/(len(tiny)+15)) + `</params></methodCall>`,
	} {
		require.LessOrEqual(t, len(body), limit, name)
		start := time.Now()
		status, reply := postBody(t, srv.Addr(), strings.NewReader(body), int64(len(body)), nil)
		assert.Equal(t, http.StatusOK, status, name)
		assert.Less(t, time.Since(start), 5*time.Second, "%s (%d bytes)", name, len(body))
		if name == "params" {
			assert.Contains(t, reply, "<int>-32602</int>", "too many params for fun_add is an invalid-params fault")
		}
	}
	stillServes(t, srv.Addr(), 5*time.Second)

	c := xmlcodec.Codec{MaxElements: 1000}
	_, _, err := c.DecodeCall([]byte(`<methodCall><methodName>m</methodName><params><param><value><array><data>` +
		strings.Repeat(tiny, 1000) + `</data></array></value></param></params></methodCall>`))
	assert.ErrorIs(t, err, transport.ErrParse, "more elements than MaxElements")
}

// TestHostileMarkup: DOCTYPE and entity declarations (billion laughs) are
// refused before any expansion, as are undefined entities, bodies that are
// not in the encoding they declare (UTF-8 when they declare none) and
// encodings the decoder cannot read, in calls to the server and in
// replies to the client.
func TestHostileMarkup(t *testing.T) {
	ts := newTestServer(t)
	srv := ts.listen(t, "http://127.0.0.1:0/")
	var laughs strings.Builder
	laughs.WriteString(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">`)
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&laughs, `<!ENTITY lol%d "%s">`, i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	laughs.WriteString(`]><methodCall><methodName>echo</methodName><params><param><value>&lol9;</value></param></params></methodCall>`)
	call := func(value string) string {
		return `<?xml version="1.0"?><methodCall><methodName>echo</methodName><params><param><value>` +
			value + `</value></param></params></methodCall>`
	}
	for _, tc := range []struct{ name, body, want string }{
		{"billion laughs", laughs.String(), "DOCTYPE"},
		{"external entity", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + call("&xxe;"), "DOCTYPE"},
		{"bare entity declaration", `<!ENTITY x "y">` + call("x"), "ENTITY"},
		{"undefined entity", call("&lol9;"), "lol9"},
		{"invalid UTF-8 in a string", call("<string>a\xff\xfeb</string>"), "UTF-8"},
		{"invalid UTF-8 in a method name", strings.Replace(call("1"), "echo", "ec\xc3ho", 1), "UTF-8"},
		{"invalid UTF-8 in a member name", call("<struct><member><name>\xed\xa0\x80</name><value>1</value></member></struct>"), "UTF-8"},
		{"latin-1 text, undeclared", call("caf\xe9"), "UTF-8"},
		{"an encoding the decoder cannot read", `<?xml version="1.0" encoding="Shift_JIS"?>` + call("cafe")[len(`<?xml version="1.0"?>`):], `unsupported encoding "Shift_JIS"`},
		{"NUL character reference", call("a&#0;b"), `#0`},
	} {
		start := time.Now()
		status, reply := postBody(t, srv.Addr(), strings.NewReader(tc.body), int64(len(tc.body)), nil)
		assertParseFault(t, status, reply, tc.want, tc.name)
		assert.NotContains(t, reply, "lollollol", "%s: nothing was expanded", tc.name)
		assert.Less(t, time.Since(start), time.Second, tc.name)
	}
	stillServes(t, srv.Addr(), 5*time.Second)

	reply := `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "b">]><methodResponse><params><param><value>&a;</value></param></params></methodResponse>`
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, reply)
	}))
	defer evil.Close()
	err := dial(t, evil.URL).Call(ctxT(t), "x", nil, nil)
	assert.ErrorIs(t, err, transport.ErrParse)
	assert.Contains(t, err.Error(), "DOCTYPE")
}

// TestHostileHeaders: headers beyond the server's 64 kB get 431.
func TestHostileHeaders(t *testing.T) {
	srv := newTestServer(t).listen(t, "http://127.0.0.1:0/")
	status, reply := postBody(t, srv.Addr(), strings.NewReader(addCall), int64(len(addCall)),
		http.Header{"X-Junk": {strings.Repeat("j", 200<<10)}})
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, status, reply)
	stillServes(t, srv.Addr(), 5*time.Second)
}

// hostPort returns the host:port of a server's http:// address.
func hostPort(t *testing.T, addr string) string {
	t.Helper()
	u, err := url.Parse(addr)
	require.NoError(t, err)
	return u.Host
}

// trickle writes data to conn a byte at a time, every interval, until the
// server cuts the connection (write or read fails) or stop is closed. It
// returns how long the connection lived.
func trickle(conn net.Conn, data []byte, interval time.Duration, stop <-chan struct{}) time.Duration {
	start := time.Now()
	// The server cuts the connection by closing it; a reader notices at once.
	cut := make(chan struct{})
	go func() {
		defer close(cut)
		_, _ = io.Copy(io.Discard, conn)
	}()
	t := time.NewTicker(interval)
	defer t.Stop()
	for i := 0; ; i = (i + 1) % len(data) {
		select {
		case <-cut:
			return time.Since(start)
		case <-stop:
			conn.Close()
			<-cut
			return time.Since(start)
		case <-t.C:
			if _, err := conn.Write(data[i : i+1]); err != nil {
				conn.Close()
				<-cut
				return time.Since(start)
			}
		}
	}
}

// TestSlowloris: a client trickling its headers and one trickling its body
// are cut off by the server's timeouts (ReadHeaderTimeout, ReadTimeout) while
// ordinary calls go on being served quickly next to them.
func TestSlowloris(t *testing.T) {
	const (
		headerTimeout = 400 * time.Millisecond
		readTimeout   = 800 * time.Millisecond
		interval      = 20 * time.Millisecond
	)
	ts := newTestServer(t)
	srv := ts.listenWith(t, xmlrpc.ListenConfig{ReadHeaderTimeout: headerTimeout, ReadTimeout: readTimeout})
	host := hostPort(t, srv.Addr())

	headers := []byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n" +
		strings.Repeat("X-Slow: aaaaaaaaaaaaaaaaaaaa\r\n", 1000))
	bodyHead := fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n", 10*len(addCall))

	stop := make(chan struct{})
	var (
		wg    sync.WaitGroup
		lived [2]time.Duration
	)
	for i, tc := range []struct {
		head string
		data []byte
	}{{"", headers}, {bodyHead, []byte(addCall)}} {
		conn, err := net.Dial("tcp", host)
		require.NoError(t, err)
		_, err = io.WriteString(conn, tc.head)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			lived[i] = trickle(conn, tc.data, interval, stop)
		}()
	}

	// Ordinary calls while the slow clients hold their connections.
	c := dial(t, srv.Addr())
	deadline := time.Now().Add(readTimeout + 200*time.Millisecond)
	calls := 0
	for ; time.Now().Before(deadline); calls++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var sum int
		err := c.Call(ctx, "fun_add", []any{calls, 1}, &sum)
		cancel()
		require.NoError(t, err, "call %d next to the slow clients", calls)
		require.Equal(t, calls+1, sum)
		time.Sleep(10 * time.Millisecond)
	}
	assert.Greater(t, calls, 10)

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		close(stop)
		wg.Wait()
		t.Fatal("a slow client was not cut off")
	}
	t.Logf("header trickler cut after %v, body trickler after %v; %d ordinary calls meanwhile", lived[0], lived[1], calls)
	assert.Less(t, lived[0], headerTimeout+time.Second, "headers trickled: cut by ReadHeaderTimeout")
	assert.GreaterOrEqual(t, lived[0], headerTimeout/2)
	assert.Less(t, lived[1], readTimeout+time.Second, "body trickled: cut by ReadTimeout")
	assert.GreaterOrEqual(t, lived[1], readTimeout/2)
	stillServes(t, srv.Addr(), 5*time.Second)
}

// TestIdleConnectionsBounded: with MaxConns connections open, the next
// client waits in the accept backlog (it is not served, nor does the server
// grow without bound); closing the hogs, or the server's header timeout
// dropping them, lets service resume.
func TestIdleConnectionsBounded(t *testing.T) {
	const maxConns = 8
	openIdle := func(t *testing.T, host string) []net.Conn {
		conns := make([]net.Conn, maxConns)
		for i := range conns {
			c, err := net.Dial("tcp", host)
			require.NoError(t, err)
			conns[i] = c
		}
		// Let the server accept them all: a request sent now would be
		// taken before the last hogs otherwise.
		time.Sleep(100 * time.Millisecond)
		return conns
	}
	closeAll := func(conns []net.Conn) {
		for _, c := range conns {
			c.Close()
		}
	}

	t.Run("cap", func(t *testing.T) {
		ts := newTestServer(t)
		srv := ts.listenWith(t, xmlrpc.ListenConfig{MaxConns: maxConns})
		hogs := openIdle(t, hostPort(t, srv.Addr()))
		defer closeAll(hogs)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		err := dial(t, srv.Addr()).Call(ctx, "fun_add", []any{1, 2}, nil)
		require.Error(t, err, "the server takes no connection beyond its cap")
		assert.True(t, errors.Is(err, transport.ErrTimeout), "the call waits in the backlog until its deadline: %v", err)
		closeAll(hogs)
		stillServes(t, srv.Addr(), 5*time.Second)
	})

	t.Run("timeout frees", func(t *testing.T) {
		const headerTimeout = 300 * time.Millisecond
		ts := newTestServer(t)
		srv := ts.listenWith(t, xmlrpc.ListenConfig{MaxConns: maxConns, ReadHeaderTimeout: headerTimeout})
		hogs := openIdle(t, hostPort(t, srv.Addr()))
		defer closeAll(hogs)
		start := time.Now()
		stillServes(t, srv.Addr(), 5*time.Second)
		assert.GreaterOrEqual(t, time.Since(start), headerTimeout/3, "the call waited for a hog to be dropped")
	})
}

// TestSlowBodiesDoNotTakeCallSlots: a client trickling its body holds a
// connection, not one of the MaxInFlight call slots, so with every slot's
// worth of tricklers connected an ordinary call is still served.
func TestSlowBodiesDoNotTakeCallSlots(t *testing.T) {
	ts := newTestServer(t)
	srv := ts.listenWith(t, xmlrpc.ListenConfig{ReadTimeout: 5 * time.Second}, transport.WithMaxInFlight(2))
	host := hostPort(t, srv.Addr())
	head := fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n", 10*len(addCall))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		conn, err := net.Dial("tcp", host)
		require.NoError(t, err)
		_, err = io.WriteString(conn, head)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			trickle(conn, []byte(addCall), 20*time.Millisecond, stop)
		}()
	}
	time.Sleep(200 * time.Millisecond) // both bodies are being read
	stillServes(t, srv.Addr(), 3*time.Second)
	close(stop)
	wg.Wait()
}
