package amqp

import (
	"context"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/transport"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		deleteTestVhost()
		os.Exit(code)
	}))
}

// defaultBrokerURL is the broker the tests use unless AMQP_URL says otherwise.
const defaultBrokerURL = "amqp://guest:guest@127.0.0.1:5672/"

// brokerURL returns the test broker's URL. When the broker is unreachable
// the test is skipped, unless CI is set: there the broker must be up.
func brokerURL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv("AMQP_URL")
	if raw == "" {
		raw = defaultBrokerURL
	}
	u, err := url.Parse(raw)
	require.NoError(t, err, "AMQP_URL")
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "5672")
	}
	conn, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("RabbitMQ is not reachable at %s (CI is set, so it must be): %v", u.Redacted(), err)
		}
		t.Skipf("RabbitMQ is not reachable at %s: %v (start one, or set AMQP_URL)", u.Redacted(), err)
	}
	conn.Close()
	return raw
}

// testQueue returns a fresh queue name and deletes the queue when the test
// ends.
func testQueue(t testing.TB, broker string) string {
	t.Helper()
	q := "rpc_test_" + randomHex(6)
	t.Cleanup(func() { deleteQueue(t, broker, q) })
	return q
}

func deleteQueue(t testing.TB, broker, q string) {
	conn, err := amqp091.Dial(broker)
	if err != nil {
		t.Logf("delete queue %s: %v", q, err)
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return
	}
	_, _ = ch.QueueDelete(q, false, false, false)
}

// withParams returns broker with query parameters set.
func withParams(t testing.TB, broker string, kv ...string) *url.URL {
	t.Helper()
	u, err := url.Parse(broker)
	require.NoError(t, err)
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// startServer serves funcs.NewRegistry (plus extra registrations) on u.
func startServer(t testing.TB, u *url.URL, opts ...transport.Option) *Server {
	t.Helper()
	srv, err := NewServer(ctxT(t, 10*time.Second), u, funcs.NewRegistry(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func dialClient(t testing.TB, u *url.URL, opts ...transport.Option) *Client {
	t.Helper()
	c, err := NewClient(ctxT(t, 10*time.Second), u, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}
