package amqp

// Hostile input over AMQP (issue 6, item 4), beyond TestPoisonMessages:
// each bad message is settled once (no requeue loop), logged once, and the
// server keeps serving.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/internal/logbuf"
	"github.com/rpcwire/rpcwire/transport"
)

// hostileLimit is the servers' message size limit in these tests.
const hostileLimit = 256 << 10

// hostileMessage is a request no server can run: poison (undecodable or
// too large: a warning, and dead-lettered when the server is asked to), or
// a call the registry refuses (an ordinary fault, acked quietly).
type hostileMessage struct {
	name   string
	poison bool
	msg    amqp091.Publishing
}

// hostileMessages are poison bodies in every codec and none, huge bodies in
// every codec, and unknown content types.
func hostileMessages() []hostileMessage {
	huge := func(prefix string) []byte {
		return append([]byte(prefix), bytes.Repeat([]byte("9"), hostileLimit+1)...)
	}
	return []hostileMessage{
		{"xml truncated", true, amqp091.Publishing{ContentType: "text/xml", Body: []byte("<methodCall><methodName>fib</methodName><params><param><value><int>7")}},
		{"xml not xml", true, amqp091.Publishing{ContentType: "text/xml", Body: []byte("\x00\x01\x02 binary")}},
		{"xml entity", true, amqp091.Publishing{ContentType: "text/xml", Body: []byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><methodCall><methodName>&a;</methodName></methodCall>`)}},
		{"xml nested", true, amqp091.Publishing{ContentType: "text/xml", Body: []byte("<methodCall><methodName>echo</methodName><params><param><value>" +
			strings.Repeat("<array><data><value>", 1000) + "</methodCall>")}},
		{"json not an object", true, amqp091.Publishing{ContentType: "application/json", Body: []byte(`"fib"`)}},
		{"json invalid utf-8", false, amqp091.Publishing{ContentType: "application/json", Body: []byte("{\"method\":\"fib\xff\",\"params\":[7]}")}},
		{"json params not an array", true, amqp091.Publishing{ContentType: "application/json", Body: []byte(`{"method":"fib","params":7}`)}},
		{"json nested", true, amqp091.Publishing{ContentType: "application/json", Body: []byte(`{"method":"echo","params":[` + strings.Repeat("[", 100000) + `]}`)}},
		{"text invalid utf-8", false, amqp091.Publishing{ContentType: "text/plain", Type: "fib", Body: []byte("\xff\xfe")}},
		{"text not a scalar", false, amqp091.Publishing{ContentType: "text/plain", Type: "fib", Body: []byte(`[1,`)}},
		{"none, binary", true, amqp091.Publishing{Body: []byte("\x00\xff\x10binary")}},
		{"none, empty", true, amqp091.Publishing{Body: nil}},
		{"unknown type, sniffed xml", true, amqp091.Publishing{ContentType: "application/x-protobuf", Body: []byte("<<<<")}},
		{"unknown type, sniffed json", true, amqp091.Publishing{ContentType: "application/octet-stream", Body: []byte("{{{{")}},
		{"unknown type, garbage", true, amqp091.Publishing{ContentType: "\x00;;;charset=\xff", Body: []byte("\x01\x02")}},
		{"huge xml", true, amqp091.Publishing{ContentType: "text/xml", Body: huge("<methodCall><methodName>")}},
		{"huge json", true, amqp091.Publishing{ContentType: "application/json", Body: huge(`{"method":"fib","params":[`)}},
		{"huge text", true, amqp091.Publishing{ContentType: "text/plain", Type: "fib", Body: huge("")}},
		{"huge, no content type", true, amqp091.Publishing{Body: huge("")}},
	}
}

// hostileServer serves funcs and "hold" (which waits for release) on a
// fresh queue with the hostile size limit, logging into logs.
func hostileServer(t *testing.T, broker string, logs *logbuf.Buffer, held chan<- struct{}, release <-chan struct{}, kv ...string) (*Server, string) {
	t.Helper()
	q := testQueue(t, broker)
	reg := funcs.NewRegistry()
	reg.MustRegister("hold", func(ctx context.Context) int {
		held <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return 42
	})
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := NewServer(ctxT(t, 10*time.Second), withParams(t, broker, append([]string{"queue", q, "workers", "4"}, kv...)...),
		reg, transport.WithMaxMessageSize(hostileLimit), transport.WithLogger(log))
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return srv, q
}

// warnings counts the log lines at WARN or above that name a correlation id.
func warnings(logs string, corrID string) int {
	n := 0
	for _, line := range strings.Split(logs, "\n") {
		if (strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR")) &&
			(strings.Contains(line, "correlation_id="+corrID+" ") || strings.HasSuffix(line, "correlation_id="+corrID)) {
			n++
		}
	}
	return n
}

// assertSettled checks, once the server is closed (which would return any
// unacked request to the queue), that the queue holds nothing: every
// request was acked or rejected, none requeued.
func assertSettled(t *testing.T, srv *Server, broker, q string) {
	t.Helper()
	require.NoError(t, srv.Shutdown(ctxT(t, 5*time.Second)))
	assert.Zero(t, queueDepth(broker, q), "every request settled, none requeued or left unacked")
}

// TestHostileRequests sends every hostile message with a reply_to (each gets
// a fault reply in its own codec), without one, and the harmless ones with a
// reply_to that is bogus (a queue that never existed, a malformed direct
// reply-to) or deleted while the call runs. The server answers a normal call
// afterwards, logs one warning per bad message, and leaves nothing in the
// queue, acked or not.
func TestHostileRequests(t *testing.T) {
	broker := brokerURL(t)
	var logs logbuf.Buffer
	held := make(chan struct{}, 1)
	release := make(chan struct{})
	srv, q := hostileServer(t, broker, &logs, held, release)
	defer func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	}()

	for i, h := range hostileMessages() {
		msg := h.msg
		msg.CorrelationId = fmt.Sprintf("hostile-%d", i)
		d := rawPublish(t, broker, q, msg, 5*time.Second)
		if !assert.NotNil(t, d, "%s: a fault reply", h.name) {
			continue
		}
		switch d.ContentType {
		case "text/xml":
			assert.Contains(t, string(d.Body), "<fault>", h.name)
		case "application/json":
			assert.Contains(t, string(d.Body), `"error"`, h.name)
		case "text/plain":
			_, ok := intHeader(d.Headers, headerFaultCode)
			assert.True(t, ok, "%s: a text fault carries its code: %q", h.name, d.Body)
		default:
			t.Errorf("%s: reply content type %q", h.name, d.ContentType)
		}
		if strings.HasPrefix(h.name, "huge") {
			assert.Contains(t, string(d.Body), "exceeds the server's limit", h.name)
		}
	}

	ch := brokerChannel(t, broker)
	publish := func(msg amqp091.Publishing) {
		t.Helper()
		require.NoError(t, ch.PublishWithContext(ctxT(t, 5*time.Second), "", q, false, false, msg))
	}
	for i, h := range hostileMessages() {
		msg := h.msg
		msg.CorrelationId = fmt.Sprintf("noreply-%d", i)
		publish(msg)
	}
	fib7 := amqp091.Publishing{ContentType: "application/json", Body: []byte(`{"method":"fib","params":[7]}`)}
	bogus := []string{
		"rpc_test_never_" + randomHex(6),                     // a queue that never existed
		"amq.rabbitmq.reply-to.bogus",                        // a direct reply-to no channel owns
		"amq.rabbitmq.reply-to.g1h2AA5yZXBseUAxAAAAAAAAAAE=", // well formed, for no channel
		strings.Repeat("x", 255),                             // longest possible name
	}
	for i, rt := range bogus {
		for j, body := range []amqp091.Publishing{fib7, hostileMessages()[0].msg} {
			msg := body
			msg.ReplyTo, msg.CorrelationId = rt, fmt.Sprintf("bogus-%d-%d", i, j)
			publish(msg)
		}
	}

	// A reply queue deleted while its call runs: the reply goes nowhere.
	rq, err := ch.QueueDeclare("rpc_test_reply_"+randomHex(4), false, true, false, false, nil)
	require.NoError(t, err)
	publish(amqp091.Publishing{ContentType: "application/json", Body: []byte(`{"method":"hold","params":[]}`),
		ReplyTo: rq.Name, CorrelationId: "deleted-reply-to"})
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("the held call did not start")
	}
	_, err = ch.QueueDelete(rq.Name, false, false, false)
	require.NoError(t, err)
	close(release)

	c := dialClient(t, withParams(t, broker, "queue", q, "codec", "json"))
	var n int
	require.NoError(t, c.Call(ctxT(t, 10*time.Second), "fib", []any{10}, &n), "the server keeps serving")
	assert.Equal(t, 55, n)
	require.Eventually(t, func() bool { return queueDepth(broker, q) == 0 }, 5*time.Second, 20*time.Millisecond)
	assertSettled(t, srv, broker, q)

	out := logs.String()
	for i, h := range hostileMessages() {
		for _, prefix := range []string{"hostile-", "noreply-"} {
			id := fmt.Sprintf("%s%d", prefix, i)
			want := 0
			if h.poison {
				want = 1
			}
			assert.Equal(t, want, warnings(out, id), "%s (%s): poison logged once, refused calls not", h.name, id)
		}
	}
	for i := range bogus {
		assert.Zero(t, warnings(out, fmt.Sprintf("bogus-%d-0", i)), "a good call with a bogus reply_to is no warning")
		assert.Equal(t, 1, warnings(out, fmt.Sprintf("bogus-%d-1", i)), "a poison one with a bogus reply_to: one warning")
	}
	undeliverable := func(corrID string) int {
		n := 0
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "reply undeliverable") && strings.Contains(line, "correlation_id="+corrID+" ") {
				n++
			}
		}
		return n
	}
	for i, rt := range bogus {
		assert.Equal(t, 1, undeliverable(fmt.Sprintf("bogus-%d-0", i)), "reply_to %.40s: the lost reply is logged once", rt)
	}
	assert.Equal(t, 1, undeliverable("deleted-reply-to"), "a reply whose queue is gone is logged once")
	assert.NotContains(t, out, "panic")
}

func TestParseDeadLetter(t *testing.T) {
	parse := func(raw string) (*config, error) {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		return parseURL(u)
	}
	c, err := parse("amqp://h/?dead_letter_queue=rpc_dead")
	require.NoError(t, err)
	assert.Equal(t, "rpc_dead", c.deadLetterQueue)
	assert.True(t, c.deadLettering())
	c, err = parse("amqp://h/?dead_letter=rpc.dlx")
	require.NoError(t, err)
	assert.True(t, c.deadLettering())
	c, err = parse("amqp://h/")
	require.NoError(t, err)
	assert.False(t, c.deadLettering())
	for raw, want := range map[string]string{
		"amqp://h/?dead_letter=x&dead_letter_queue=y":             "not both",
		"amqp://h/?dead_letter_queue=" + strings.Repeat("q", 256): "longer than 255",
		"amqp://h/?queue=a&dead_letter_queue=a":                   "must differ",
	} {
		_, err := parse(raw)
		assert.ErrorContains(t, err, want, raw)
	}
}

// TestDeadLetterKeepsPoison: with dead_letter=EXCHANGE (queues bound by the
// user) or dead_letter_queue=NAME (declared by the server), every poison
// request, with a reply_to or without, huge or not, lands in the
// dead-letter queue with its body and properties intact (and the broker's
// x-death header saying it was rejected); calls the registry refuses get
// their fault and are not kept; the server keeps serving.
func TestDeadLetterKeepsPoison(t *testing.T) {
	broker := brokerURL(t)
	ch := brokerChannel(t, broker)

	for _, mode := range []string{"dead_letter", "dead_letter_queue"} {
		t.Run(mode, func(t *testing.T) {
			dlq := testQueue(t, broker)
			param := dlq
			if mode == "dead_letter" {
				dlx := "rpc_test_dlx_" + randomHex(4)
				require.NoError(t, ch.ExchangeDeclare(dlx, "fanout", false, true, false, false, nil))
				_, err := ch.QueueDeclare(dlq, false, false, false, false, nil)
				require.NoError(t, err)
				require.NoError(t, ch.QueueBind(dlq, "", dlx, false, nil))
				param = dlx
			}
			var logs logbuf.Buffer
			srv, q := hostileServer(t, broker, &logs, make(chan struct{}, 1), nil, mode, param)

			want := map[string]amqp091.Publishing{}
			for i, h := range hostileMessages() {
				msg := h.msg
				msg.CorrelationId = fmt.Sprintf("dl-reply-%d", i)
				require.NotNil(t, rawPublish(t, broker, q, msg, 5*time.Second), "%s: a fault reply first", h.name)
				msg.ReplyTo = "" // rawPublish set its own
				if h.poison {
					want[msg.CorrelationId] = msg
				}
				msg.CorrelationId = fmt.Sprintf("dl-noreply-%d", i)
				require.NoError(t, ch.PublishWithContext(ctxT(t, 5*time.Second), "", q, false, false, msg))
				if h.poison {
					want[msg.CorrelationId] = msg
				}
			}
			c := dialClient(t, withParams(t, broker, "queue", q))
			var n int
			require.NoError(t, c.Call(ctxT(t, 10*time.Second), "fib", []any{7}, &n), "the server keeps serving")
			assert.Equal(t, 13, n)
			require.Eventually(t, func() bool { return queueDepth(broker, q) == 0 && queueDepth(broker, dlq) >= len(want) },
				10*time.Second, 20*time.Millisecond, "every poison request reaches %s", dlq)
			assertSettled(t, srv, broker, q)
			assert.Equal(t, len(want), queueDepth(broker, dlq), "poison only: refused and good calls are not kept")

			for range len(want) {
				d, ok, err := ch.Get(dlq, true)
				require.NoError(t, err)
				require.True(t, ok)
				msg, found := want[d.CorrelationId]
				if !assert.True(t, found, "unexpected dead letter %q", d.CorrelationId) {
					continue
				}
				delete(want, d.CorrelationId)
				assert.Equal(t, string(msg.Body), string(d.Body), "%s: body intact", d.CorrelationId)
				assert.Equal(t, msg.ContentType, d.ContentType, d.CorrelationId)
				assert.Equal(t, msg.Type, d.Type, d.CorrelationId)
				deaths, _ := d.Headers["x-death"].([]any)
				if assert.Len(t, deaths, 1, d.CorrelationId) {
					death, _ := deaths[0].(amqp091.Table)
					assert.Equal(t, "rejected", death["reason"], d.CorrelationId)
					assert.Equal(t, q, death["queue"], d.CorrelationId)
				}
			}
			assert.Empty(t, want, "poison requests missing from the dead-letter queue")
		})
	}
}

// TestDeadLetterOnExistingQueue: a request queue declared earlier without a
// dead-letter exchange cannot gain one by a declare; the server serves it as
// it is and says that poison requests will not be kept.
func TestDeadLetterOnExistingQueue(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	ch := brokerChannel(t, broker)
	_, err := ch.QueueDeclare(q, false, false, false, false, nil)
	require.NoError(t, err)
	dlq := testQueue(t, broker)

	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	startServer(t, withParams(t, broker, "queue", q, "dead_letter_queue", dlq), transport.WithLogger(log))
	assert.Contains(t, logs.String(), "exists with other arguments")
	assert.Contains(t, logs.String(), "dead-letter exchange only if the queue has one")
	c := dialClient(t, withParams(t, broker, "queue", q))
	var n int
	require.NoError(t, c.Call(ctxT(t, 10*time.Second), "fib", []any{7}, &n))
}

// TestHostileHeaders: a request's x-deadline header of the wrong type, far
// away or long past, and odd properties, do not upset the server: a past
// deadline is skipped (acked, not run), the others are answered.
func TestHostileHeaders(t *testing.T) {
	broker := brokerURL(t)
	var logs logbuf.Buffer
	srv, q := hostileServer(t, broker, &logs, make(chan struct{}, 1), nil)
	fib7 := []byte(`{"method":"fib","params":[7]}`)
	for _, tc := range []struct {
		name    string
		headers amqp091.Table
		typ     string
		answer  bool
	}{
		{"deadline a string", amqp091.Table{headerDeadline: "tomorrow"}, "", true},
		{"deadline a float", amqp091.Table{headerDeadline: 1e300}, "", true},
		{"deadline a table", amqp091.Table{headerDeadline: amqp091.Table{"a": int32(1)}}, "", true},
		{"deadline far away", amqp091.Table{headerDeadline: int64(1<<63 - 1)}, "", true},
		{"deadline far back", amqp091.Table{headerDeadline: int64(-1 << 63)}, "", false},
		{"deadline passed", amqp091.Table{headerDeadline: time.Now().Add(-time.Minute).UnixMilli()}, "", false},
		{"fault code header in a request", amqp091.Table{headerFaultCode: int32(1), headerType: "i8"}, "", true},
		{"type on a json request", nil, strings.Repeat("t", 255), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wait := 5 * time.Second
			if !tc.answer {
				wait = 500 * time.Millisecond
			}
			d := rawPublish(t, broker, q, amqp091.Publishing{ContentType: "application/json", Headers: tc.headers, Type: tc.typ, Body: fib7}, wait)
			if !tc.answer {
				assert.Nil(t, d, "an expired request is not run")
				return
			}
			require.NotNil(t, d)
			assert.Equal(t, `{"result":13}`, string(d.Body))
		})
	}
	assertSettled(t, srv, broker, q)
	assert.NotContains(t, logs.String(), "level=WARN")
	assert.NotContains(t, logs.String(), "level=ERROR")
}
