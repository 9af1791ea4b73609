package amqp

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/internal/logbuf"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/transporttest"
	"github.com/rpcwire/rpcwire/xmlrpc/xmlcodec"
)

func TestConformance(t *testing.T) {
	broker := brokerURL(t)
	bu, err := url.Parse(broker)
	require.NoError(t, err)
	secret := *bu
	secret.User = url.UserPassword(bu.User.Username(), transporttest.Password)
	for _, codec := range []string{"xml", "json"} {
		t.Run(codec, func(t *testing.T) {
			var limited transport.Codec
			if codec == "xml" {
				limited = transport.BodyOnly(xmlcodec.Codec{MaxDepth: 3})
			}
			transporttest.Run(t, transporttest.Transport{
				Name: "amqp-" + codec,
				Listen: func(ctx context.Context, d transport.Dispatcher, opts ...transport.ServerOption) (transport.Server, error) {
					return Listen(ctx, withParams(t, broker, "queue", testQueue(t, broker), "codec", codec), d, opts...)
				},
				Dial: func(ctx context.Context, addr string, opts ...transport.ClientOption) (transport.Client, error) {
					u, err := url.Parse(addr)
					if err != nil {
						return nil, err
					}
					return Dial(ctx, u, opts...)
				},
				NoServer: withParams(t, broker, "queue", "no-such-queue-"+randomHex(6), "codec", codec).String(),
				Secret:   secret.String(),
				Queues:   true,
				Limited:  limited,
			})
		})
	}
}

func TestTextCodecCalls(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	reg := funcs.NewRegistry()
	reg.MustRegister("greet", func(name string) string { return "hello, " + name })
	reg.MustRegister("half", func(x float64) float64 { return x / 2 })
	reg.MustRegister("not", func(b bool) bool { return !b })
	reg.MustRegister("nothing", func() {})
	reg.MustRegister("list", func(n int) []int { return make([]int, n) })
	srv, err := NewServer(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q, "method", "fib"), reg)
	require.NoError(t, err)
	defer srv.Close()
	c := dialClient(t, withParams(t, broker, "queue", q, "codec", "text"))
	ctx := ctxT(t, 20*time.Second)

	var n int
	require.NoError(t, c.Call(ctx, "fib", []any{7}, &n))
	assert.Equal(t, 13, n)
	require.NoError(t, c.Call(ctx, "fun_add", []any{2, 3}, &n))
	assert.Equal(t, 5, n)
	var s string
	require.NoError(t, c.Call(ctx, "greet", []any{"two words"}, &s))
	assert.Equal(t, "hello, two words", s)
	require.NoError(t, c.Call(ctx, "greet", []any{"13"}, &s), "a string that looks like a number stays a string")
	assert.Equal(t, "hello, 13", s)
	var f float64
	require.NoError(t, c.Call(ctx, "half", []any{3.0}, &f))
	assert.Equal(t, 1.5, f)
	var b bool
	require.NoError(t, c.Call(ctx, "not", []any{false}, &b))
	assert.True(t, b)
	require.NoError(t, c.Call(ctx, "nothing", nil, nil))
	var l []int
	require.NoError(t, c.Call(ctx, "list", []any{2}, &l), "arrays come back as JSON text")
	assert.Equal(t, []int{0, 0}, l)

	err = c.Call(ctx, "fib", []any{-1}, &n)
	var re *transport.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, transport.CodeInvalidParams, re.Code, "the fault code travels in a header")
	assert.ErrorIs(t, err, transport.ErrInvalidParams)
	assert.Contains(t, re.Message, "negative")
	assert.ErrorIs(t, c.Call(ctx, "nope", nil, nil), transport.ErrMethodNotFound)

	err = c.Call(ctx, "echo", []any{[]int{1}}, nil)
	assert.ErrorIs(t, err, transport.ErrInvalidParams, "text carries scalars only")
	assert.ErrorContains(t, err, "codec=json")
}

