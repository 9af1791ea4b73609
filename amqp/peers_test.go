package amqp

// Interop with RabbitMQ tutorial six (RPC) on the AMQP client libraries
// of other languages, both ways (issue 11): Node's amqplib and Ruby's
// bunny. The peer programs live in testdata/peers (each says how to run
// it in its header). The Python pika tutorial is in interop_test.go.

import (
	"encoding/json"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/internal/testenv"
	"github.com/rpcwire/rpcwire/transport"
)

const (
	peersDir      = "testdata/peers"
	peerRunLimit  = 2 * time.Minute
	peerReadyWait = 30 * time.Second
)

// bunnyURL is broker as bunny reads it: bunny takes a trailing "/" as the
// empty vhost (NOT_ALLOWED - vhost not found), as the AMQP URI spec
// says; the default vhost "/" is "%2F".
func bunnyURL(t *testing.T, broker string) string {
	t.Helper()
	u, err := url.Parse(broker)
	require.NoError(t, err)
	if u.Path == "/" || u.Path == "" {
		return strings.TrimSuffix(broker, "/") + "/%2F"
	}
	return broker
}

// rpcClient is a peer's tutorial-six client: it sends count calls at
// once, call i asking fib(n + i % spread), and reports in one JSON line.
type rpcClient struct {
	name string
	cmd  func(t *testing.T, queue, n, count, broker, spread string) *exec.Cmd
}

// rpcReport is the JSON line a peer rpc_client prints.
type rpcReport struct {
	Sent    int      `json:"sent"`
	OK      int      `json:"ok"`
	Wrong   int      `json:"wrong"`
	Missing int      `json:"missing"`
	Errors  []string `json:"errors"`
}

func peerRPCClients() []rpcClient {
	return []rpcClient{
		{"node amqplib", func(t *testing.T, queue, n, count, broker, spread string) *exec.Cmd {
			node := testenv.Node(t, filepath.Join(peersDir, "node"), "amqplib")
			return exec.Command(node, "node/rpc_client.js", queue, n, count, broker, spread)
		}},
		{"ruby bunny", func(t *testing.T, queue, n, count, broker, spread string) *exec.Cmd {
			return exec.Command(testenv.Ruby(t, "bunny", "json"), "ruby/rpc_client.rb", queue, n, count, bunnyURL(t, broker), spread)
		}},
	}
}

// TestPeerRPCClientsCallUs runs the peers' tutorial-six clients, many
// calls at once, against our server on a queue of its own (text codec,
// fib as the default method, as examples/server serves the tutorial):
// every reply reaches its call with the right value.
func TestPeerRPCClientsCallUs(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	startServer(t, withParams(t, broker, "queue", q, "method", "fib"))
	for _, c := range peerRPCClients() {
		t.Run(c.name, func(t *testing.T) {
			for _, run := range []struct{ n, count, spread string }{
				{"7", "50", "5"},   // fib(7..11), 50 at once
				{"20", "100", "1"}, // fib(20), 100 at once
			} {
				cmd := c.cmd(t, q, run.n, run.count, broker, run.spread)
				cmd.Dir = peersDir
				var r rpcReport
				out := testenv.Run(t, cmd, peerRunLimit)
				require.NoError(t, json.Unmarshal([]byte(out), &r), out)
				want, _ := strconv.Atoi(run.count)
				assert.Equal(t, rpcReport{Sent: want, OK: want, Errors: []string{}}, r, "%s calls of fib(%s + i%%%s)", run.count, run.n, run.spread)
			}
		})
	}
}

// TestBunnyReadsOurFaultCode: the text codec's fault code header is an
// AMQP long-long (l), which bunny reads signed; an int32 (I) header it
// would read unsigned (-32602 as 4294934694).
func TestBunnyReadsOurFaultCode(t *testing.T) {
	broker := brokerURL(t)
	ruby := testenv.Ruby(t, "bunny", "json")
	q := testQueue(t, broker)
	startServer(t, withParams(t, broker, "queue", q, "method", "fib"))
	cmd := exec.Command(ruby, "ruby/header_check.rb", q, bunnyURL(t, broker))
	cmd.Dir = peersDir
	out := testenv.Run(t, cmd, peerRunLimit) // exits 1 unless both read -32602
	var got map[string]struct {
		Value any    `json:"value"`
		Body  string `json:"body"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	assert.Equal(t, float64(transport.CodeInvalidParams), got["I"].Value, "the fault code of our reply, as bunny reads it")
	assert.Equal(t, "error: rpcwire: invalid params: fib(-1): n must not be negative", got["I"].Body)
}

// TestWeCallPeerRPCServers calls the peers' tutorial-six servers with our
// client (text codec), one call and many at once, with the servers'
// error replies as faults and each library's limits asserted.
func TestWeCallPeerRPCServers(t *testing.T) {
	broker := brokerURL(t)
	servers := []struct {
		name string
		cmd  func(t *testing.T, queue string) *exec.Cmd
		// fib90 is what the server answers for fib(90).
		fib90 int64
	}{
		{"node amqplib", func(t *testing.T, queue string) *exec.Cmd {
			node := testenv.Node(t, filepath.Join(peersDir, "node"), "amqplib")
			return exec.Command(node, "node/rpc_server.js", queue, broker)
		}, 2880067194370816000}, // JavaScript numbers: exact up to fib(78)
		{"ruby bunny", func(t *testing.T, queue string) *exec.Cmd {
			return exec.Command(testenv.Ruby(t, "bunny"), "ruby/rpc_server.rb", queue, bunnyURL(t, broker))
		}, int64(fibValues(91)[90])},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			want := fibValues(30)
			q := testQueue(t, broker) // the peer declares it; we delete it
			cmd := srv.cmd(t, q)
			cmd.Dir = peersDir
			testenv.Start(t, cmd, "ready", peerReadyWait)
			c := dialClient(t, withParams(t, broker, "queue", q, "codec", "text"))
			ctx := ctxT(t, time.Minute)

			var n int64
			require.NoError(t, c.Call(ctx, "fib", []any{7}, &n))
			assert.Equal(t, int64(13), n)
			require.NoError(t, c.Call(ctx, "fib", []any{90}, &n))
			assert.Equal(t, srv.fib90, n)

			// The servers' error replies ("error: ...", no code) are faults.
			for arg, msg := range map[any]string{-1: "fib(-1): n must not be negative", "abc": `fib wants an integer, got "abc"`} {
				err := c.Call(ctx, "fib", []any{arg}, nil)
				var re *transport.RemoteError
				require.ErrorAs(t, err, &re, "fib(%v)", arg)
				assert.Equal(t, &transport.RemoteError{Code: transport.CodeApplication, Message: msg}, re)
			}

			// Many calls at once; each reply finds its call.
			const calls = 30
			var wg sync.WaitGroup
			for i := range calls {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var got int64
					if assert.NoError(t, c.Call(ctx, "fib", []any{i}, &got), "fib(%d)", i) {
						assert.Equal(t, int64(want[i]), got, "fib(%d)", i)
					}
				}()
			}
			wg.Wait()
		})
	}
}
