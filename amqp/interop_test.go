package amqp

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/internal/logbuf"
	"github.com/rpcwire/rpcwire/internal/testenv"
	"github.com/rpcwire/rpcwire/transport"
)

// python returns the interpreter for the pika programs, or skips.
func python(t *testing.T) string { return testenv.Python(t, "pika") }

// The interop and connection-loss tests run in a vhost of their own, so
// the tutorial's fixed queue name (rpc_queue) and closing every
// connection of the vhost disturb nobody else on the broker. Creating a
// vhost costs a few seconds of rabbitmqctl, so the package's tests share
// one, deleted in TestMain.
var testVhost struct {
	once sync.Once
	name string
	err  error
}

// rabbitmqctl runs the broker's admin tool, bounded in time.
func rabbitmqctl(args ...string) error {
	tool := rabbitmqctlPath()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, tool, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", tool, strings.Join(args, " "), err, out)
	}
	return nil
}

func rabbitmqctlPath() string {
	if tool := os.Getenv("RABBITMQCTL"); tool != "" {
		return tool
	}
	return "rabbitmqctl"
}

// createTestVhost creates the vhost for the default broker's guest user
// (AMQP_URL's user when set).
func createTestVhost() {
	user := "guest"
	if u, err := url.Parse(os.Getenv("AMQP_URL")); err == nil && u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	name := "rpcwire_test_" + randomHex(4)
	if testVhost.err = rabbitmqctl("add_vhost", name); testVhost.err == nil {
		testVhost.name = name
		testVhost.err = rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
	}
}

// vhostURL returns the broker URL for the package's test vhost, creating
// it on first use; the test is skipped when rabbitmqctl cannot.
func vhostURL(t *testing.T, broker string) string {
	t.Helper()
	testVhost.once.Do(createTestVhost)
	if testVhost.err != nil {
		testenv.Unavailable(t, fmt.Sprintf("needs rabbitmqctl (set RABBITMQCTL) to create a test vhost: %v", testVhost.err))
	}
	u, err := url.Parse(broker)
	require.NoError(t, err)
	u.Path = "/" + testVhost.name
	u.RawQuery = ""
	return u.String()
}

func deleteTestVhost() {
	if testVhost.name != "" {
		_ = rabbitmqctl("delete_vhost", testVhost.name)
	}
}

// fibValues are fib(0..n-1).
func fibValues(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i], _ = funcs.Fib(i)
	}
	return out
}

// TestPikaClientAgainstOurServer runs the article's unchanged
// rpc_client.py against our server on rpc_queue with the text codec and
// fib as the default method.
func TestPikaClientAgainstOurServer(t *testing.T) {
	broker := brokerURL(t)
	py := python(t)
	vu := vhostURL(t, broker)
	startServer(t, withParams(t, vu, "method", "fib"))

	ctx := ctxT(t, 30*time.Second)
	out, err := exec.CommandContext(ctx, py, "testdata/py/rpc_client.py", "7", vu).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "Got 13")

	// Many calls through the article's FibonacciRpcClient class, unchanged.
	script := `
import sys
sys.path.insert(0, sys.argv[1])
from rpc_client import FibonacciRpcClient
rpc = FibonacciRpcClient(sys.argv[2])
print(" ".join(str(rpc.call(n)) for n in range(30)))
`
	dir, err := filepath.Abs("testdata/py")
	require.NoError(t, err)
	out, err = exec.CommandContext(ctx, py, "-c", script, dir, vu).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, strings.Trim(fmt.Sprint(fibValues(30)), "[]"), strings.TrimSpace(string(out)))
}

// TestOurTextClientAgainstPikaServer calls the article's unchanged
// rpc_server.py with our client in text mode.
func TestOurTextClientAgainstPikaServer(t *testing.T) {
	broker := brokerURL(t)
	py := python(t)
	vu := vhostURL(t, broker)

	cmd := exec.Command(py, "testdata/py/rpc_server.py", vu)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	ready := make(chan struct{})
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Awaiting RPC requests") {
				close(ready)
			}
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		for range lines { // the reader ends when the pipe closes
		}
		_ = cmd.Wait()
	})
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("rpc_server.py did not start")
	}

	c := dialClient(t, withParams(t, vu, "codec", "text"))
	var n int
	require.NoError(t, c.Call(ctxT(t, 10*time.Second), "fib", []any{7}, &n))
	assert.Equal(t, 13, n)

	// Many calls in flight from one client; the pika server answers them
	// one at a time, and each reply must reach its caller.
	want := fibValues(20)
	var wg sync.WaitGroup
	for i := range want {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got int
			if assert.NoError(t, c.Call(ctxT(t, 20*time.Second), "fib", []any{i}, &got)) {
				assert.Equal(t, want[i], got, "fib(%d)", i)
			}
		}()
	}
	wg.Wait()
}

// TestBrokerClosesConnections: `rabbitmqctl close_all_connections` drops
// client and server; both reconnect at once, the calls that were waiting
// are published again on the new connection and answered (each caller
// gets one reply, though the function may run more than once), and new
// calls work.
func TestBrokerClosesConnections(t *testing.T) {
	broker := brokerURL(t)
	vu := vhostURL(t, broker)
	q := "rpc_test_" + randomHex(4)
	reg := funcs.NewRegistry()
	started := make(chan int, 100)
	release := make(chan struct{})
	var runs atomic.Int32
	reg.MustRegister("held", func(ctx context.Context, n int) (int, error) {
		runs.Add(1)
		started <- n
		select {
		case <-release:
			return n * 10, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	})
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	srv, err := NewServer(ctxT(t, 10*time.Second), withParams(t, vu, "queue", q, "durable", "true"), reg, transport.WithLogger(log))
	require.NoError(t, err)
	defer srv.Close()
	c := dialClient(t, withParams(t, vu, "queue", q), transport.WithLogger(log))

	var n int
	require.NoError(t, c.Call(ctxT(t, 5*time.Second), "fib", []any{7}, &n))
	const pending = 3
	type result struct {
		n, got int
		err    error
	}
	results := make(chan result, pending)
	for i := range pending {
		go func() {
			var got int
			err := c.Call(ctxT(t, 30*time.Second), "held", []any{i}, &got)
			results <- result{i, got, err}
		}()
	}
	for range pending {
		<-started
	}
	require.NoError(t, rabbitmqctl("close_all_connections", "--vhost", testVhost.name, "rpcwire connection-loss test"))
	close(release)
	for range pending {
		select {
		case r := <-results:
			require.NoError(t, r.err, "a call waiting when the connection was lost is answered over the next one")
			assert.Equal(t, r.n*10, r.got, "its own reply")
		case <-time.After(20 * time.Second):
			t.Fatal("a call waiting when the connection was lost never returned")
		}
	}
	// Each ran before the loss and again after it (its request redelivered
	// and, published again, run once more): at least once, never lost.
	assert.Greater(t, int(runs.Load()), pending, "the calls ran again after the loss")
	t.Logf("%d calls, %d runs of the function", pending, runs.Load())
	assert.Contains(t, logs.String(), "CONNECTION_FORCED", "the broker's reason is logged")
	assert.Contains(t, logs.String(), "client reconnected")
	assert.Contains(t, logs.String(), "server reconnected")

	require.NoError(t, c.Call(ctxT(t, 15*time.Second), "fib", []any{10}, &n), "new calls work")
	assert.Equal(t, 55, n)
	require.NoError(t, c.Notify(ctxT(t, 5*time.Second), "fib", []any{1}))
}