// rawPublish sends one message as a foreign client would and returns its
// reply (or nil when none arrives within wait).
func rawPublish(t *testing.T, broker, queue string, msg amqp091.Publishing, wait time.Duration) *amqp091.Delivery {
	t.Helper()
	ch := brokerChannel(t, broker)
	rq, err := ch.QueueDeclare("", false, true, true, false, nil)
	require.NoError(t, err)
	replies, err := ch.Consume(rq.Name, "", true, true, false, false, nil)
	require.NoError(t, err)
	msg.ReplyTo = rq.Name
	if msg.CorrelationId == "" {
		msg.CorrelationId = "raw-" + randomHex(4)
	}
	require.NoError(t, ch.PublishWithContext(ctxT(t, 5*time.Second), "", queue, false, false, msg))
	select {
	case d := <-replies:
		assert.Equal(t, msg.CorrelationId, d.CorrelationId)
		return &d
	case <-time.After(wait):
		return nil
	}
}

func TestServerCodecSelection(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	startServer(t, withParams(t, broker, "queue", q, "method", "fib"))
	cases := []struct {
		name, contentType, body, wantType, want string
	}{
		{"tutorial text", "", "7", "text/plain", "13"},
		{"text with type", "text/plain", "2 3", "text/plain", "5"},
		{"sniffed json", "", `{"method":"fib","params":[7]}`, "application/json", `{"result":13}`},
		{"json", "application/json; charset=utf-8", `{"method":"fun_add","params":[1,2]}`, "application/json", `{"result":3}`},
		{"sniffed xml", "", "<?xml version='1.0'?><methodCall><methodName>fib</methodName><params><param><value><int>7</int></value></param></params></methodCall>", "text/xml", "<int>13</int>"},
		{"octet-stream sniffs", "application/octet-stream", "7", "text/plain", "13"},
		{"unknown content type is refused", "application/x-evil", "<?xml version='1.0'?><methodCall><methodName>fib</methodName></methodCall>",
			"text/xml", `unsupported content type "application/x-evil"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := amqp091.Publishing{ContentType: tc.contentType, Body: []byte(tc.body)}
			if tc.name == "text with type" {
				msg.Type = "fun_add"
			}
			d := rawPublish(t, broker, q, msg, 5*time.Second)
			require.NotNil(t, d, "no reply")
			assert.Equal(t, tc.wantType, d.ContentType)
			assert.Contains(t, string(d.Body), tc.want)
		})
	}
}

func TestPoisonMessages(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	startServer(t, withParams(t, broker, "queue", q), transport.WithMaxMessageSize(1<<10))
	c := dialClient(t, withParams(t, broker, "queue", q, "codec", "json"))
	poison := []amqp091.Publishing{
		{ContentType: "text/xml", Body: []byte("<methodCall><methodName>fib")},
		{ContentType: "application/json", Body: []byte(`{"method":`)},
		{ContentType: "application/json", Body: []byte(`[1,2]`)},
		{Body: []byte("{\xff\xfe")},
		{ContentType: "text/plain", Body: []byte(`"unterminated`)},
		{ContentType: "text/plain", Body: []byte("7")}, // no method: no type, no server default
		{ContentType: "application/json", Body: make([]byte, 2<<10)},
	}
	for i, msg := range poison {
		d := rawPublish(t, broker, q, msg, 5*time.Second)
		require.NotNil(t, d, "poison %d: a fault reply", i)
		assert.NotEmpty(t, d.Body)
	}
	// Without reply_to: acked and dropped, no requeue loop.
	ch := brokerChannel(t, broker)
	for _, msg := range poison {
		require.NoError(t, ch.PublishWithContext(ctxT(t, 5*time.Second), "", q, false, false, msg))
	}
	var n int
	require.NoError(t, c.Call(ctxT(t, 5*time.Second), "fib", []any{7}, &n), "the server keeps serving")
	assert.Equal(t, 13, n)
	require.Eventually(t, func() bool {
		qi, err := ch.QueueDeclarePassive(q, false, false, false, false, nil)
		return err == nil && qi.Messages == 0
	}, 5*time.Second, 50*time.Millisecond, "no message left in the queue")
}

func TestZeroConsumersHint(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	srv := startServer(t, withParams(t, broker, "queue", q))
	require.NoError(t, srv.Shutdown(ctxT(t, 5*time.Second))) // the queue stays, without consumers
	c := dialClient(t, withParams(t, broker, "queue", q))
	start := time.Now()
	err := c.Call(ctxT(t, 30*time.Second), "fib", []any{7}, nil)
	assert.ErrorIs(t, err, transport.ErrNoServer)
	assert.ErrorContains(t, err, "queue "+q+" has 0 consumers")
	assert.Less(t, time.Since(start), 5*time.Second, "a new client that finds no consumer fails at once, not by timeout")

	// A server that comes back is found by the next call.
	srv2 := startServer(t, withParams(t, broker, "queue", q))
	defer srv2.Close()
	var n int
	require.NoError(t, c.Call(ctxT(t, 10*time.Second), "fib", []any{7}, &n))
	assert.Equal(t, 13, n)

	// Once a server was seen, calls wait in the queue while it restarts,
	// and the hint explains a timeout.
	require.NoError(t, srv2.Shutdown(ctxT(t, 5*time.Second)))
	err = c.Call(ctxT(t, 300*time.Millisecond), "fib", []any{7}, nil)
	assert.ErrorIs(t, err, transport.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, transport.ErrNoServer)
	assert.ErrorContains(t, err, "queue "+q+" has 0 consumers")
}

func TestManyInFlight(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	reg := funcs.NewRegistry()
	reg.MustRegister("slow_add", func(ctx context.Context, a, b int) int {
		time.Sleep(time.Duration(a%5) * time.Millisecond)
		return a + b
	})
	srv, err := NewServer(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q, "workers", "8"), reg)
	require.NoError(t, err)
	defer srv.Close()
	for _, codec := range []string{"xml", "json", "text"} {
		t.Run(codec, func(t *testing.T) {
			c := dialClient(t, withParams(t, broker, "queue", q, "codec", codec))
			const goroutines, calls = 40, 10
			var wg sync.WaitGroup
			var bad atomic.Int32
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range calls {
						var sum int
						err := c.Call(ctxT(t, 20*time.Second), "slow_add", []any{g, i * 1000}, &sum)
						if err != nil || sum != g+i*1000 {
							bad.Add(1)
							t.Errorf("slow_add(%d, %d) = %d, %v", g, i*1000, sum, err)
						}
					}
				}()
			}
			wg.Wait()
			assert.Zero(t, bad.Load())
		})
	}
}

