package amqp

import (
	"context"
	"strings"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/examples/funcs"
)

// TestDeliveryFromContext: a served function sees the request's
// correlation id, reply_to and redelivered flag; a call and a one-way
// message from rpcwire's client carry distinct ids; outside a served call
// there is no delivery.
func TestDeliveryFromContext(t *testing.T) {
	_, ok := DeliveryFromContext(context.Background())
	assert.False(t, ok)

	broker := brokerURL(t)
	q := testQueue(t, broker)
	reg := funcs.NewRegistry()
	seen := make(chan Delivery, 2)
	reg.MustRegister("whoami", func(ctx context.Context) string {
		d, ok := DeliveryFromContext(ctx)
		if !ok {
			return "none"
		}
		seen <- d
		return d.CorrelationID
	})
	srv, err := NewServer(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q), reg)
	require.NoError(t, err)
	defer srv.Close()
	c := dialClient(t, withParams(t, broker, "queue", q))
	var id string
	require.NoError(t, c.Call(ctxT(t, 5*time.Second), "whoami", nil, &id))
	assert.Regexp(t, `^[0-9a-f]{12}\.[0-9a-z]+$`, id, "the client's correlation id: a random prefix and a counter")
	prefix, _, _ := strings.Cut(id, ".")
	d := <-seen
	assert.NotEmpty(t, d.ReplyTo)
	assert.False(t, d.Redelivered)

	require.NoError(t, c.Notify(ctxT(t, 5*time.Second), "whoami", nil))
	select {
	case d := <-seen:
		assert.True(t, strings.HasPrefix(d.CorrelationID, prefix+"."), "the client's prefix: %q", d.CorrelationID)
		assert.NotEqual(t, id, d.CorrelationID, "one id per message")
		assert.Empty(t, d.ReplyTo, "one-way")
	case <-time.After(5 * time.Second):
		t.Fatal("the one-way message did not run")
	}
}

// TestRedeliveredKeepsCorrelationID: a request whose server dies mid-call
// (Close: no ack) runs again on the next server, marked redelivered and
// with the same correlation id, which is what makes it a dedupe key.
func TestRedeliveredKeepsCorrelationID(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	u := withParams(t, broker, "queue", q)
	runs := make(chan Delivery, 2)
	serve := func() *Server {
		reg := funcs.NewRegistry()
		reg.MustRegister("effect", func(ctx context.Context) int {
			d, _ := DeliveryFromContext(ctx)
			runs <- d
			if !d.Redelivered {
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
	conn, err := amqp091.Dial(broker)
	require.NoError(t, err)
	defer conn.Close()
	ch, err := conn.Channel()
	require.NoError(t, err)
	require.NoError(t, ch.PublishWithContext(ctxT(t, 5*time.Second), "", q, false, false, amqp091.Publishing{
		ContentType: "application/json", CorrelationId: "order-17", MessageId: "m-17",
		Body: []byte(`{"method":"effect","params":[]}`),
	}))
	var d Delivery
	select {
	case d = <-runs:
	case <-time.After(5 * time.Second):
		t.Fatal("the first run did not start")
	}
	assert.Equal(t, Delivery{CorrelationID: "order-17", MessageID: "m-17"}, d)
	require.NoError(t, first.Close())

	serve()
	select {
	case d = <-runs:
	case <-time.After(10 * time.Second):
		t.Fatal("the request was not redelivered")
	}
	assert.Equal(t, Delivery{CorrelationID: "order-17", MessageID: "m-17", Redelivered: true}, d)
}
