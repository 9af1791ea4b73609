package amqp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/internal/logbuf"
	"github.com/rpcwire/rpcwire/transport"
)

// clusterEnv names the URL of the 3-node test cluster (scripts/cluster.sh
// prints it last); scripts/cluster-test.sh starts the cluster, sets it and
// runs the tests of this file, which kill nodes and raise alarms, so they
// never run against a broker anyone else uses.
const clusterEnv = "RPCWIRE_CLUSTER"

// cluster is the test cluster: its nodes' addresses and the script that
// kills and restarts them.
type cluster struct {
	t      *testing.T
	user   *url.Userinfo
	hosts  []string // node 1, 2, 3
	script string
}

func testCluster(t *testing.T) *cluster {
	raw := os.Getenv(clusterEnv)
	if raw == "" {
		t.Skipf("kills and alarms broker nodes: run scripts/cluster-test.sh (or set %s to a test cluster's URL)", clusterEnv)
	}
	u, err := transport.ParseURL(raw)
	require.NoError(t, err)
	hosts := strings.Split(u.Host, ",")
	require.Len(t, hosts, 3, "want a 3-node cluster URL")
	script, err := filepath.Abs(filepath.Join("..", "scripts", "cluster.sh"))
	require.NoError(t, err)
	return &cluster{t: t, user: u.User, hosts: hosts, script: script}
}

// url is a URL of the cluster that tries node first, then the others in
// order, with params.
func (c *cluster) url(node int, params ...string) *url.URL {
	order := []string{c.hosts[node-1]}
	for i, h := range c.hosts {
		if i != node-1 {
			order = append(order, h)
		}
	}
	q := url.Values{"shuffle": {"false"}}
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	return &url.URL{Scheme: "amqp", User: c.user, Host: strings.Join(order, ","), Path: "/", RawQuery: q.Encode()}
}

// run runs scripts/cluster.sh with args and returns its stdout.
func (c *cluster) run(args ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, c.script, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(c.t, cmd.Run(), "cluster.sh %v: %s", args, stderr.String())
	return strings.TrimSpace(stdout.String())
}

// consumers counts the consumers of queue, asking a live node.
func (c *cluster) consumers(queue string) int {
	for _, h := range c.hosts {
		conn, err := amqp091.DialConfig((&url.URL{Scheme: "amqp", User: c.user, Host: h, Path: "/"}).String(),
			amqp091.Config{Dial: amqp091.DefaultDial(2 * time.Second)})
		if err != nil {
			continue
		}
		ch, err := conn.Channel()
		if err == nil {
			var q amqp091.Queue
			if q, err = ch.QueueDeclarePassive(queue, true, false, false, false, amqp091.Table{"x-queue-type": "quorum"}); err == nil {
				conn.Close()
				return q.Consumers
			}
		}
		conn.Close()
	}
	return -1
}

func (c *cluster) deleteQueue(queue string) {
	for _, h := range c.hosts {
		conn, err := amqp091.Dial((&url.URL{Scheme: "amqp", User: c.user, Host: h, Path: "/"}).String())
		if err != nil {
			continue
		}
		if ch, err := conn.Channel(); err == nil {
			_, _ = ch.QueueDelete(queue, false, false, false)
		}
		conn.Close()
		return
	}
}

// TestClusterFailover kills (kill -9) a node of a 3-node cluster under
// load, twice: the node the client is connected to, then the node of the
// quorum request queue's leader. Two servers consume the queue from
// nodes 1 and 2; the client has 16 calls in flight from node 3. Every
// call is accounted for: none fails, none hangs, none gets another's
// reply, service resumes within 3 s of each kill, and both servers
// consume again once the node is back.
func TestClusterFailover(t *testing.T) {
	c := testCluster(t)
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	defer func() {
		if t.Failed() {
			t.Logf("transport log:\n%s", logs.String())
		}
	}()
	q := "rpc_cluster_" + randomHex(6)
	defer c.deleteQueue(q)
	for _, node := range []int{1, 2} {
		srv, err := NewServer(ctxT(t, 30*time.Second), c.url(node, "queue", q, "quorum", "true"), funcs.NewRegistry(), transport.WithLogger(log))
		require.NoError(t, err)
		defer srv.Close()
	}
	client, err := Dial(ctxT(t, 30*time.Second), c.url(3, "queue", q, "quorum", "true"), transport.WithLogger(log))
	require.NoError(t, err)
	defer client.Close()
	require.NoError(t, client.Call(ctxT(t, 10*time.Second), "fun_add", []any{1, 2}, nil))

	stop := make(chan struct{})
	done := make(chan []loadResult, 1)
	go func() { done <- runLoad([]transport.Client{client}, 16, 20*time.Second, stop) }()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
	}()

	leader, err := strconv.Atoi(c.run("leader", q))
	require.NoError(t, err, "the queue's leader")
	type kill struct {
		what string
		node int
		at   time.Time
	}
	var kills []kill
	victims := []struct {
		what string
		node func() int
	}{
		{"the client's node", func() int { return 3 }},
		{"the quorum leader's node", func() int {
			n, err := strconv.Atoi(c.run("leader", q))
			require.NoError(t, err)
			return n
		}},
	}
	t.Logf("queue %s: leader on node %d at the start", q, leader)
	for _, v := range victims {
		time.Sleep(2 * time.Second) // load before the kill
		node := v.node()
		c.run("kill", strconv.Itoa(node))
		kills = append(kills, kill{v.what, node, time.Now()})
		time.Sleep(5 * time.Second) // load while the node is down
		c.run("restart", strconv.Itoa(node))
		deadline := time.Now().Add(30 * time.Second)
		for c.consumers(q) != 2 && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
		assert.Equal(t, 2, c.consumers(q), "both servers consume again after node %d returns", node)
	}
	time.Sleep(2 * time.Second)
	close(stop)
	var calls []loadResult
	select {
	case calls = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the load did not stop: a call hangs")
	}

	failed := 0
	for _, r := range calls {
		if r.err != nil {
			failed++
			if failed <= 5 {
				t.Errorf("a call failed after %v: %v", r.end.Sub(r.start).Round(time.Millisecond), r.err)
			}
		}
		assert.Less(t, r.end.Sub(r.start), 20*time.Second+time.Second, "a call outlived its deadline")
	}
	assert.Zero(t, failed, "failed calls of %d", len(calls))
	for _, k := range kills {
		var inFlight int
		var slowest, resumed time.Duration
		for _, r := range calls {
			if r.start.Before(k.at) && r.end.After(k.at) {
				inFlight++
				slowest = max(slowest, r.end.Sub(k.at))
			}
			if r.err == nil && r.start.After(k.at) && (resumed == 0 || r.end.Sub(k.at) < resumed) {
				resumed = r.end.Sub(k.at)
			}
		}
		t.Logf("killed %s (node %d): %d calls in flight, the last answered %v after the kill; service resumed %v after it",
			k.what, k.node, inFlight, slowest.Round(time.Millisecond), resumed.Round(time.Millisecond))
		assert.NotZero(t, resumed, "served after killing %s", k.what)
		assert.Less(t, resumed, 3*time.Second, "service resumes within 3 s of killing %s", k.what)
		assert.Less(t, slowest, 10*time.Second, "the calls in flight at the kill finish within seconds")
	}
	t.Logf("%d calls, %d failed", len(calls), failed)
}

