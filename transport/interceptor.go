package transport

import (
	"context"
	"slices"
	"strings"
)

// Request is a call as interceptors see it, on either side.
type Request struct {
	// Method is the method name as the caller sent it.
	Method string
	// Args are the arguments: as the caller passed them on the client,
	// as wire values (see package wire) on the server.
	Args []any
	// OneWay is set for a one-way call (Client.Notify): its result is
	// discarded, and on the client the handler returns once the server
	// (or broker) has accepted the call.
	OneWay bool
	// Transport is the URL scheme of the call's wire: "mem", "http",
	// "https", "amqp", "amqps". On the server it is the Peer's, and empty
	// when the transport set no Peer.
	Transport string
	// Addr is the server's address, the URL the client dialled (without
	// credentials; for AMQP with its queue parameter); empty on the
	// server, where PeerFromContext says who called.
	Addr string

	// md are a served call's incoming metadata, from the decoder to Run.
	md Metadata
}

// Handler runs a call and returns its result.
//
// On the client, the innermost Handler encodes the call, sends it
// (with the outgoing metadata of ctx), waits for the reply and returns
// the decoded result: wire values (see package wire), which Client.Call
// then stores in its reply after the chain has returned; so an
// interceptor may retry by calling next again. Its errors are the ones
// Call returns.
//
// On the server, the innermost Handler is the Dispatcher; the result may
// be any value wire.Convert accepts, and an error becomes the fault sent
// back (see ToRemote).
type Handler func(ctx context.Context, req *Request) (any, error)

// Interceptor wraps a Handler, for logging, metrics, tracing, auth,
// retries or limits: the same shape on the client (WithInterceptors
// given to Dial), on the server (given to Listen) and in the registry
// (registry.WithMiddleware). Of several, the first given is the
// outermost.
type Interceptor func(next Handler) Handler

// Chain returns h wrapped in interceptors, the first outermost; nil
// interceptors are skipped, and with none it returns h itself.
func Chain(h Handler, interceptors ...Interceptor) Handler {
	for _, in := range slices.Backward(interceptors) {
		if in != nil {
			h = in(h)
		}
	}
	return h
}

// WithInterceptors wraps the calls of a client (Dial) or server (Listen)
// in interceptors, the first outermost; given several times, the lists
// add up in order.
//
// A client's interceptors see every Call and Notify; the innermost
// handler sends the call and returns its decoded result (see Handler).
// A client's default timeout (WithTimeout) applies before them, so it
// bounds a retrying interceptor's attempts together.
//
// A server's interceptors see every call the server decodes, before
// the Dispatcher: a system.multicall is one call to them (the registry's
// own middleware sees each of its entries too). The caller's metadata
// (IncomingMetadata) and Peer (PeerFromContext) are in ctx. A panic in
// a server interceptor becomes an ErrInternal fault.
func WithInterceptors(interceptors ...Interceptor) Option {
	add := func(list *[]Interceptor) error {
		for _, in := range interceptors {
			if in != nil {
				*list = append(*list, in)
			}
		}
		return nil
	}
	return both{
		client: func(o *ClientOptions) error { return add(&o.Interceptors) },
		server: func(o *ServerOptions) error { return add(&o.Interceptors) },
	}
}

// scheme returns the scheme of a URL, lower case.
func scheme(rawURL string) string {
	if i := strings.Index(rawURL, "://"); i > 0 {
		return strings.ToLower(rawURL[:i])
	}
	return ""
}
