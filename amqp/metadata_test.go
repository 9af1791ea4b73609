package amqp

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/transport"
)

func TestIncomingMetadata(t *testing.T) {
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	got := incomingMetadata(amqp091.Table{
		"X-Request-Id":   "py-1",
		"traceparent":    " 00-abc ",
		"attempt":        int32(3),
		"big":            int64(1) << 40,
		"byte":           uint8(7),
		"ratio":          1.5,
		"f32":            float32(0.25),
		"ok":             true,
		"raw":            []byte("bytes"),
		"at":             when,
		"price":          amqp091.Decimal{Scale: 2, Value: -1234},
		"x-deadline":     int64(123),
		"x-death":        []any{amqp091.Table{"count": int64(1)}},
		"x-fault-code":   int64(-1),
		"nested":         amqp091.Table{"a": "b"},
		"list":           []any{"a"},
		"void":           nil,
		"bad key":        "x",
		"line":           "two\nlines",
		"binary":         []byte{0xff, 0xfe},
		"content-type":   "text/evil",
		"x-rpcwire-mine": "no",
	})
	assert.Equal(t, transport.Metadata{
		"x-request-id": "py-1",
		"traceparent":  "00-abc",
		"attempt":      "3",
		"big":          "1099511627776",
		"byte":         "7",
		"ratio":        "1.5",
		"f32":          "0.25",
		"ok":           "true",
		"raw":          "bytes",
		"at":           "2026-01-02T03:04:05Z",
		"price":        "-12.34",
	}, got)
	assert.Nil(t, incomingMetadata(amqp091.Table{"x-deadline": int64(1)}), "ours only: no metadata")
	assert.Nil(t, incomingMetadata(nil))
	assert.Equal(t, "0.05", decimalText(amqp091.Decimal{Scale: 2, Value: 5}))
	assert.Equal(t, "7", decimalText(amqp091.Decimal{Value: 7}))

	var msg amqp091.Publishing
	addMetadata(&msg, transport.Metadata{"k": "v"})
	assert.Equal(t, amqp091.Table{"k": "v"}, msg.Headers)
	msg = amqp091.Publishing{}
	addMetadata(&msg, nil)
	assert.Nil(t, msg.Headers)
}

// TestPeerFromContext: a served function sees the request's correlation
// id, reply_to, user id and redelivered flag; a call and a one-way
// message from rpcwire's client carry distinct ids.
func TestPeerFromContext(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	reg := funcs.NewRegistry()
	seen := make(chan transport.Peer, 2)
	reg.MustRegister("whoami", func(ctx context.Context) string {
		p, ok := transport.PeerFromContext(ctx)
		if !ok {
			return "none"
		}
		seen <- p
		return p.CorrelationID
	})
	srv, err := NewServer(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q), reg)
	require.NoError(t, err)
	defer srv.Close()
	c := dialClient(t, withParams(t, broker, "queue", q))
	var id string
	require.NoError(t, c.Call(ctxT(t, 5*time.Second), "whoami", nil, &id))
	assert.Regexp(t, `^[0-9a-f]{12}\.[0-9a-z]+$`, id, "the client's correlation id: a random prefix and a counter")
	prefix, _, _ := strings.Cut(id, ".")
	p := <-seen
	assert.Equal(t, "amqp", p.Transport)
	assert.NotEmpty(t, p.Addr, "the reply queue")
	assert.Equal(t, q, p.Queue)
	assert.False(t, p.Redelivered)

	require.NoError(t, c.Notify(ctxT(t, 5*time.Second), "whoami", nil))
	select {
	case p := <-seen:
		assert.True(t, strings.HasPrefix(p.CorrelationID, prefix+"."), "the client's prefix: %q", p.CorrelationID)
		assert.NotEqual(t, id, p.CorrelationID, "one id per message")
		assert.Empty(t, p.Addr, "one-way: no reply queue")
	case <-time.After(5 * time.Second):
		t.Fatal("the one-way message did not run")
	}
}

