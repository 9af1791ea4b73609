package transport

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rpcwire/rpcwire/transport/wire"
)

// Carrier moves a client's messages to a server and brings the replies
// back: it is all a transport supplies to NewClient.
//
// Carriers are safe for concurrent use. They may use req.Body only until
// RoundTrip or Send returns, and must not keep reply. Their errors wrap
// the package's sentinels (ErrNoServer, ErrConnection, ErrTimeout,
// ErrTooLarge, ErrUnauthorized, ...) with what happened, and never contain
// credentials.
type Carrier interface {
	// RoundTrip sends req and fills reply with the server's answer. When
	// ctx ends first it returns at once.
	RoundTrip(ctx context.Context, req, reply *Message) error
	// Send sends req as a one-way message and returns once the other side
	// has accepted it (see Client.Notify). When the other side answered
	// with a message (a refusal, or the reply of a server that knows no
	// one-way calls) it is in reply; otherwise reply stays empty.
	Send(ctx context.Context, req, reply *Message) error
	// Close releases the carrier; RoundTrip and Send calls in flight
	// return at once. It is called once.
	Close() error
}

// NewClient returns the Client every transport gives its callers: it
// applies the default timeout, runs the interceptors, refuses a bad reply
// target before sending, checks the call's outgoing metadata, encodes
// calls with codec, holds requests and replies to the size limit, moves
// them with car, decodes replies, maps faults to errors and stores
// results. addr names the server in errors and interceptors' requests,
// and must hold no password.
func NewClient(car Carrier, codec Codec, addr string, o *ClientOptions) Client {
	c := &client{car: car, codec: codec, addr: addr, scheme: scheme(addr), maxSize: o.MaxSize(), timeout: o.Timeout}
	if len(o.Interceptors) > 0 {
		c.chain = Chain(c.invoke, o.Interceptors...)
	}
	return c
}

type client struct {
	car     Carrier
	codec   Codec
	addr    string
	scheme  string
	maxSize int64
	timeout time.Duration
	chain   Handler // the interceptors around invoke; nil without interceptors

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Call implements Client.
func (c *client) Call(ctx context.Context, method string, args []any, reply any) error {
	if err := checkReply(reply); err != nil {
		return c.errorf("call", method, "%w", err)
	}
	return c.do(ctx, "call", method, args, reply)
}

// Notify implements Client.
func (c *client) Notify(ctx context.Context, method string, args []any) error {
	return c.do(ctx, "notify", method, args, nil)
}

// Close implements Client.
func (c *client) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.closeErr = c.car.Close()
	})
	return c.closeErr
}

// do makes one call ("call") or sends one one-way message ("notify"),
// through the interceptors when there are some, and stores the result.
func (c *client) do(ctx context.Context, kind, method string, args []any, reply any) error {
	if c.closed.Load() {
		return c.errorf(kind, method, "%w", ErrClosed)
	}
	if c.timeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.timeout)
			defer cancel()
		}
	}
	var (
		result any
		err    error
	)
	if c.chain == nil {
		result, err = c.send(ctx, kind, method, args)
	} else {
		result, err = c.chain(ctx, &Request{Method: method, Args: args, OneWay: kind == "notify", Transport: c.scheme, Addr: c.addr})
	}
	if err != nil || reply == nil {
		return err
	}
	if err := wire.Assign(reply, result); err != nil {
		return c.errorf(kind, method, "reply: %w", err)
	}
	return nil
}

// invoke is the innermost Handler of the interceptors.
func (c *client) invoke(ctx context.Context, req *Request) (any, error) {
	kind := "call"
	if req.OneWay {
		kind = "notify"
	}
	if c.closed.Load() {
		return nil, c.errorf(kind, req.Method, "%w", ErrClosed)
	}
	return c.send(ctx, kind, req.Method, req.Args)
}