// TestServerKilledWithUnackedWork: two servers share a queue; one is
// closed while it holds requests. Every request is still answered, by the
// other.
func TestServerKilledWithUnackedWork(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	var ranOnA atomic.Int32
	regA := funcs.NewRegistry()
	started := make(chan struct{}, 100)
	regA.MustRegister("work", func(ctx context.Context, n int) (int, error) {
		ranOnA.Add(1)
		started <- struct{}{}
		<-ctx.Done() // A never finishes: it is killed mid-call
		return 0, ctx.Err()
	})
	regB := funcs.NewRegistry()
	regB.MustRegister("work", func(n int) int { return n * 2 })
	u := withParams(t, broker, "queue", q, "workers", "4")
	a, err := NewServer(ctxT(t, 10*time.Second), u, regA)
	require.NoError(t, err)
	defer a.Close()

	c := dialClient(t, withParams(t, broker, "queue", q))
	const calls = 20
	results := make(chan error, calls)
	for i := range calls {
		go func() {
			var got int
			err := c.Call(ctxT(t, 30*time.Second), "work", []any{i}, &got)
			if err == nil && got != i*2 {
				err = fmt.Errorf("work(%d) = %d", i, got)
			}
			results <- err
		}()
	}
	for range 4 { // A holds 4 calls in flight and more prefetched
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("server A never started the work")
		}
	}
	b, err := NewServer(ctxT(t, 10*time.Second), u, regB)
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, a.Close())
	for range calls {
		assert.NoError(t, <-results)
	}
	assert.GreaterOrEqual(t, ranOnA.Load(), int32(4))
}

