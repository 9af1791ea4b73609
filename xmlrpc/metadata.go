package xmlrpc

import (
	"context"
	"net"
	"net/http"
	"strings"

	"github.com/rpcwire/rpcwire/transport"
)

// Metadata over HTTP are header fields of the same name: a call's
// metadata "x-request-id" is sent as the field x-request-id, and a
// request's fields are the metadata the function reads, less the
// reserved ones (transport.Reserved: HTTP's own fields, Authorization and
// rpcwire's X-Rpcwire-* among them) and the hop-by-hop fields its
// Connection field names. A foreign caller's plain traceparent or
// X-Request-Id header is therefore metadata "traceparent" or
// "x-request-id". Several fields of one name are joined with ", ", as
// HTTP folds them; a field whose name or value the metadata rules refuse
// is left out.

// setMetadata adds a call's metadata to its request header. The client
// core has checked them: no key is reserved, so none clashes with the
// fields the carrier sets.
func setMetadata(h http.Header, md transport.Metadata) {
	for k, v := range md {
		h[k] = []string{v}
	}
}

// incomingMetadata returns the metadata a request's header carries, nil
// when there are none: no allocation for a request of ours without
// metadata.
func incomingMetadata(h http.Header) transport.Metadata {
	var md transport.Metadata
	for name, values := range h {
		if len(values) == 0 || reservedField(name) {
			continue
		}
		key := strings.ToLower(name)
		if !transport.ValidKey(key) || transport.Reserved(key) || hopByHop(h, name) {
			continue
		}
		v := values[0]
		if len(values) > 1 {
			v = strings.Join(values, ", ")
		}
		if !transport.ValidValue(v) {
			continue
		}
		if md == nil {
			md = make(transport.Metadata, len(h))
		}
		md[key] = v
	}
	return md
}

// reservedField is transport.Reserved for the fields every request has,
// in their canonical form: checked without lower-casing them first.
func reservedField(name string) bool {
	switch name {
	case "Content-Type", "Content-Length", "User-Agent", "Accept-Encoding", "Host", "Authorization", TimeoutHeader, OneWayHeader:
		return true
	}
	return false
}

// hopByHop reports whether the request's Connection field names name:
// such a field is for the next hop, not for the function.
func hopByHop(h http.Header, name string) bool {
	for _, c := range h["Connection"] {
		for opt := range strings.SplitSeq(c, ",") {
			if strings.EqualFold(strings.TrimSpace(opt), name) {
				return true
			}
		}
	}
	return false
}

// withPeer returns r with the caller as the transport.Peer of its
// context. A server that Listen started has put one there for the
// connection already (connPeer): nothing to add per call.
func withPeer(r *http.Request) *http.Request {
	if _, ok := transport.PeerFromContext(r.Context()); ok {
		return r
	}
	return r.WithContext(transport.NewPeerContext(r.Context(), transport.Peer{Transport: schemeOf(r), Addr: r.RemoteAddr}))
}

// oneWayContext is the context of a one-way call: the handler's (the call
// outlives its request) with the request's Peer.
func (h *Handler) oneWayContext(r *http.Request) context.Context {
	p, _ := transport.PeerFromContext(r.Context())
	return transport.NewPeerContext(h.ctx, p)
}

func schemeOf(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// connPeer returns the http.Server ConnContext hook that gives each
// connection's requests their Peer, once per connection: the remote
// address and, when the server requires basic authentication, its user
// (every request that reaches the handler has passed the check).
func connPeer(scheme, user string) func(context.Context, net.Conn) context.Context {
	return func(ctx context.Context, c net.Conn) context.Context {
		return transport.NewPeerContext(ctx, transport.Peer{Transport: scheme, Addr: c.RemoteAddr().String(), User: user})
	}
}

// authenticated returns r with user as its Peer's User, after
// RequireBasicAuth checked it. Under Listen the connection's Peer has it
// already; on another server it costs a context per request.
func authenticated(r *http.Request, user string) *http.Request {
	p, ok := transport.PeerFromContext(r.Context())
	if ok && p.User == user {
		return r
	}
	if !ok {
		p = transport.Peer{Transport: schemeOf(r), Addr: r.RemoteAddr}
	}
	p.User = user
	return r.WithContext(transport.NewPeerContext(r.Context(), p))
}
