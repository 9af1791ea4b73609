package transport

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// Metadata are the string key/value pairs that travel with a call besides
// its method and arguments: a request id, an auth token, a trace context.
// A client attaches them to a call's context (AppendToOutgoing,
// NewOutgoingContext); the server's interceptors, registry middleware and
// the function read them from theirs (IncomingMetadata). Every transport
// carries them the same way: as HTTP header fields of the same name, as
// AMQP message headers, as a copy in memory. Metadata go with calls and
// one-way messages, not with replies.
//
// Keys are lower case (Get and Set lower-case theirs) and made of HTTP
// token characters: letters, digits and !#$%&'*+-.^_`|~. Values are
// UTF-8 text without control characters (tab excepted) and without
// leading or trailing space or tab, which HTTP would strip. Keys the
// transports use themselves are reserved (see Reserved); the total size of
// a call's keys and values is bounded by MaxMetadataSize. A client
// refuses a call whose metadata break these rules before sending it.
//
// Metadata has the methods of OpenTelemetry's propagation.TextMapCarrier,
// so a propagator can inject into and extract from it directly.
type Metadata map[string]string

// MaxMetadataSize bounds the metadata of one call: the sum of the lengths
// of its keys and values, in bytes. A block of that size passes common
// HTTP servers and proxies (ours reads 64 KiB of header; nginx 8 KiB per
// field and 32 KiB in all by default) and fits one AMQP content-header
// frame. A client refuses a call with more (ErrTooLarge), and so does a
// server receiving one.
const MaxMetadataSize = 16 << 10

// Get returns the value of key (any case), or "".
func (md Metadata) Get(key string) string {
	if v, ok := md[key]; ok {
		return v
	}
	return md[strings.ToLower(key)]
}

// Set sets key (lower-cased) to value. md must not be nil.
func (md Metadata) Set(key, value string) {
	md[strings.ToLower(key)] = value
}

// Keys returns the keys in sorted order.
func (md Metadata) Keys() []string {
	return slices.Sorted(maps.Keys(md))
}

// Copy returns a copy of md, nil when md is empty.
func (md Metadata) Copy() Metadata {
	if len(md) == 0 {
		return nil
	}
	return maps.Clone(md)
}