func TestExpiredRequestNotRun(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	var ran atomic.Int32
	reg := funcs.NewRegistry()
	reg.MustRegister("count", func() { ran.Add(1) })
	// Declare the queue first (by a server that goes away), so requests wait in it.
	srv := startServer(t, withParams(t, broker, "queue", q))
	require.NoError(t, srv.Shutdown(ctxT(t, 5*time.Second)))

	ch := brokerChannel(t, broker)
	past := time.Now().Add(-time.Second).UnixMilli()
	require.NoError(t, ch.PublishWithContext(ctxT(t, 5*time.Second), "", q, false, false, amqp091.Publishing{
		ContentType: "application/json", Body: []byte(`{"method":"count","params":[]}`),
		Headers: amqp091.Table{headerDeadline: past},
	}))
	// A request whose caller gave up while it waited in the queue.
	require.NoError(t, ch.PublishWithContext(ctxT(t, 5*time.Second), "", q, false, false, amqp091.Publishing{
		ContentType: "application/json", Body: []byte(`{"method":"count","params":[]}`),
		Headers: amqp091.Table{headerDeadline: time.Now().Add(100 * time.Millisecond).UnixMilli()},
	}))
	time.Sleep(200 * time.Millisecond)
	c := dialClient(t, withParams(t, broker, "queue", q, "codec", "json"))
	err := c.Call(ctxT(t, 5*time.Second), "count", nil, nil)
	require.ErrorIs(t, err, transport.ErrNoServer, "nobody serves the queue yet: a new client says so at once")

	srv2, err := NewServer(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q), reg)
	require.NoError(t, err)
	defer srv2.Close()
	require.NoError(t, c.Call(ctxT(t, 5*time.Second), "count", nil, nil))
	assert.Equal(t, int32(1), ran.Load(), "only the live call ran; the expired ones were skipped")
}

func TestNotifyRuns(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	reg := funcs.NewRegistry()
	got := make(chan string, 10)
	reg.MustRegister("record", func(s string) { got <- s })
	srv, err := NewServer(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q), reg)
	require.NoError(t, err)
	defer srv.Close()
	for _, codec := range []string{"text"} { // xml and json: the conformance suite
		c := dialClient(t, withParams(t, broker, "queue", q, "codec", codec))
		require.NoError(t, c.Notify(ctxT(t, 5*time.Second), "record", []any{"hi " + codec}))
		select {
		case s := <-got:
			assert.Equal(t, "hi "+codec, s)
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the one-way call never ran", codec)
		}
	}
}

func TestDialErrors(t *testing.T) {
	broker := brokerURL(t)
	u := withParams(t, broker)
	u.User = url.UserPassword("guest", "wrong-secret")
	listenErr := make(chan error, 1)
	go func() { // the broker answers bad credentials after a delay: overlap the two
		_, err := Listen(ctxT(t, 10*time.Second), u, funcs.NewRegistry())
		listenErr <- err
	}()
	_, err := Dial(ctxT(t, 10*time.Second), u)
	require.Error(t, err)
	assert.ErrorIs(t, err, transport.ErrUnauthorized)
	assert.NotContains(t, err.Error(), "wrong-secret")
	err = <-listenErr
	assert.ErrorIs(t, err, transport.ErrUnauthorized)
	assert.NotContains(t, err.Error(), "wrong-secret")

	refused := &url.URL{Scheme: "amqp", User: url.UserPassword("guest", "s3cret"), Host: "127.0.0.1:1", Path: "/"}
	_, err = Dial(ctxT(t, 10*time.Second), refused)
	require.Error(t, err)
	assert.ErrorIs(t, err, transport.ErrNoServer)
	assert.ErrorIs(t, err, transport.ErrConnection)
	assert.NotContains(t, err.Error(), "s3cret")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Dial(ctx, withParams(t, broker))
	assert.ErrorIs(t, err, context.Canceled)
}

