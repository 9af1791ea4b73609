// Package transport is the contract between rpcwire's callers, servers and
// wires: the Client and Server interfaces every transport implements, the
// errors they share, the Codec that turns calls into bytes, and the Table
// that picks a transport by URL scheme.
//
// The package imports no transport implementation. Backends (the in-memory
// one in transport/mem, xmlrpc, amqp) import it; the root rpcwire package
// builds the default Table. transport/transporttest holds the conformance
// suite every transport passes.
package transport

import (
	"context"
)

// Client calls methods on a remote server. Implementations are safe for
// concurrent use: many goroutines may have calls in flight on one Client.
type Client interface {
	// Call invokes method with args and stores the result in reply, which
	// must be a non-nil pointer (or nil to discard the result). A fault
	// from the server is returned as *RemoteError. Call honours ctx: when
	// it is done the call returns at once with an error wrapping ctx.Err().
	Call(ctx context.Context, method string, args []any, reply any) error
	// Notify sends a one-way call: the server runs it and sends no reply.
	// A nil error means the transport accepted the message, not that the
	// method ran.
	Notify(ctx context.Context, method string, args []any) error
	// Close releases the client's resources. Calls in flight fail with
	// ErrClosed. Close is idempotent.
	Close() error
}

// Server serves a Dispatcher on one address. A Server returned by a
// ListenFunc is already serving.
type Server interface {
	// Addr is the URL clients dial to reach this server, with the actual
	// port when the listen URL asked for port 0, and credentials removed.
	Addr() string
	// Shutdown stops taking new calls, waits for the calls in flight to
	// finish (or ctx to end) and releases the server's resources.
	Shutdown(ctx context.Context) error
	// Close stops the server at once; calls in flight may be cut off.
	// Close is idempotent.
	Close() error
}

// Dispatcher runs a call on the server side. *registry.Registry
// implements it. args hold wire values (see Codec); the result may be any
// value the codecs can encode.
type Dispatcher interface {
	Dispatch(ctx context.Context, method string, args []any) (any, error)
}

// Codec turns calls and replies into message bodies and back, so the same
// bodies can travel over different carriers (HTTP, a message queue).
//
// Decoded values are wire values: nil, bool, int64, float64, string,
// []byte, time.Time, []any and map[string]any. Encoders accept those and
// any Go value wire.Convert accepts.
type Codec interface {
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

// Serve decodes a call from body with c, runs it on d and appends the
// encoded reply (result or fault) to dst. It never fails: anything that goes
// wrong becomes a fault in the reply. The bool result reports whether the
// call ran and succeeded.
func Serve(ctx context.Context, d Dispatcher, c Codec, body, dst []byte) ([]byte, bool) {
	method, args, err := c.DecodeCall(body)
	if err != nil {
		return c.AppendFault(dst, ToRemote(err)), false
	}
	result, err := d.Dispatch(ctx, method, args)
	if err != nil {
		return c.AppendFault(dst, ToRemote(err)), false
	}
	out, err := c.AppendReply(dst, result)
	if err != nil {
		return c.AppendFault(dst, &RemoteError{Code: CodeInternal, Message: "encode result of " + method + ": " + err.Error()}), false
	}
	return out, true
}
