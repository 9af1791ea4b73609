package amqp

import (
	"context"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Delivery describes the AMQP request a call arrived in. A function served
// over AMQP gets it from its context with DeliveryFromContext, for instance
// to make itself idempotent (see the package documentation, Delivery).
type Delivery struct {
	// CorrelationID is the caller's id of the call. rpcwire clients make
	// it unique per call and per one-way message (a random per-client
	// prefix and a counter); the broker keeps it when it redelivers the
	// request, so it is a key for dropping duplicates.
	CorrelationID string
	// ReplyTo is the queue the reply goes to; empty for a one-way message.
	ReplyTo string
	// MessageID is the message-id property, when the sender set one
	// (rpcwire clients do not).
	MessageID string
	// Redelivered is set when the broker handed this request out before
	// without an ack (a server died or lost its connection): the function
	// may already have run for it.
	Redelivered bool
}

// deliveryKey is the context key of the *amqp091.Delivery being served.
type deliveryKey struct{}

// withDelivery returns ctx carrying d for DeliveryFromContext. It stores
// the pointer the server already has, so a call pays one small allocation.
func withDelivery(ctx context.Context, d *amqp091.Delivery) context.Context {
	return context.WithValue(ctx, deliveryKey{}, d)
}

// DeliveryFromContext returns the AMQP request a call being served arrived
// in; ok is false when ctx is not the context of a call served by this
// package.
func DeliveryFromContext(ctx context.Context) (d Delivery, ok bool) {
	md, ok := ctx.Value(deliveryKey{}).(*amqp091.Delivery)
	if !ok || md == nil {
		return Delivery{}, false
	}
	return Delivery{
		CorrelationID: md.CorrelationId,
		ReplyTo:       md.ReplyTo,
		MessageID:     md.MessageId,
		Redelivered:   md.Redelivered,
	}, true
}