// send encodes a call with the outgoing metadata of ctx, moves it and
// decodes the reply: the result, or nil for a one-way call.
func (c *client) send(ctx context.Context, kind, method string, args []any) (any, error) {
	if ctx.Err() != nil {
		return nil, ContextError(ctx, c.what(kind, method))
	}
	md, err := outgoingMetadata(ctx)
	if err == nil && md != nil {
		err = checkMetadata(md)
	}
	if err != nil {
		return nil, c.errorf(kind, method, "%w", err)
	}
	req, resp := GetMessage(), GetMessage()
	defer PutMessage(req)
	defer PutMessage(resp)
	req.Metadata = md
	if err := c.codec.EncodeCall(req, method, args); err != nil {
		return nil, c.errorf(kind, method, "%w: %w", ErrInvalidParams, err)
	}
	if n := int64(len(req.Body)); n > c.maxSize {
		return nil, c.errorf(kind, method, "%w: request of %d bytes exceeds the limit of %d (the client's WithMaxMessageSize)", ErrTooLarge, n, c.maxSize)
	}
	oneWay := kind == "notify"
	if oneWay {
		err = c.car.Send(ctx, req, resp)
	} else {
		err = c.car.RoundTrip(ctx, req, resp)
	}
	if err != nil {
		return nil, c.carrierError(ctx, kind, method, err)
	}
	if oneWay && len(resp.Body) == 0 {
		return nil, nil // accepted, nothing to read
	}
	if n := int64(len(resp.Body)); n > c.maxSize {
		return nil, c.errorf(kind, method, "%w: reply of %d bytes exceeds the limit of %d (the client's WithMaxMessageSize)", ErrTooLarge, n, c.maxSize)
	}
	result, err := c.codec.DecodeReply(resp)
	if err != nil {
		var fault *RemoteError
		if errors.As(err, &fault) {
			if oneWay && !Refused(fault) {
				return nil, nil // the method's own fault: not a one-way caller's business
			}
			return nil, FaultError(ctx, c.what(kind, method), fault)
		}
		return nil, c.errorf(kind, method, "reply: %w", err)
	}
	if oneWay {
		return nil, nil
	}
	return result, nil
}

// carrierError turns a carrier's error into the caller's: the context's
// error when ctx ended, ErrClosed when the client was closed meanwhile.
func (c *client) carrierError(ctx context.Context, kind, method string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		switch {
		case err == ctxErr:
			return ContextError(ctx, c.what(kind, method))
		case errors.Is(err, ctxErr):
			// The carrier said why the context ran out (say, "queue q
			// has 0 consumers"): keep that, and ErrTimeout with it.
			if errors.Is(ctxErr, context.DeadlineExceeded) {
				return c.errorf(kind, method, "%w: %w", ErrTimeout, err)
			}
			return c.errorf(kind, method, "%w", err)
		}
		// The carrier failed as the context ended: the context decides.
		return fmt.Errorf("%w (%v)", ContextError(ctx, c.what(kind, method)), err)
	}
	if c.closed.Load() {
		return c.errorf(kind, method, "%w", ErrClosed)
	}
	var fault *RemoteError
	if errors.As(err, &fault) {
		return FaultError(ctx, c.what(kind, method), fault)
	}
	return c.errorf(kind, method, "%w", err)
}

// what names a call in errors; it is built only when there is an error.
func (c *client) what(kind, method string) string {
	return "rpcwire: " + kind + " " + method + " on " + c.addr
}

func (c *client) errorf(kind, method, format string, args ...any) error {
	return fmt.Errorf("%s: %w", c.what(kind, method), fmt.Errorf(format, args...))
}

// checkReply rejects a reply target Assign cannot store into, before the
// call is sent rather than after it ran.
func checkReply(reply any) error {
	if reply == nil {
		return nil
	}
	if rv := reflect.ValueOf(reply); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("reply must be a non-nil pointer (or nil to discard the result), got %T", reply)
	}
	return nil
}

// Refused reports whether a fault means the server did not run the call
// at all: it was busy, or the request was too large or malformed.
func Refused(f *RemoteError) bool {
	switch f.Code {
	case CodeBusy, CodeTooLarge, CodeParse, CodeInvalidRequest:
		return true
	}
	return false
}

// Messages and their bodies are pooled: a call then costs no allocation
// for its bytes once the pool is warm. Bodies that grew beyond
// maxPooledBody are dropped rather than kept, so one huge message does not
// pin its memory for the life of the process.
const (
	initialBody   = 512
	maxPooledBody = 64 << 10
)

var messages = sync.Pool{New: func() any { return &Message{Body: make([]byte, 0, initialBody)} }}

// GetMessage returns an empty Message with room in its Body, from a pool
// shared by clients and servers; PutMessage gives it back.
func GetMessage() *Message { return messages.Get().(*Message) }

// PutMessage returns m to the pool. m (and its Body) must not be used
// afterwards.
func PutMessage(m *Message) {
	if cap(m.Body) > maxPooledBody {
		return
	}
	m.Reset()
	messages.Put(m)
}
