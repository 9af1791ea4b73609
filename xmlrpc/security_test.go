package xmlrpc_test

// TLS and basic auth (issue 6, item 6), beside TestHTTPS and TestBasicAuth:
// https:// with a wrong CA or the wrong scheme fails clearly, credentials
// from the listen URL and the client URL work over https, and no password
// reaches an error or a log line.

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/internal/logbuf"
	"github.com/rpcwire/rpcwire/internal/testtls"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc"
)

// TestHTTPSFailuresAreClear: a client trusting another CA, a plain-HTTP
// client on the TLS port and a TLS client on a plain-HTTP port each get an
// error that says what is wrong, and the server keeps serving.
func TestHTTPSFailuresAreClear(t *testing.T) {
	certs := testtls.NewTLS(t)
	other := testtls.NewTLS(t)
	ts := newTestServer(t)
	srv := ts.listen(t, "https://127.0.0.1:0/", transport.WithTLSConfig(certs.Server))
	host := hostPort(t, srv.Addr())

	err := dial(t, srv.Addr(), transport.WithTLSConfig(other.Client)).Call(ctxT(t), "fun_add", []any{2, 3}, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, transport.ErrConnection)
	assert.ErrorContains(t, err, "certificate signed by unknown authority")

	err = dial(t, "http://"+host+"/").Call(ctxT(t), "fun_add", []any{2, 3}, nil)
	require.Error(t, err, "plain HTTP to the TLS port")
	var se *xmlrpc.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusBadRequest, se.StatusCode)
	assert.ErrorContains(t, err, "HTTPS")

	plain := ts.listen(t, "http://127.0.0.1:0/")
	err = dial(t, "https://"+hostPort(t, plain.Addr())+"/", transport.WithTLSConfig(certs.Client)).Call(ctxT(t), "fun_add", []any{2, 3}, nil)
	require.Error(t, err, "TLS to a plain-HTTP port")
	assert.ErrorIs(t, err, transport.ErrConnection)
	assert.ErrorContains(t, err, "HTTP response to HTTPS client")

	var sum int
	require.NoError(t, dial(t, srv.Addr(), transport.WithTLSConfig(certs.Client)).Call(ctxT(t), "fun_add", []any{2, 3}, &sum))
	assert.Equal(t, 5, sum)
}

// TestCredentialsNeverLeak: a server listening on https://user:password@
// and clients with the right, a wrong and no password, plus failures that
// name the URL (port taken, nothing listening): every call behaves as it
// should (ErrUnauthorized for a wrong password), and neither password, nor
// its base64 Authorization form, appears in any error, Addr or the debug
// log of the server.
func TestCredentialsNeverLeak(t *testing.T) {
	const (
		user     = "alice"
		password = "S3cret-Pa55"
		wrong    = "Wr0ng-Pa55"
	)
	secrets := []string{
		password, wrong,
		base64.StdEncoding.EncodeToString([]byte(user + ":" + password)),
		base64.StdEncoding.EncodeToString([]byte(user + ":" + wrong)),
	}
	certs := testtls.NewTLS(t)
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := newTestServer(t)
	srv := ts.listen(t, "https://"+user+":"+password+"@127.0.0.1:0/", transport.WithTLSConfig(certs.Server), transport.WithLogger(log))
	host := hostPort(t, srv.Addr())
	with := func(creds string) string { return "https://" + creds + host + "/" }

	var sum int
	require.NoError(t, dial(t, with(user+":"+password+"@"), transport.WithTLSConfig(certs.Client)).Call(ctxT(t), "fun_add", []any{2, 3}, &sum))
	assert.Equal(t, 5, sum)

	var errs []error
	for _, creds := range []string{user + ":" + wrong + "@", "", user + "@", "mallory:" + password + "@"} {
		err := dial(t, with(creds), transport.WithTLSConfig(certs.Client)).Call(ctxT(t), "fun_add", []any{2, 3}, nil)
		require.Error(t, err, creds)
		assert.ErrorIs(t, err, transport.ErrUnauthorized, creds)
		errs = append(errs, err)
	}
	// A fault, a TLS failure, a closed port and a taken port, each with
	// a password in the URL.
	c := dial(t, with(user+":"+password+"@"), transport.WithTLSConfig(certs.Client))
	errs = append(errs, c.Call(ctxT(t), "no_such_method", nil, nil))
	errs = append(errs, dial(t, with(user+":"+password+"@")).Call(ctxT(t), "fun_add", []any{2, 3}, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	taken := ln.Addr().String()
	require.NoError(t, ln.Close())
	err = dial(t, "http://"+user+":"+password+"@"+taken+"/").Call(ctxT(t), "fun_add", []any{2, 3}, nil)
	assert.ErrorIs(t, err, transport.ErrNoServer)
	errs = append(errs, err)
	_, err = xmlrpc.Listen(context.Background(), &url.URL{Scheme: "http", Host: host, User: url.UserPassword(user, password)}, ts.reg)
	errs = append(errs, err)
	_, err = xmlrpc.Dial(context.Background(), &url.URL{Scheme: "http", User: url.UserPassword(user, password)})
	errs = append(errs, err)

	require.NoError(t, srv.Shutdown(ctxT(t)))
	out := logs.String()
	require.Contains(t, out, "listening", "the logger was used")
	texts := []string{out, srv.Addr()}
	for _, err := range errs {
		require.Error(t, err)
		texts = append(texts, err.Error())
	}
	for _, text := range texts {
		for _, s := range secrets {
			assert.False(t, strings.Contains(text, s), "%q leaked in %q", s, text)
		}
	}
}
