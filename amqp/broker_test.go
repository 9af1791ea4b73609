package amqp

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/internal/testenv"
	"github.com/rpcwire/rpcwire/transport"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if wantTestVhost() {
		// rabbitmqctl takes seconds: create the vhost while other tests run.
		go testVhost.once.Do(createTestVhost)
	}
	code := m.Run()
	testVhost.once.Do(func() {}) // wait for a creation in progress
	deleteTestVhost()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// wantTestVhost reports whether the tests that run need the test vhost
// and can have it.
func wantTestVhost() bool {
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		return false
	}
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		re, err := regexp.Compile(f.Value.String())
		if err != nil || !re.MatchString("TestPikaClientAgainstOurServer TestOurTextClientAgainstPikaServer TestBrokerClosesConnections") {
			return false
		}
	}
	if _, err := exec.LookPath(rabbitmqctlPath()); err != nil {
		return false
	}
	raw := os.Getenv("AMQP_URL")
	if raw == "" {
		raw = testenv.DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Port() == "" {
		return false
	}
	conn, err := net.DialTimeout("tcp", u.Host, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// brokerURL returns the test broker's URL, or skips (fails in CI).
func brokerURL(t testing.TB) string { return testenv.URL(t) }

// testQueue returns a fresh queue name and deletes the queue when the test
// ends.
func testQueue(t testing.TB, broker string) string {
	t.Helper()
	q := "rpc_test_" + randomHex(6)
	t.Cleanup(func() { deleteQueue(t, broker, q) })
	return q
}

// brokerChannel opens a channel of a connection of its own to broker,
// for a test to play a foreign peer; the connection closes with the test.
func brokerChannel(t testing.TB, broker string) *amqp091.Channel {
	t.Helper()
	conn, err := amqp091.Dial(broker)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	require.NoError(t, err)
	return ch
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
func startServer(t testing.TB, u *url.URL, opts ...transport.ServerOption) *Server {
	t.Helper()
	srv, err := NewServer(ctxT(t, 10*time.Second), u, funcs.NewRegistry(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func dialClient(t testing.TB, u *url.URL, opts ...transport.ClientOption) transport.Client {
	t.Helper()
	c, err := Dial(ctxT(t, 10*time.Second), u, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}