// TestRedeliveredKeepsCorrelationID: a request whose server dies mid-call
// (Close: no ack) runs again on the next server, marked redelivered and
// with the same correlation id, which is what makes it a dedupe key. The
// user_id property, which RabbitMQ checks against the connection's user,
// is the Peer's User.
func TestRedeliveredKeepsCorrelationID(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	u := withParams(t, broker, "queue", q)
	runs := make(chan transport.Peer, 2)
	serve := func() *Server {
		reg := funcs.NewRegistry()
		reg.MustRegister("effect", func(ctx context.Context) int {
			p, _ := transport.PeerFromContext(ctx)
			runs <- p
			if !p.Redelivered {
				<-ctx.Done() // the first server dies here, before its ack
			}
			return 1
		})
		srv, err := NewServer(ctxT(t, 10*time.Second), u, reg)
		require.NoError(t, err)
		t.Cleanup(func() { _ = srv.Close() })
		return srv
	}
	first := serve()
	ch := brokerChannel(t, broker)
	user := "guest"
	if pu := u.User; pu != nil {
		user = pu.Username()
	}
	require.NoError(t, ch.PublishWithContext(ctxT(t, 5*time.Second), "", q, false, false, amqp091.Publishing{
		ContentType: "application/json", CorrelationId: "order-17", MessageId: "m-17", UserId: user,
		Body: []byte(`{"method":"effect","params":[]}`),
	}))
	want := transport.Peer{Transport: "amqp", User: user, Queue: q, CorrelationID: "order-17", MessageID: "m-17"}
	select {
	case p := <-runs:
		assert.Equal(t, want, p)
	case <-time.After(5 * time.Second):
		t.Fatal("the first run did not start")
	}
	require.NoError(t, first.Close())

	serve()
	want.Redelivered = true
	select {
	case p := <-runs:
		assert.Equal(t, want, p)
	case <-time.After(10 * time.Second):
		t.Fatal("the request was not redelivered")
	}
}

// TestPikaHeadersAreMetadata: the headers a pika caller puts on its
// request, strings or numbers, are metadata the function reads.
func TestPikaHeadersAreMetadata(t *testing.T) {
	py := python(t)
	broker := brokerURL(t)
	q := testQueue(t, broker)
	reg := funcs.NewRegistry()
	reg.MustRegister("metadata", func(ctx context.Context) string {
		md := transport.IncomingMetadata(ctx)
		var kv []string
		for _, k := range md.Keys() {
			kv = append(kv, k+"="+md[k])
		}
		return strings.Join(kv, ";")
	})
	srv, err := NewServer(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q), reg)
	require.NoError(t, err)
	defer srv.Close()

	headers := `{"X-Request-Id": "py-7", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "attempt": 3, "ok": true, "x-fault-code": 5}`
	out, err := exec.CommandContext(ctxT(t, 30*time.Second), py, "testdata/py/headers_client.py", broker, q, "metadata", "", headers).CombinedOutput()
	require.NoError(t, err, "%s", out)
	got := strings.Split(strings.TrimSpace(string(out)), ";")
	assert.Equal(t, []string{
		"attempt=3", "ok=true",
		"traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"x-request-id=py-7",
	}, got, "x-fault-code is ours, not metadata")
	assert.True(t, slices.IsSorted(got))
}

// TestMetadataOnTheWire: our client's metadata are plain string headers a
// foreign consumer reads.
func TestMetadataOnTheWire(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	ch := brokerChannel(t, broker)
	_, err := ch.QueueDeclare(q, false, true, false, false, nil)
	require.NoError(t, err)
	deliveries, err := ch.Consume(q, "", true, false, false, false, nil)
	require.NoError(t, err)

	c := dialClient(t, withParams(t, broker, "queue", q))
	ctx := transport.AppendToOutgoing(ctxT(t, 5*time.Second), "X-Request-Id", "go-1", "tenant", "acme")
	require.NoError(t, c.Notify(ctx, "record", []any{"x"}))
	select {
	case d := <-deliveries:
		assert.Equal(t, "go-1", d.Headers["x-request-id"])
		assert.Equal(t, "acme", d.Headers["tenant"])
		assert.Equal(t, transport.Metadata{"x-request-id": "go-1", "tenant": "acme"}, incomingMetadata(d.Headers), fmt.Sprint(d.Headers))
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
}
