package xmlrpc_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTransferEncodingClosesConnection: a request with a Transfer-Encoding
// (chunked or any other, with or without a Content-Length) gets one
// answer and its connection closed, so bytes after its body never run as
// a second, smuggled request (RFC 9112 section 6.1). Checked on a raw
// socket: exactly one response, then end of stream, and the smuggled
// call's method never ran.
func TestTransferEncodingClosesConnection(t *testing.T) {
	ts := newTestServer(t)
	var smuggled atomic.Int32
	ts.reg.MustRegister("smuggled", func(...int) int { smuggled.Add(1); return 1 })
	srv := ts.listen(t, "http://127.0.0.1:0/")
	u, err := url.Parse(srv.Addr())
	require.NoError(t, err)

	call := func(method string) string {
		return `<?xml version="1.0"?><methodCall><methodName>` + method + `</methodName><params>` +
			`<param><value><int>2</int></value></param><param><value><int>3</int></value></param></params></methodCall>`
	}
	first, second := call("fun_add"), call("smuggled")
	chunked := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(first), first)
	smuggle := "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(second), second)
	head := "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
	for _, tc := range []struct {
		name, request string
		status        string // of the one answer
	}{
		{"content-length and chunked",
			head + fmt.Sprintf("Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n", len(chunked)) + chunked + smuggle, "200 OK"},
		{"chunked and content-length, short",
			head + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" + chunked + smuggle, "200 OK"},
		{"chunked alone, then a pipelined request",
			head + "Transfer-Encoding: chunked\r\n\r\n" + chunked + smuggle, "200 OK"},
		{"chunked in another case", head + "Transfer-Encoding: Chunked\r\n\r\n" + chunked + smuggle, "200 OK"},
		{"gzip, chunked", head + "Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked + smuggle, "501 Not Implemented"},
		{"identity and content-length", head + fmt.Sprintf("Transfer-Encoding: identity\r\nContent-Length: %d\r\n\r\n", len(first)) + first + smuggle, "501 Not Implemented"},
		{"two transfer-encoding fields", head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + smuggle, "501 Not Implemented"},
		{"space before the colon", head + "Transfer-Encoding : chunked\r\n\r\n" + chunked + smuggle, "400 Bad Request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
			require.NoError(t, err)
			defer conn.Close()
			require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
			_, err = io.WriteString(conn, tc.request)
			require.NoError(t, err)
			// The server must close the connection after its one answer:
			// ReadAll returns at end of stream, not at the deadline.
			got, err := io.ReadAll(conn)
			require.NoError(t, err, "the connection was not closed; read so far: %q", got)
			assert.Equal(t, 1, bytes.Count(got, []byte("HTTP/1.1 ")), "one answer: %q", got)
			assert.True(t, strings.HasPrefix(string(got), "HTTP/1.1 "+tc.status), "%q", got)
			if tc.status == "200 OK" {
				assert.Contains(t, string(got), "<int>5</int>", "the first call was answered")
			}
		})
	}
	// Requests the server refuses before XML-RPC (a path with no endpoint,
	// missing credentials) close their connections too.
	authed := ts.listen(t, "http://user:secret@127.0.0.1:0/")
	au, err := url.Parse(authed.Addr())
	require.NoError(t, err)
	for host, request := range map[string]string{
		u.Host:  strings.Replace(head, "POST / ", "POST /elsewhere ", 1) + "Transfer-Encoding: chunked\r\n\r\n" + chunked + smuggle,
		au.Host: head + "Transfer-Encoding: chunked\r\n\r\n" + chunked + smuggle,
	} {
		conn, err := net.DialTimeout("tcp", host, 5*time.Second)
		require.NoError(t, err)
		require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
		_, err = io.WriteString(conn, request)
		require.NoError(t, err)
		got, err := io.ReadAll(conn)
		conn.Close()
		require.NoError(t, err, "the connection was not closed; read so far: %q", got)
		assert.Equal(t, 1, bytes.Count(got, []byte("HTTP/1.1 ")), "one answer: %q", got)
		assert.Regexp(t, `^HTTP/1.1 (404|401) `, string(got))
	}
	require.NoError(t, srv.Close()) // waits for every call the server took
	require.NoError(t, authed.Close())
	assert.Zero(t, smuggled.Load(), "no smuggled request ran")
}