// TestClusterMemoryAlarm raises a memory alarm on node 1 (alarms are
// cluster-wide: every publisher is blocked): calls fail at once with
// ErrBusy naming the broker's reason, a 2 s call of examples/client ends
// within about 2 s and another ends on SIGTERM, and once the alarm is
// lifted calls succeed again with no restart.
func TestClusterMemoryAlarm(t *testing.T) {
	c := testCluster(t)
	q := "rpc_cluster_" + randomHex(6)
	defer c.deleteQueue(q)
	srv, err := NewServer(ctxT(t, 30*time.Second), c.url(2, "queue", q, "quorum", "true"), funcs.NewRegistry())
	require.NoError(t, err)
	defer srv.Close()
	client, err := Dial(ctxT(t, 30*time.Second), c.url(1, "queue", q, "quorum", "true"))
	require.NoError(t, err)
	defer client.Close()
	require.NoError(t, client.Call(ctxT(t, 10*time.Second), "fun_add", []any{1, 2}, nil))

	bin := filepath.Join(t.TempDir(), "client")
	build := exec.Command("go", "build", "-o", bin, "../examples/client")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build examples/client: %s", out)

	c.run("ctl", "1", "set_vm_memory_high_watermark", "absolute", "10MB")
	lifted := false
	lift := func() {
		if !lifted {
			c.run("ctl", "1", "set_vm_memory_high_watermark", "0.4")
			lifted = true
		}
	}
	defer lift()

	// The alarm reaches the client as connection.blocked: then calls fail
	// at once.
	var busy error
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		start := time.Now()
		busy = client.Call(ctxT(t, 2*time.Second), "fun_add", []any{1, 2}, nil)
		took := time.Since(start)
		assert.Less(t, took, 3*time.Second, "a 2 s call ends within about 2 s: %v", busy)
		if errors.Is(busy, transport.ErrBusy) {
			assert.Less(t, took, time.Second, "a blocked broker fails new calls at once")
			break
		}
	}
	require.ErrorIs(t, busy, transport.ErrBusy)
	assert.Contains(t, busy.Error(), "memory", "the broker's reason")
	t.Logf("during the alarm: %v", busy)

	// examples/client, a new connection that the broker blocks as it
	// publishes: it fails with ErrBusy once blocked, within its -timeout;
	// SIGTERM ends it too.
	u := c.url(1, "queue", q, "quorum", "true")
	start := time.Now()
	cmd := exec.Command(bin, "-url", u.String(), "-timeout", "2s", "fib", "7")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	took := time.Since(start)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "examples/client fails: %s", stderr.String())
	assert.Equal(t, 2, exit.ExitCode(), stderr.String())
	assert.Less(t, took, 5*time.Second, "examples/client -timeout 2s exits within about 2 s: %s", stderr.String())
	assert.Contains(t, stderr.String(), "blocking publishers (low on memory)", "the broker blocked its first publish: it says so, not a timeout")
	assert.NotContains(t, stderr.String(), "guest:guest", "no password in the output")
	t.Logf("examples/client -timeout 2s: exit %d after %v: %s", exit.ExitCode(), took.Round(time.Millisecond), strings.TrimSpace(stderr.String()))

	cmd = exec.Command(bin, "-url", u.String(), "-timeout", "60s", "fib", "7")
	stderr.Reset()
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
		// Blocked as it published: it ended by itself, with ErrBusy.
		t.Logf("examples/client -timeout 60s ended by itself: %s", strings.TrimSpace(stderr.String()))
	case <-time.After(time.Second):
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		select {
		case <-exited:
			t.Logf("examples/client on SIGTERM: %s", strings.TrimSpace(stderr.String()))
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Fatal("examples/client ignored SIGTERM during the alarm")
		}
	}

	lift()
	deadline = time.Now().Add(15 * time.Second)
	var ok error
	for time.Now().Before(deadline) {
		if ok = client.Call(ctxT(t, 2*time.Second), "fun_add", []any{1, 2}, nil); ok == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(t, ok, "calls succeed again once the alarm is lifted, with no restart")
}
