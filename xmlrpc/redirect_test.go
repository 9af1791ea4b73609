package xmlrpc_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc"
)

// recorder is an HTTP server that counts the requests it gets and keeps
// their Authorization headers: the target a hostile redirect points to.
type recorder struct {
	*httptest.Server
	mu    sync.Mutex
	calls int
	auth  []string
}

func newRecorder(t *testing.T, host string) *recorder {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	require.NoError(t, err)
	r := &recorder{}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.calls++
		r.auth = append(r.auth, req.Header.Get("Authorization"))
		r.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		_, _ = fmt.Fprint(w, `<?xml version="1.0"?><methodResponse><params><param><value><string>stolen</string></value></param></params></methodResponse>`)
	}))
	r.Listener.Close()
	r.Listener = ln
	r.Start()
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) seen() (int, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls, append([]string(nil), r.auth...)
}

// TestRedirects: a redirect is never followed by default, whatever its
// status and target; with DialConfig.FollowRedirects only 307 and 308
// within the dialled origin are, with the call's method, body and
// credentials. A target elsewhere gets nothing, so no credentials.
func TestRedirects(t *testing.T) {
	otherPort := newRecorder(t, "127.0.0.1")
	otherHost := newRecorder(t, "127.0.0.2")

	// The dialled server: /to?code=N&url=U redirects to U with status N;
	// /rpc serves XML-RPC behind basic auth, for redirects within the
	// origin.
	mux := http.NewServeMux()
	h, err := xmlrpc.NewHandler(funcs.NewRegistry())
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Close() })
	var (
		mu      sync.Mutex
		reached = map[string]int{} // requests that reached /rpc, by method
	)
	mux.Handle("/rpc", xmlrpc.RequireBasicAuth("user", "secret", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reached[r.Method]++
		mu.Unlock()
		h.ServeHTTP(w, r)
	})))
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		var code int
		_, _ = fmt.Sscan(r.URL.Query().Get("code"), &code)
		http.Redirect(w, r, r.URL.Query().Get("url"), code)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusTemporaryRedirect)
	})
	origin := httptest.NewServer(mux)
	t.Cleanup(origin.Close)
	ou, err := url.Parse(origin.URL)
	require.NoError(t, err)

	targets := map[string]string{
		"same host, other port": otherPort.URL + "/RPC2",
		"other host":            otherHost.URL + "/RPC2",
		"same origin":           origin.URL + "/rpc",
	}
	for _, follow := range []bool{false, true} {
		for name, target := range targets {
			for _, code := range []int{301, 302, 303, 307, 308} {
				what := fmt.Sprintf("follow=%v %s %d", follow, name, code)
				dialURL := fmt.Sprintf("http://user:secret@%s/to?code=%d&url=%s", ou.Host, code, url.QueryEscape(target))
				u, err := url.Parse(dialURL)
				require.NoError(t, err)
				cfg := xmlrpc.DialConfig{FollowRedirects: follow}
				c, err := cfg.Dial(context.Background(), u)
				require.NoError(t, err)
				var sum int
				err = c.Call(ctxT(t), "fun_add", []any{2, 3}, &sum)
				nerr := c.Notify(ctxT(t), "fun_add", []any{2, 3})
				require.NoError(t, c.Close())

				if follow && name == "same origin" && (code == 307 || code == 308) {
					require.NoError(t, err, what)
					assert.Equal(t, 5, sum, what)
					assert.NoError(t, nerr, what)
					continue
				}
				var se *xmlrpc.StatusError
				require.ErrorAs(t, err, &se, what)
				assert.Equal(t, code, se.StatusCode, what)
				assert.Equal(t, "/to", se.Path, what)
				assert.Equal(t, target, se.Location, what)
				assert.ErrorContains(t, err, fmt.Sprintf("HTTP %d %s for /to: redirect to %s not followed", code, http.StatusText(code), target), what)
				assert.NotContains(t, err.Error(), "secret", what)
				for _, s := range []error{transport.ErrNoServer, transport.ErrNotFound, transport.ErrConnection} {
					assert.False(t, errors.Is(err, s), "%s: %v", what, s)
				}
				require.ErrorAs(t, nerr, &se, "%s: one-way", what)
				assert.Equal(t, code, se.StatusCode, what)
			}
		}
	}
	for _, r := range []*recorder{otherPort, otherHost} {
		n, auth := r.seen()
		assert.Zero(t, n, "no request reaches a redirect's target elsewhere")
		assert.Empty(t, auth, "so no credentials do")
	}
	mu.Lock()
	assert.Equal(t, map[string]int{http.MethodPost: 4}, reached,
		"307 and 308 within the origin, a call and a one-way message each, with credentials; no call became a GET")
	mu.Unlock()

	// A loop ends after 10 redirects.
	cfg := xmlrpc.DialConfig{FollowRedirects: true}
	c, err := cfg.Dial(context.Background(), &url.URL{Scheme: "http", Host: ou.Host, Path: "/loop"})
	require.NoError(t, err)
	defer c.Close()
	err = c.Call(ctxT(t), "fun_add", []any{2, 3}, nil)
	var se *xmlrpc.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusTemporaryRedirect, se.StatusCode)
}

// TestStatusErrorRedactsLocation: a redirect to a URL with credentials
// in it does not repeat them.
func TestStatusErrorRedactsLocation(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://alice:hunter2@elsewhere.example/x", http.StatusFound)
	}))
	defer hs.Close()
	err := dial(t, hs.URL).Call(ctxT(t), "fun_add", []any{2, 3}, nil)
	var se *xmlrpc.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "http://alice:xxxxx@elsewhere.example/x", se.Location)
	assert.NotContains(t, err.Error(), "hunter2")
}
