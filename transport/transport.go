// Package transport is the contract between rpcwire's callers, servers and
// wires: the Client and Server interfaces every transport implements, the
// errors they share, the codecs that turn calls into messages, the client
// core and serve path every transport runs its calls through, and the
// Table that picks a transport by URL scheme.
//
// The path of a call:
//
//	caller → Client (NewClient: timeout, interceptors, metadata, encode, size limit) → Codec → Carrier (the wire)
//	       → Service.Serve (size limit, decode, metadata, deadline, interceptors) → Dispatcher (the registry) → function
//
// and the reply back the same way. A transport supplies only its Carrier
// (how a message reaches a server and its reply comes back) and feeds what
// it receives to a Service; everything else is written once, here.
// Values are described in package transport/wire.
//
// # Metadata, peers and interceptors
//
// A call carries metadata besides its arguments: string pairs the caller
// attaches to its context (AppendToOutgoing, NewOutgoingContext) and the
// server's interceptors, registry middleware and function read from
// theirs (IncomingMetadata), the same on every transport: HTTP header
// fields, AMQP message headers, a copy in memory. Keys are lower-case HTTP
// tokens, values single-line UTF-8 text, at most MaxMetadataSize bytes in
// all; the keys the transports use themselves are reserved (Reserved:
// HTTP's own fields such as host, content-*, authorization, accept-* and
// user-agent; rpcwire's x-rpcwire-*, idempotency-key, x-deadline,
// x-fault-code and x-type; RabbitMQ's x-death and kin). A client refuses
// a call whose metadata break the rules before sending it.
//
// PeerFromContext tells a served call who made it: the transport, the
// caller's address, its checked user and, over AMQP, the delivery's
// properties.
//
// Interceptors (WithInterceptors, on Dial and Listen alike) wrap calls on
// either side with one shape, Interceptor, which the registry's
// middleware shares: logging, metrics, tracing (package
// transport/otelrpc), auth and retries are written once for every
// transport.
//
// The package imports no transport implementation. Backends (the in-memory
// one in transport/mem, xmlrpc, amqp) import it; the root rpcwire package
// builds the default Table. transport/transporttest holds the conformance
// suite every transport passes.
package transport

import (
	"context"
	"fmt"
)

// Client calls methods on a remote server. Implementations are safe for
// concurrent use: many goroutines may have calls in flight on one Client.
type Client interface {
	// Call invokes method with args and stores the result in reply, which
	// must be a non-nil pointer (or nil to discard the result); any other
	// reply is refused before anything is sent. A fault from the server is
	// returned as *RemoteError. Call honours ctx: when it is done the call
	// returns at once with an error wrapping ctx.Err().
	Call(ctx context.Context, method string, args []any, reply any) error
	// Notify sends a one-way call: the server runs method with args and
	// sends no reply. Notify returns once the other side has accepted the
	// message: the server took it (HTTP, mem) or the broker confirmed it
	// (AMQP). It does not wait for the method to run and never reports the
	// method's own faults; a nil error means the method will run unless
	// the server is stopped first. A server that refuses the message
	// (busy, too large, malformed) or is not there is an error.
	Notify(ctx context.Context, method string, args []any) error
	// Close releases the client's resources. Calls in flight fail at once
	// with ErrClosed. Close is idempotent.
	Close() error
}

// Server serves a Dispatcher on one address. A Server returned by a
// ListenFunc is already serving.
type Server interface {
	// Addr is the URL clients dial to reach this server, with the actual
	// port when the listen URL asked for port 0, and credentials removed.
	Addr() string
	// Shutdown stops taking new calls, waits for the calls in flight
	// (one-way ones included) to finish, or ctx to end, and releases the
	// server's resources.
	Shutdown(ctx context.Context) error
	// Close stops the server at once; calls in flight see their context
	// cancelled and may be cut off. Close is idempotent.
	Close() error
}

// Dispatcher runs a call on the server side. *registry.Registry
// implements it. args are wire values (see package wire); the result may be
// any value wire.Convert accepts.
type Dispatcher interface {
	Dispatch(ctx context.Context, method string, args []any) (any, error)
}

// Message is an encoded call or reply as a carrier moves it: the body,
// the few properties a codec may set besides it, and a call's metadata.
// Carriers map them onto their wire: AMQP carries all of them as message
// properties and headers; HTTP carries the body, the content type and the
// metadata (as header fields).
type Message struct {
	// Body is the encoded call or reply.
	Body []byte
	// ContentType names the body's format, e.g. "text/xml".
	ContentType string
	// Type is a short label of the body's content that some codecs need
	// besides it: the text codec puts a call's method and a result's type
	// here (AMQP's type property).
	Type string
	// Headers are codec headers, with string or int64 values: the text
	// codec carries a fault's code in one.
	Headers map[string]any
	// Metadata are a call's metadata (see Metadata), apart from the
	// codec's headers: the client core sets them from the call's context,
	// checked; a server's carrier sets them from what it received, leaving
	// out the reserved keys, and the Service hands them to the call's
	// context. Replies carry none.
	Metadata Metadata
}

// Reset empties m for reuse, keeping Body's storage.
func (m *Message) Reset() {
	*m = Message{Body: m.Body[:0]}
}

