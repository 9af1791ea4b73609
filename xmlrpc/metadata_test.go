package xmlrpc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/internal/testenv"
	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc"
)

// whoRegistry serves "metadata" (the caller's metadata as k=v lines) and
// "peer" (the caller's Peer as a struct).
func whoRegistry() *registry.Registry {
	reg := funcs.NewRegistry()
	reg.MustRegister("metadata", func(ctx context.Context) string {
		md := transport.IncomingMetadata(ctx)
		var kv []string
		for _, k := range md.Keys() {
			kv = append(kv, k+"="+md[k])
		}
		return strings.Join(kv, "\n")
	})
	reg.MustRegister("peer", func(ctx context.Context) map[string]string {
		p, ok := transport.PeerFromContext(ctx)
		if !ok {
			return nil
		}
		return map[string]string{"transport": p.Transport, "addr": p.Addr, "user": p.User}
	})
	return reg
}

// callWithHeader posts an XML-RPC call of method with extra header fields.
func callWithHeader(t *testing.T, url, method string, header http.Header) string {
	t.Helper()
	call := "<?xml version=\"1.0\"?><methodCall><methodName>" + method + "</methodName><params/></methodCall>"
	header = header.Clone()
	header.Set("Content-Type", "text/xml")
	status, body := postBody(t, url, strings.NewReader(call), int64(len(call)), header)
	require.Equal(t, http.StatusOK, status, body)
	return body
}

// TestIncomingHeaders: a foreign caller's header fields are metadata,
// except the reserved ones and those its Connection field names.
func TestIncomingHeaders(t *testing.T) {
	hs := httptest.NewServer(newHandler(t, whoRegistry()))
	defer hs.Close()
	body := callWithHeader(t, hs.URL, "metadata", http.Header{
		"Traceparent":      {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		"X-Request-Id":     {"abc"},
		"X-Multi":          {"a", "b"},
		"X-Hop":            {"private"},
		"Connection":       {"X-Hop"},
		"Authorization":    {"Bearer secret-token"},
		"Proxy-Connection": {"keep-alive"},
		"X-Rpcwire-Oneway": nil,
		"Accept-Language":  {"fr"},
		"Cookie":           {"session=1"},
	})
	assert.Contains(t, body, "traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\nx-multi=a, b\nx-request-id=abc<")
	assert.NotContains(t, body, "secret-token", "Authorization is not metadata")
	assert.NotContains(t, body, "x-hop", "a hop-by-hop field is not metadata")
	assert.NotContains(t, body, "session", "Cookie is reserved")
}

// TestPeerOverHTTP: the Peer says http, the caller's address and the
// user the server checked, on a Listen server and on a Handler behind
// RequireBasicAuth on another mux.
func TestPeerOverHTTP(t *testing.T) {
	srv := (&testServer{reg: whoRegistry()}).listen(t, "http://alice:s3cret@127.0.0.1:0/")
	host := strings.TrimPrefix(srv.Addr(), "http://")
	var p map[string]string
	require.NoError(t, dial(t, "http://alice:s3cret@"+host).Call(ctxT(t), "peer", nil, &p))
	assert.Equal(t, "http", p["transport"])
	assert.Equal(t, "alice", p["user"])
	assert.Contains(t, p["addr"], "127.0.0.1:")

	mux := http.NewServeMux()
	mux.Handle("/x", newHandler(t, whoRegistry()))
	mux.Handle("/auth", xmlrpc.RequireBasicAuth("bob", "pw", newHandler(t, whoRegistry())))
	hs := httptest.NewServer(mux)
	defer hs.Close()
	require.NoError(t, dial(t, hs.URL+"/x").Call(ctxT(t), "peer", nil, &p))
	assert.Equal(t, map[string]string{"transport": "http", "addr": p["addr"], "user": ""}, p)
	assert.Contains(t, p["addr"], "127.0.0.1:")
	require.NoError(t, dial(t, "http://bob:pw@"+hs.Listener.Addr().String()+"/auth").Call(ctxT(t), "peer", nil, &p))
	assert.Equal(t, "bob", p["user"])

	var md string
	require.NoError(t, dial(t, "http://bob:pw@"+hs.Listener.Addr().String()+"/auth").Call(
		transport.AppendToOutgoing(ctxT(t), "x-request-id", "r1"), "metadata", nil, &md))
	assert.Equal(t, "x-request-id=r1", md, "basic-auth credentials never become metadata")
}

// TestPythonHTTPHeaderIsMetadata: a header Python's http.client sends
// with its call is metadata the function reads.
func TestPythonHTTPHeaderIsMetadata(t *testing.T) {
	python := testenv.Python(t)
	srv := (&testServer{reg: whoRegistry()}).listen(t, "http://127.0.0.1:0/")
	script := `
import http.client, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
body = "<?xml version='1.0'?><methodCall><methodName>metadata</methodName><params/></methodCall>"
conn.request("POST", "/RPC2", body, {"Content-Type": "text/xml", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "X-Request-Id": "py-42"})
resp = conn.getresponse()
print(resp.status, resp.read().decode())
`
	out, err := exec.CommandContext(ctxT(t), python, "-c", script, srv.Addr()).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "200 ")
	assert.Contains(t, string(out), "traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\nx-request-id=py-42<")
}