// Reserved reports whether key (lower case) is one the transports use
// themselves, and so cannot be metadata: a client refuses it, and a
// server does not show a request's header or property of that name as
// metadata. The reserved keys are
//
//   - HTTP's own fields: host, connection, keep-alive, te, trailer,
//     transfer-encoding, upgrade, expect, content-*, proxy-*, accept,
//     accept-*, user-agent, cookie, and authorization (the basic-auth
//     credentials never become metadata: see Peer.User for the checked
//     user name);
//   - rpcwire's own: x-rpcwire-*, idempotency-key, and the AMQP headers
//     x-deadline, x-fault-code and x-type;
//   - RabbitMQ's: x-death, x-first-death-*, x-last-death-* and
//     x-delivery-count, which the broker sets on dead-lettered and
//     redelivered messages.
func Reserved(key string) bool {
	switch key {
	case "host", "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "expect",
		"accept", "user-agent", "cookie", "authorization",
		"idempotency-key", "x-deadline", "x-fault-code", "x-type",
		"x-death", "x-delivery-count":
		return true
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

var reservedPrefixes = []string{"content-", "proxy-", "accept-", "x-rpcwire-", "x-first-death-", "x-last-death-"}

// ValidKey reports whether key is a well-formed metadata key: non-empty,
// lower case, HTTP token characters only. It says nothing of Reserved.
func ValidKey(key string) bool {
	if key == "" {
		return false
	}
	for i := range len(key) {
		if !tokenChar(key[i]) || ('A' <= key[i] && key[i] <= 'Z') {
			return false
		}
	}
	return true
}

// tokenChar reports whether c may appear in an HTTP token (RFC 9110).
func tokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// ValidValue reports whether v is a well-formed metadata value: valid
// UTF-8 without control characters other than tab, and without leading
// or trailing space or tab.
func ValidValue(v string) bool {
	if v == "" {
		return true
	}
	if isSpace(v[0]) || isSpace(v[len(v)-1]) || !utf8.ValidString(v) {
		return false
	}
	for _, r := range v {
		if (r < 0x20 && r != '\t') || r == 0x7f || (0x80 <= r && r < 0xa0) {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// checkMetadata checks md before it is sent.
func checkMetadata(md Metadata) error {
	size := 0
	for k, v := range md {
		switch {
		case !ValidKey(k):
			return fmt.Errorf("%w: metadata key %q: use lower-case letters, digits and !#$%%&'*+-.^_`|~", ErrInvalidParams, k)
		case Reserved(k):
			return fmt.Errorf("%w: metadata key %q is reserved for the transports (see transport.Reserved)", ErrInvalidParams, k)
		case !ValidValue(v):
			return fmt.Errorf("%w: metadata %q: the value must be UTF-8 text without control characters or surrounding white space, got %q", ErrInvalidParams, k, v)
		}
		size += len(k) + len(v)
	}
	if size > MaxMetadataSize {
		return fmt.Errorf("%w: metadata of %d bytes exceed the limit of %d", ErrTooLarge, size, MaxMetadataSize)
	}
	return nil
}

// metadataSize is the size MaxMetadataSize bounds.
func metadataSize(md Metadata) int {
	n := 0
	for k, v := range md {
		n += len(k) + len(v)
	}
	return n
}

type (
	outgoingKey struct{}
	incomingKey struct{}
)

// outgoing is the outgoing metadata a context carries: a base set by
// NewOutgoingContext and the pairs appended since, merged only when the
// call is sent (as grpc-go does), so appending costs no copy.
type outgoing struct {
	md    Metadata
	added [][]string
}

// NewOutgoingContext returns ctx with md as the metadata of the calls made
// with it, replacing any set before. Keys are lower-cased; md is copied.
func NewOutgoingContext(ctx context.Context, md Metadata) context.Context {
	c := make(Metadata, len(md))
	for k, v := range md {
		c.Set(k, v)
	}
	return context.WithValue(ctx, outgoingKey{}, &outgoing{md: c})
}

// AppendToOutgoing returns ctx with the key/value pairs kv added to the
// metadata of the calls made with it; a key given again replaces the
// earlier value. Keys are lower-cased. An odd number of strings, or a
// key or value the rules of Metadata refuse, makes those calls fail with
// an error wrapping ErrInvalidParams before anything is sent.
func AppendToOutgoing(ctx context.Context, kv ...string) context.Context {
	prev, _ := ctx.Value(outgoingKey{}).(*outgoing)
	o := &outgoing{}
	if prev != nil {
		o.md = prev.md
		o.added = make([][]string, len(prev.added), len(prev.added)+1)
		copy(o.added, prev.added)
	}
	o.added = append(o.added, slices.Clone(kv))
	return context.WithValue(ctx, outgoingKey{}, o)
}

// OutgoingMetadata returns a copy of the metadata the calls made with ctx
// carry; nil when there are none. Pairs from an odd AppendToOutgoing are
// left out (the call itself fails).
func OutgoingMetadata(ctx context.Context) Metadata {
	md, _ := outgoingMetadata(ctx)
	return md
}

// outgoingMetadata merges the outgoing metadata of ctx into a new map;
// err says what is wrong with an odd list of pairs.
func outgoingMetadata(ctx context.Context) (Metadata, error) {
	o, _ := ctx.Value(outgoingKey{}).(*outgoing)
	if o == nil {
		return nil, nil
	}
	n := len(o.md)
	var err error
	for _, kv := range o.added {
		n += len(kv) / 2
		if len(kv)%2 == 1 && err == nil {
			err = fmt.Errorf("%w: AppendToOutgoing got an odd number of strings (%d): %q has no value", ErrInvalidParams, len(kv), kv[len(kv)-1])
		}
	}
	if n == 0 {
		return nil, err
	}
	md := make(Metadata, n)
	maps.Copy(md, o.md)
	for _, kv := range o.added {
		for i := 0; i+1 < len(kv); i += 2 {
			md.Set(kv[i], kv[i+1])
		}
	}
	return md, err
}

// incoming is a context carrying a call's incoming metadata, one
// allocation for the two.
type incoming struct {
	context.Context
	md Metadata
}

func (c *incoming) Value(key any) any {
	if _, ok := key.(incomingKey); ok {
		return c.md
	}
	return c.Context.Value(key)
}

// NewIncomingContext returns ctx carrying md as the metadata of the call
// being served, as the server does before it dispatches a call; tests of
// interceptors and functions use it too. md is not copied.
func NewIncomingContext(ctx context.Context, md Metadata) context.Context {
	return &incoming{Context: ctx, md: md}
}

// IncomingValue returns the value of key (any case) in the metadata the
// caller sent with the call being served with ctx, or "": one value
// without copying them all.
func IncomingValue(ctx context.Context, key string) string {
	md, _ := ctx.Value(incomingKey{}).(Metadata)
	return md.Get(key)
}

// IncomingMetadata returns a copy of the metadata the caller sent with the
// call being served with ctx, nil when it sent none. It works in server
// interceptors, registry middleware and the served function, on every
// transport. Over HTTP these are the request's header fields except the
// reserved ones (see Reserved), so a foreign caller's traceparent or
// X-Request-Id header is metadata "traceparent" or "x-request-id"; over
// AMQP the message headers except the reserved ones, with values of other
// types than strings (a number a pika caller sends, say) in text.
func IncomingMetadata(ctx context.Context) Metadata {
	md, _ := ctx.Value(incomingKey{}).(Metadata)
	return md.Copy()
}