// Codec turns calls and replies into messages and back. Encoders append to
// m.Body and set the properties they need; decoders read them. Codecs are
// safe for concurrent use.
//
// Decoded values are wire values (see package wire). Encoders accept wire
// values and any Go value wire.Convert accepts; a value that cannot be
// encoded is an error (a *wire.ConversionError naming its path).
type Codec interface {
	// Name is the codec's short name, as used in URLs ("xml", "json").
	Name() string
	// ContentType is the MIME type of the codec's messages.
	ContentType() string
	// EncodeCall appends a call of method with args to m.
	EncodeCall(m *Message, method string, args []any) error
	// DecodeCall decodes a call. Errors wrap ErrParse, or are a
	// *RemoteError saying what the server cannot do with the call.
	DecodeCall(m *Message) (method string, args []any, err error)
	// EncodeReply appends a reply carrying result to m.
	EncodeReply(m *Message, result any) error
	// EncodeFault appends a reply carrying fault to m.
	EncodeFault(m *Message, fault *RemoteError)
	// DecodeReply decodes a reply. A fault is returned as *RemoteError;
	// an undecodable message as an error wrapping ErrParse.
	DecodeReply(m *Message) (result any, err error)
}

// BodyCodec is a codec whose messages are their bodies alone, as XML-RPC
// and the JSON envelope are. BodyOnly makes a Codec of it.
type BodyCodec interface {
	// Name is the codec's short name, as used in URLs ("xml", "json").
	Name() string
	// ContentType is the MIME type of the codec's bodies.
	ContentType() string
	// AppendCall appends an encoded call to dst.
	AppendCall(dst []byte, method string, args []any) ([]byte, error)
	// DecodeCall decodes a call. Errors wrap ErrParse.
	DecodeCall(body []byte) (method string, args []any, err error)
	// AppendReply appends a reply carrying result to dst.
	AppendReply(dst []byte, result any) ([]byte, error)
	// AppendFault appends a reply carrying a fault to dst.
	AppendFault(dst []byte, fault *RemoteError) []byte
	// DecodeReply decodes a reply. A fault is returned as *RemoteError;
	// an undecodable body as an error wrapping ErrParse.
	DecodeReply(body []byte) (result any, err error)
}

// ReplyLimiter is a Codec that can stop encoding a reply as soon as it
// grows past a size, rather than build it whole only to have it refused:
// the serve path (Service) uses it when a codec has it, with the server's
// message size limit.
type ReplyLimiter interface {
	// EncodeReplyWithin is EncodeReply that fails with an error wrapping
	// ErrTooLarge once the reply it appends to m passes limit bytes.
	EncodeReplyWithin(m *Message, result any, limit int64) error
}

// BodyReplyLimiter is a BodyCodec that can stop encoding a reply early
// (see ReplyLimiter); the Codec BodyOnly makes of it then does.
type BodyReplyLimiter interface {
	// AppendReplyWithin is AppendReply that fails with an error wrapping
	// ErrTooLarge once the reply passes limit bytes.
	AppendReplyWithin(dst []byte, result any, limit int64) ([]byte, error)
}

// SizeLimit is what an encoder that stops early (a ReplyLimiter or
// BodyReplyLimiter) checks as it appends to a buffer: whether the bytes
// appended since Start pass Max (never, when Max is not positive).
type SizeLimit struct {
	Max   int64
	Start int
}

// Passed reports whether dst has grown past the limit.
func (l SizeLimit) Passed(dst []byte) bool { return l.Max > 0 && int64(len(dst)-l.Start) > l.Max }

// Err is the error of an encoding stopped at the limit; it wraps
// ErrTooLarge.
func (l SizeLimit) Err() error {
	return fmt.Errorf("%w: the encoding passed %d bytes", ErrTooLarge, l.Max)
}

// BodyOnly returns a Codec that reads and writes only the body (and the
// content type) of a message, with b. It is a ReplyLimiter; it stops a
// reply early when b is a BodyReplyLimiter.
func BodyOnly(b BodyCodec) Codec { return bodyOnly{b} }

type bodyOnly struct{ b BodyCodec }

func (c bodyOnly) Name() string        { return c.b.Name() }
func (c bodyOnly) ContentType() string { return c.b.ContentType() }

func (c bodyOnly) EncodeCall(m *Message, method string, args []any) error {
	body, err := c.b.AppendCall(m.Body, method, args)
	if err != nil {
		return err
	}
	m.Body, m.ContentType = body, c.b.ContentType()
	return nil
}

func (c bodyOnly) DecodeCall(m *Message) (string, []any, error) { return c.b.DecodeCall(m.Body) }

func (c bodyOnly) EncodeReply(m *Message, result any) error {
	body, err := c.b.AppendReply(m.Body, result)
	if err != nil {
		return err
	}
	m.Body, m.ContentType = body, c.b.ContentType()
	return nil
}

func (c bodyOnly) EncodeReplyWithin(m *Message, result any, limit int64) error {
	lb, ok := c.b.(BodyReplyLimiter)
	if !ok {
		return c.EncodeReply(m, result)
	}
	body, err := lb.AppendReplyWithin(m.Body, result, limit)
	if err != nil {
		return err
	}
	m.Body, m.ContentType = body, c.b.ContentType()
	return nil
}

func (c bodyOnly) EncodeFault(m *Message, fault *RemoteError) {
	m.Body, m.ContentType = c.b.AppendFault(m.Body, fault), c.b.ContentType()
}

func (c bodyOnly) DecodeReply(m *Message) (any, error) { return c.b.DecodeReply(m.Body) }