func TestQueueDeclaredWithOtherArguments(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	ch := brokerChannel(t, broker)
	_, err := ch.QueueDeclare(q, true, false, false, false, nil) // durable; we declare transient
	require.NoError(t, err)
	startServer(t, withParams(t, broker, "queue", q))
	c := dialClient(t, withParams(t, broker, "queue", q))
	var n int
	require.NoError(t, c.Call(ctxT(t, 5*time.Second), "fib", []any{7}, &n))
	assert.Equal(t, 13, n)
}

func TestQueueOptions(t *testing.T) {
	broker := brokerURL(t)
	for _, kv := range [][]string{{"durable", "true"}, {"quorum", "true"}, {"exclusive", "true"}, {"auto_delete", "true"}} {
		t.Run(kv[0], func(t *testing.T) {
			q := testQueue(t, broker)
			srv := startServer(t, withParams(t, broker, "queue", q, kv[0], kv[1]))
			c := dialClient(t, withParams(t, broker, "queue", q))
			var n int
			require.NoError(t, c.Call(ctxT(t, 10*time.Second), "fib", []any{10}, &n))
			assert.Equal(t, 55, n)
			require.NoError(t, srv.Close())
			if kv[0] == "exclusive" {
				err := c.Call(ctxT(t, 5*time.Second), "fib", []any{1}, nil)
				assert.ErrorIs(t, err, transport.ErrNoServer, "an exclusive queue goes with its server")
			}
		})
	}
}

// TestCancelReachesServer: a caller's cancel travels to the server running
// the call (via the rpcwire.cancels exchange, routed by queue name) and
// cancels its context; servers of other queues never see it.
func TestCancelReachesServer(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	reg := funcs.NewRegistry()
	started := make(chan struct{}, 1)
	ended := make(chan error, 1)
	reg.MustRegister("wait", func(ctx context.Context) {
		started <- struct{}{}
		select {
		case <-ctx.Done():
			ended <- ctx.Err()
		case <-time.After(10 * time.Second):
			ended <- nil
		}
	})
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	defer func() {
		if t.Failed() {
			t.Logf("transport log:\n%s", logs.String())
		}
	}()
	srv, err := NewServer(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q), reg, transport.WithLogger(log))
	require.NoError(t, err)
	defer srv.Close()

	// Listen in on the notices for this queue and for another one.
	ch := brokerChannel(t, broker)
	bind := func(key string) string {
		lq, err := ch.QueueDeclare("", false, true, true, false, nil)
		require.NoError(t, err)
		require.NoError(t, ch.QueueBind(lq.Name, key, cancelExchange, false, nil))
		return lq.Name
	}
	ours, err := ch.Consume(bind(q), "", true, true, false, false, nil)
	require.NoError(t, err)
	others := bind(q + "-other")

	c := dialClient(t, withParams(t, broker, "queue", q), transport.WithLogger(log))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Call(ctx, "wait", nil, nil) }()
	<-started
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	select {
	case err := <-ended:
		assert.ErrorIs(t, err, context.Canceled, "the server saw the cancel")
	case <-time.After(5 * time.Second):
		t.Fatal("the server's call was not cancelled")
	}
	select {
	case <-ours:
	case <-time.After(5 * time.Second):
		t.Fatal("no notice for the call's queue")
	}
	// The broker routes a message to every bound queue as it takes it:
	// once ours has arrived, a wrongly routed copy would be counted here.
	other, err := ch.QueueDeclarePassive(others, false, true, true, false, nil)
	require.NoError(t, err)
	assert.Zero(t, other.Messages, "a notice for queue %s reached the servers of another queue", q)
}

