package amqp

import (
	"crypto/tls"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/internal/testtls"
	"github.com/rpcwire/rpcwire/transport"
)

// TestAMQPS runs client and server over amqps:// through a TLS proxy in
// front of the broker, with a CA made for the test.
func TestAMQPS(t *testing.T) {
	broker := brokerURL(t)
	bu, err := url.Parse(broker)
	require.NoError(t, err)
	certs := testtls.NewTLS(t)
	proxy := testtls.TLSProxy(t, bu.Host, certs.Server)

	u := withParams(t, broker, "queue", testQueue(t, broker))
	u.Scheme, u.Host = "amqps", proxy
	srv := startServer(t, u, transport.WithTLSConfig(certs.Client))
	assert.Contains(t, srv.Addr(), "amqps://"+proxy)
	c := dialClient(t, u, transport.WithTLSConfig(certs.Client))
	var n int
	require.NoError(t, c.Call(ctxT(t, 10*time.Second), "fib", []any{7}, &n))
	assert.Equal(t, 13, n)
	assert.Empty(t, certs.Client.ServerName, "the caller's tls.Config is not written to")

	// A client that does not trust the CA fails clearly.
	_, err = Dial(ctxT(t, 10*time.Second), u, transport.WithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	require.Error(t, err)
	assert.ErrorIs(t, err, transport.ErrConnection)
	assert.ErrorContains(t, err, "certificate")
}
