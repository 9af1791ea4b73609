package amqp

// TLS and credentials (issue 6, item 6), beside TestAMQPS: untrusted
// certificates and wrong passwords fail clearly on both sides, and no
// password reaches an error or a log line.

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/internal/logbuf"
	"github.com/rpcwire/rpcwire/internal/testtls"
	"github.com/rpcwire/rpcwire/transport"
)

// TestAMQPSecurity: over amqps:// (a TLS proxy with a test CA in front of
// the broker), a server and a client that do not trust the CA fail with
// ErrConnection naming the certificate; wrong credentials fail with
// ErrUnauthorized on both sides; and neither the right password nor a wrong
// one appears in any error or in the debug log of server and clients.
func TestAMQPSecurity(t *testing.T) {
	const wrong = "Wr0ng-Pa55w0rd"
	broker := brokerURL(t)
	bu, err := url.Parse(broker)
	require.NoError(t, err)
	password, _ := bu.User.Password()
	require.NotEmpty(t, password, "the test broker URL has a password")
	certs := testtls.NewTLS(t)
	other := testtls.NewTLS(t)
	proxy := testtls.TLSProxy(t, bu.Host, certs.Server)

	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	u := withParams(t, broker, "queue", testQueue(t, broker))
	u.Scheme, u.Host = "amqps", proxy
	bad := *u
	bad.User = url.UserPassword(bu.User.Username(), wrong)

	var errs []error
	ctx := func() context.Context { return ctxT(t, 10*time.Second) }

	// The broker answers bad credentials after a delay: run the refusals
	// side by side.
	type attempt struct {
		name   string
		run    func() error
		target error
		text   string
	}
	attempts := []attempt{
		{"client, untrusted CA", func() error {
			_, err := Dial(ctx(), u, transport.WithTLSConfig(other.Client), transport.WithLogger(log))
			return err
		}, transport.ErrConnection, "certificate"},
		{"server, untrusted CA", func() error {
			_, err := Listen(ctx(), u, funcs.NewRegistry(), transport.WithTLSConfig(other.Client), transport.WithLogger(log))
			return err
		}, transport.ErrConnection, "certificate"},
		{"client, wrong password", func() error {
			_, err := Dial(ctx(), &bad, transport.WithTLSConfig(certs.Client), transport.WithLogger(log))
			return err
		}, transport.ErrUnauthorized, "refused"},
		{"server, wrong password", func() error {
			_, err := Listen(ctx(), &bad, funcs.NewRegistry(), transport.WithTLSConfig(certs.Client), transport.WithLogger(log))
			return err
		}, transport.ErrUnauthorized, "refused"},
	}
	results := make([]error, len(attempts))
	var wg sync.WaitGroup
	for i, a := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = a.run()
		}()
	}
	wg.Wait()
	for i, a := range attempts {
		err := results[i]
		require.Error(t, err, a.name)
		t.Logf("%s: %v", a.name, err)
		assert.ErrorIs(t, err, a.target, a.name)
		assert.ErrorContains(t, err, a.text, a.name)
		errs = append(errs, err)
	}

	// The right credentials and CA work; the server logs as it serves.
	srv, err := Listen(ctx(), u, funcs.NewRegistry(), transport.WithTLSConfig(certs.Client), transport.WithLogger(log))
	require.NoError(t, err)
	defer srv.Close()
	c, err := Dial(ctx(), u, transport.WithTLSConfig(certs.Client), transport.WithLogger(log))
	require.NoError(t, err)
	defer c.Close()
	var n int
	require.NoError(t, c.Call(ctx(), "fib", []any{7}, &n))
	assert.Equal(t, 13, n)
	errs = append(errs, c.Call(ctx(), "no_such_method", nil, nil))
	require.NoError(t, c.Close())
	errs = append(errs, c.Call(ctx(), "fib", []any{7}, &n))
	require.NoError(t, srv.Shutdown(ctx()))

	out := logs.String()
	require.Contains(t, out, "amqp: serving", "the logger was used")
	texts := []string{out, srv.Addr()}
	for _, err := range errs {
		require.Error(t, err)
		texts = append(texts, err.Error())
	}
	for _, text := range texts {
		assert.NotContains(t, text, wrong, "a wrong password leaked")
		assert.NotContains(t, text, ":"+password+"@", "the password leaked")
		assert.NotContains(t, text, bu.User.Username()+":"+password, "the password leaked")
	}
	assert.False(t, strings.Contains(srv.Addr(), "@"), "Addr has no credentials: %s", srv.Addr())
}