// TestServerRestart: a call made while the only server is down waits in
// the queue and is answered by the server that comes back.
func TestServerRestart(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	u := withParams(t, broker, "queue", q)
	srv := startServer(t, u)
	c := dialClient(t, u)
	var n int
	require.NoError(t, c.Call(ctxT(t, 5*time.Second), "fib", []any{7}, &n))
	require.NoError(t, srv.Shutdown(ctxT(t, 5*time.Second)))

	done := make(chan error, 1)
	go func() {
		var m int
		err := c.Call(ctxT(t, 10*time.Second), "fib", []any{8}, &m)
		if err == nil && m != 21 {
			err = fmt.Errorf("fib(8) = %d", m)
		}
		done <- err
	}()
	// The call is in the queue, with no server to take it, before one
	// starts: the test is of a call that waits for the next server.
	require.Eventually(t, func() bool { return queueDepth(broker, q) == 1 }, 10*time.Second, 20*time.Millisecond, "the call waiting in the queue")
	startServer(t, u)
	assert.NoError(t, <-done)
}

// TestDeadLetter: with ?dead_letter=EX, poison requests still get their
// fault reply, then go to the dead-letter exchange instead of vanishing.
func TestDeadLetter(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	dlq := testQueue(t, broker)
	dlx := "rpc_test_dlx_" + randomHex(4)
	ch := brokerChannel(t, broker)
	require.NoError(t, ch.ExchangeDeclare(dlx, "fanout", false, true, false, false, nil))
	_, err := ch.QueueDeclare(dlq, false, false, false, false, nil)
	require.NoError(t, err)
	require.NoError(t, ch.QueueBind(dlq, "", dlx, false, nil))

	startServer(t, withParams(t, broker, "queue", q, "dead_letter", dlx))
	d := rawPublish(t, broker, q, amqp091.Publishing{ContentType: "application/json", Body: []byte(`{"method":`)}, 5*time.Second)
	require.NotNil(t, d, "the poison request still gets a fault reply")
	assert.Contains(t, string(d.Body), `"error"`)
	require.Eventually(t, func() bool {
		_, ok, err := ch.Get(dlq, true)
		return err == nil && ok
	}, 5*time.Second, 50*time.Millisecond, "the poison request is dead-lettered")

	c := dialClient(t, withParams(t, broker, "queue", q))
	var n int
	require.NoError(t, c.Call(ctxT(t, 5*time.Second), "fib", []any{7}, &n), "good calls are acked as usual")
}

// TestHostListFailover: a URL whose first address is dead reaches the
// next one at once; with every address dead, Dial fails at once with
// ErrNoServer naming each, and no password anywhere.
func TestHostListFailover(t *testing.T) {
	broker := brokerURL(t)
	bu, err := url.Parse(broker)
	require.NoError(t, err)
	dead1, dead2 := closedPort(t), closedPort(t)
	q := testQueue(t, broker)
	list := func(hosts ...string) *url.URL {
		u := withParams(t, broker, "queue", q, "shuffle", "false")
		u.Host = strings.Join(hosts, ",")
		return u
	}
	srv := startServer(t, list(dead1, bu.Host))
	c := dialClient(t, list(dead2, dead1, bu.Host))
	var n int
	require.NoError(t, c.Call(ctxT(t, 5*time.Second), "fib", []any{7}, &n))
	assert.Equal(t, 13, n)
	assert.Equal(t, "amqp://"+dead1+","+bu.Host+"/?queue="+q+"&shuffle=false", srv.Addr())

	secret := list(dead1, dead2)
	secret.User = url.UserPassword("guest", "s3cret-pw")
	start := time.Now()
	_, err = Dial(ctxT(t, 10*time.Second), secret)
	require.Error(t, err)
	assert.ErrorIs(t, err, transport.ErrNoServer)
	assert.Contains(t, err.Error(), dead1)
	assert.Contains(t, err.Error(), dead2)
	assert.NotContains(t, err.Error(), "s3cret-pw")
	assert.Less(t, time.Since(start), 5*time.Second, "refused addresses fail at once")

	semi, err := url.Parse("amqp://guest:s3cret-pw@" + dead1 + "/;amqp://guest:other-pw@" + bu.Host + "/")
	require.NoError(t, err)
	_, err = Dial(ctxT(t, 10*time.Second), semi)
	require.ErrorContains(t, err, "host list")
	assert.NotContains(t, err.Error(), "s3cret-pw")
	assert.NotContains(t, err.Error(), "other-pw")
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}
