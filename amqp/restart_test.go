package amqp

// Broker restart under load (issue 6, item 1). Stopping the broker's app
// disturbs every other test that uses it, so TestBrokerRestart runs only
// with RPCWIRE_BROKER_RESTART=1: scripts/broker-restart.sh runs it alone
// and always leaves the broker started.

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/internal/logbuf"
	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
)

// brokerRestartEnv turns on TestBrokerRestart.
const brokerRestartEnv = "RPCWIRE_BROKER_RESTART"

// Bounds of the restart test.
const (
	restartCallTimeout = 2 * time.Second         // each call under load
	restartSlack       = 1500 * time.Millisecond // beyond its deadline, before a call counts as hung
	restartDown        = 3 * time.Second         // the app stays stopped this long
	restartRecover     = 15 * time.Second        // from start_app to serving again
)

// loadResult is one call made under load.
type loadResult struct {
	client     int
	start, end time.Time
	err        error
}

// runLoad calls fun_add with arguments unique to each call from
// goroutines per client until stop closes (or a bounded count), checking
// that each reply is its own call's sum.
func runLoad(clients []transport.Client, goroutines int, timeout time.Duration, stop <-chan struct{}) []loadResult {
	const maxCalls = 1 << 20
	var (
		mu  sync.Mutex
		all []loadResult
		wg  sync.WaitGroup
	)
	for ci, c := range clients {
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []loadResult
				defer func() {
					mu.Lock()
					all = append(all, mine...)
					mu.Unlock()
				}()
				for i := range maxCalls {
					select {
					case <-stop:
						return
					default:
					}
					a := (ci*goroutines+g)<<24 | i
					ctx, cancel := context.WithTimeout(context.Background(), timeout)
					r := loadResult{client: ci, start: time.Now()}
					var sum int
					r.err = c.Call(ctx, "fun_add", []any{a, 7}, &sum)
					r.end = time.Now()
					cancel()
					if r.err == nil && sum != a+7 {
						r.err = &wrongReply{want: a + 7, got: sum}
					}
					mine = append(mine, r)
					if r.err != nil {
						// Calls fail fast while the broker is away: do not spin.
						select {
						case <-stop:
							return
						case <-time.After(50 * time.Millisecond):
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	return all
}

// wrongReply is a reply that belongs to another call.
type wrongReply struct{ want, got int }

func (e *wrongReply) Error() string { return "wrong reply: another call's answer" }

// TestBrokerRestart restarts RabbitMQ (rabbitmqctl stop_app, a pause,
// start_app) while two clients call a server on a transient queue, with
// requests waiting in a durable and a quorum queue. It proves:
//   - every call either gets its own answer (each sum is checked, so no
//     reply reaches the wrong caller) or fails with ErrConnection,
//     ErrTimeout or ErrNoServer, and none outlives its deadline;
//   - the clients and the server reconnect by themselves, re-declare the
//     transient queue (gone with the restart) and their reply queues, and
//     answer again within seconds of start_app;
//   - requests published (persistent) to a durable or quorum queue before
//     the restart are all run by a server started after it: one-way
//     messages (confirmed before the stop) once each; calls, whose
//     callers wait through the restart and publish them again on the new
//     connection, at least once and at most twice (the original and the
//     copy), each caller getting its own answer.
func TestBrokerRestart(t *testing.T) {
	if os.Getenv(brokerRestartEnv) != "1" {
		t.Skipf("stops the whole broker: run scripts/broker-restart.sh (or set %s=1)", brokerRestartEnv)
	}
	broker := brokerURL(t)
	if _, err := exec.LookPath(rabbitmqctlPath()); err != nil {
		t.Fatalf("needs rabbitmqctl (set RABBITMQCTL): %v", err)
	}
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	defer func() {
		if t.Failed() {
			t.Logf("transport log:\n%s", logs.String())
		}
	}()

	// Load on a transient queue: the restart deletes it, so serving again
	// proves the server re-declares it.
	qLoad := testQueue(t, broker)
	startServer(t, withParams(t, broker, "queue", qLoad, "workers", "8"), transport.WithLogger(log))
	clients := []transport.Client{
		dialClient(t, withParams(t, broker, "queue", qLoad), transport.WithLogger(log)),
		dialClient(t, withParams(t, broker, "queue", qLoad, "codec", "json"), transport.WithLogger(log)),
	}

	// Backlogs in durable and quorum queues with no server: one-way
	// messages (confirmed) and calls whose callers wait through the
	// restart.
	const backlog = 10
	type answer struct {
		i, got int
		err    error
	}
	type waiting struct {
		kind, queue string
		calls       chan answer
	}
	var backlogs []waiting
	for _, kind := range []string{"durable", "quorum"} {
		q := testQueue(t, broker)
		u := withParams(t, broker, "queue", q, kind, "true")
		srv := startServer(t, u)
		c := dialClient(t, u, transport.WithLogger(log))
		// The client meets a server first: a client that never saw one
		// refuses to publish calls into an unserved queue (ErrNoServer).
		require.NoError(t, c.Call(ctxT(t, 5*time.Second), "fib", []any{1}, nil), "%s: first call", kind)
		require.NoError(t, srv.Shutdown(ctxT(t, 5*time.Second)), "the queue stays, without consumers")
		for i := range backlog {
			require.NoError(t, c.Notify(ctxT(t, 5*time.Second), "record", []any{i}), "%s: notify %d", kind, i)
		}
		w := waiting{kind: kind, queue: q, calls: make(chan answer, backlog)}
		for i := range backlog {
			go func() {
				var got int
				err := c.Call(ctxT(t, 40*time.Second), "record", []any{backlog + i}, &got)
				w.calls <- answer{backlog + i, got, err}
			}()
		}
		require.Eventually(t, func() bool { return queueDepth(broker, q) == 2*backlog }, 5*time.Second, 20*time.Millisecond,
			"%s: the calls reach the queue before the restart", kind)
		backlogs = append(backlogs, w)
	}

	stopLoad := make(chan struct{})
	loadDone := make(chan []loadResult, 1)
	go func() { loadDone <- runLoad(clients, 6, restartCallTimeout, stopLoad) }()
	defer func() {
		select {
		case <-stopLoad:
		default:
			close(stopLoad)
		}
	}()
	time.Sleep(time.Second)

	t.Cleanup(func() {
		// Whatever happened, leave the broker running.
		if err := rabbitmqctl("start_app"); err != nil {
			t.Errorf("start_app: %v", err)
		}
	})
	stopBegan := time.Now()
	require.NoError(t, rabbitmqctl("stop_app"))
	stopped := time.Now()
	t.Logf("stop_app took %v", stopped.Sub(stopBegan).Round(time.Millisecond))
	time.Sleep(restartDown - time.Since(stopped))
	require.NoError(t, rabbitmqctl("start_app"))
	started := time.Now()
	t.Logf("start_app took %v", started.Sub(stopped.Add(restartDown)).Round(time.Millisecond))

	// Serve the backlogs now: everything published before the restart runs.
	for _, w := range backlogs {
		var mu sync.Mutex
		seen := map[int]int{}
		reg := registry.New()
		reg.MustRegister("record", func(i int) int {
			mu.Lock()
			seen[i]++
			mu.Unlock()
			return i
		})
		srv, err := NewServer(ctxT(t, restartRecover), withParams(t, broker, "queue", w.queue, w.kind, "true"), reg, transport.WithLogger(log))
		require.NoError(t, err, "%s: serve the queue after the restart", w.kind)
		for range backlog {
			select {
			case a := <-w.calls:
				if assert.NoError(t, a.err, "%s: a call waiting through the restart is answered", w.kind) {
					assert.Equal(t, a.i, a.got, "%s: its own answer", w.kind)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("%s: a call waiting through the restart never returned", w.kind)
			}
		}
		ok := assert.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) == 2*backlog && queueDepth(broker, w.queue) == 0
		}, 10*time.Second, 20*time.Millisecond, "%s: every request published before the restart is served after it", w.kind)
		require.NoError(t, srv.Shutdown(ctxT(t, 5*time.Second)))
		mu.Lock()
		if !ok {
			t.Logf("%s: served %d of %d: %v", w.kind, len(seen), 2*backlog, seen)
		}
		twice := 0
		for i, n := range seen {
			assert.Less(t, i, 2*backlog)
			if i < backlog {
				assert.Equal(t, 1, n, "%s: one-way message %d ran once (confirmed before the stop)", w.kind, i)
				continue
			}
			assert.LessOrEqual(t, n, 2, "%s: call %d ran at most twice (the original and the copy)", w.kind, i)
			if n == 2 {
				twice++
			}
		}
		t.Logf("%s: %d of %d calls waiting through the restart ran twice", w.kind, twice, backlog)
		mu.Unlock()
	}

	// Let the load run until both clients are served again, then a little longer.
	deadline := time.Now().Add(restartRecover)
	for time.Now().Before(deadline) && !recovered(clients) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	close(stopLoad)
	var results []loadResult
	select {
	case results = <-loadDone:
	case <-time.After(restartCallTimeout + restartSlack + time.Second):
		t.Fatal("the load did not stop: a call hangs")
	}

	type tally struct{ calls, before, during, after, connection, timeout, noServer int }
	counts := make([]tally, len(clients))
	firstAfter := make([]time.Duration, len(clients))
	example := map[string]error{}
	for _, r := range results {
		tc := &counts[r.client]
		tc.calls++
		if d := r.end.Sub(r.start); d > restartCallTimeout+restartSlack {
			t.Errorf("client %d: a call took %v, past its %v deadline: %v", r.client, d, restartCallTimeout, r.err)
		}
		var wrong *wrongReply
		switch {
		case errors.As(r.err, &wrong):
			t.Errorf("client %d: %v (want %d, got %d)", r.client, r.err, wrong.want, wrong.got)
		case r.err == nil && r.end.Before(stopBegan):
			tc.before++
		case r.err == nil && r.start.After(stopped):
			tc.after++
			if d := r.end.Sub(started); firstAfter[r.client] == 0 || d < firstAfter[r.client] {
				firstAfter[r.client] = d
			}
		case r.err == nil:
			tc.during++
		case errors.Is(r.err, transport.ErrConnection):
			tc.connection++
			example["connection"] = r.err
		case errors.Is(r.err, transport.ErrTimeout):
			tc.timeout++
			example["timeout"] = r.err
		case errors.Is(r.err, transport.ErrNoServer):
			tc.noServer++
			example["no server"] = r.err
		default:
			t.Errorf("client %d: an error that names no cause: %v", r.client, r.err)
		}
	}
	for kind, err := range example {
		t.Logf("a %s error: %v", kind, err)
	}
	for i, tc := range counts {
		t.Logf("client %d: %d calls; ok %d before stop_app, %d while it ran, %d after; failed: %d connection, %d timeout, %d no server; first answer %v after start_app",
			i, tc.calls, tc.before, tc.during, tc.after, tc.connection, tc.timeout, tc.noServer, firstAfter[i].Round(time.Millisecond))
		assert.NotZero(t, tc.before, "client %d: served before the restart", i)
		assert.NotZero(t, tc.after, "client %d: served again after the restart", i)
		assert.Less(t, firstAfter[i], restartRecover, "client %d: serving again within seconds", i)
	}
	for _, line := range []string{"server lost the broker connection", "server reconnected", "client lost the broker connection", "client reconnected"} {
		assert.Contains(t, logs.String(), line)
	}
}

// recovered reports whether each client has an answer from the server again.
func recovered(clients []transport.Client) bool {
	for _, c := range clients {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var n int
		err := c.Call(ctx, "fib", []any{7}, &n)
		cancel()
		if err != nil {
			return false
		}
	}
	return true
}

// queueDepth returns the messages ready in a queue (-1 when it cannot say).
func queueDepth(broker, queue string) int {
	conn, err := amqp091.Dial(broker)
	if err != nil {
		return -1
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return -1
	}
	q, err := ch.QueueDeclarePassive(queue, false, false, false, false, nil)
	if err != nil {
		return -1
	}
	return q.Messages
}

// TestPersistentRequests: a client of a durable or quorum queue publishes
// its requests persistent (delivery mode 2), so a broker restart keeps the
// ones waiting; the server's Addr carries durable=true to its clients.
func TestPersistentRequests(t *testing.T) {
	for raw, persistent := range map[string]bool{
		"amqp://h/":                        false,
		"amqp://h/?durable=false":          false,
		"amqp://h/?durable=true":           true,
		"amqp://h/?quorum=true":            true,
		"amqp://h/?quorum=true&codec=text": true,
	} {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		cfg, err := parseURL(u)
		require.NoError(t, err)
		c := &carrier{cfg: cfg}
		req := &transport.Message{Body: []byte("7")}
		assert.Equal(t, persistent, c.publishing(req).DeliveryMode == amqp091.Persistent, raw)

		// What a client dialling the server's Addr publishes.
		u, err = url.Parse(cfg.addr)
		require.NoError(t, err)
		cfg, err = parseURL(u)
		require.NoError(t, err)
		c = &carrier{cfg: cfg}
		assert.Equal(t, persistent, c.publishing(req).DeliveryMode == amqp091.Persistent, "Addr of "+raw)
	}
}
