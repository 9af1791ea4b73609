package transport

import "context"

// Peer says who made the call being served, as far as its transport
// knows. A few fields mean the same on every transport; the AMQP
// delivery's properties are empty elsewhere.
type Peer struct {
	// Transport is the URL scheme the call arrived by: "mem", "http",
	// "https", "amqp" or "amqps".
	Transport string
	// Addr is where the caller is: over HTTP its network address
	// (host:port, as the server's connection sees it: a proxy's, when
	// there is one); over AMQP the queue its reply goes to (reply_to;
	// empty for a one-way message); empty in memory.
	Addr string
	// User is the caller's identity when something checked it: over HTTP
	// the basic-auth user name the server required and verified (Listen
	// with user:pass@ in its URL, or RequireBasicAuth); over AMQP the
	// message's user_id property, which RabbitMQ refuses unless it is the
	// user of the sender's connection. Empty otherwise: an unchecked
	// Authorization header shows neither here nor in the metadata.
	User string

	// Queue is the AMQP request queue the call was consumed from.
	Queue string
	// CorrelationID is the AMQP request's correlation id. rpcwire clients
	// make it unique per call and per one-way message (a random
	// per-client prefix and a counter), and the broker keeps it when it
	// redelivers the request, so it is a key for dropping the duplicates
	// at-least-once delivery brings.
	CorrelationID string
	// MessageID is the AMQP message-id property, when the sender set one
	// (rpcwire clients do not).
	MessageID string
	// Redelivered is set when the broker handed this AMQP request out
	// before without an ack (a server died or lost its connection): the
	// function may already have run for it.
	Redelivered bool
}

type peerKey struct{}

// peerContext is a context carrying a Peer: one allocation for the two.
type peerContext struct {
	context.Context
	p Peer
}

func (c *peerContext) Value(key any) any {
	if _, ok := key.(peerKey); ok {
		return &c.p
	}
	return c.Context.Value(key)
}

// NewPeerContext returns ctx carrying p as the caller of the call being
// served. Transports call it before they hand a call to their Service;
// tests of interceptors and functions may too.
func NewPeerContext(ctx context.Context, p Peer) context.Context {
	return &peerContext{Context: ctx, p: p}
}

// PeerFromContext returns the caller of the call being served with ctx;
// ok is false outside a served call.
func PeerFromContext(ctx context.Context) (p Peer, ok bool) {
	if pp, _ := ctx.Value(peerKey{}).(*Peer); pp != nil {
		return *pp, true
	}
	return Peer{}, false
}
