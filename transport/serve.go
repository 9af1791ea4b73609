package transport

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Service is the serve path every server transport runs its calls
// through: it checks a request's size, decodes it, runs it on the
// Dispatcher under the caller's deadline and the server's call timeout,
// encodes the reply and holds the reply to the size limit as well. It also
// holds the server's call slots. A transport only receives messages, hands
// them to its Service and sends back what it gets.
//
// A Service is safe for concurrent use.
type Service struct {
	d       Dispatcher
	handler Handler // o.Interceptors around dispatch; nil without interceptors
	maxSize int64
	limit   any // maxSize boxed once, for ReplyLimit's context value
	timeout time.Duration
	slots   chan struct{}
	bytes   budget // request bytes held at once
}

// NewService returns a Service running calls on d with o's limits and
// interceptors, and maxInFlight call slots: the calls the transport runs
// at once (usually o.MaxInFlight or the transport's default).
func NewService(d Dispatcher, o *ServerOptions, maxInFlight int) *Service {
	s := &Service{
		d:       d,
		maxSize: o.MaxSize(),
		limit:   o.MaxSize(),
		timeout: o.CallTimeout,
		slots:   make(chan struct{}, max(maxInFlight, 1)),
		bytes:   budget{size: o.MaxBytes()},
	}
	if len(o.Interceptors) > 0 {
		s.handler = Chain(s.dispatch, o.Interceptors...)
	}
	return s
}

// dispatch is the innermost Handler of the server's interceptors.
func (s *Service) dispatch(ctx context.Context, req *Request) (any, error) {
	return s.d.Dispatch(ctx, req.Method, req.Args)
}

// MaxBytesInFlight is the bytes of requests the server holds at once (see
// WithMaxBytesInFlight).
func (s *Service) MaxBytesInFlight() int64 { return s.bytes.size }

// Reserve takes n bytes of the server's requests in flight for a request
// of n bytes (at most MaxMessageSize are counted: a larger request is
// refused unread or undecoded), waiting while others hold them, in the
// order requests came, until ctx ends (its error is returned). A
// transport reserves a request's bytes before it reads or decodes the
// request and gives them back with Unreserve once its reply is sent.
func (s *Service) Reserve(ctx context.Context, n int64) error {
	return s.bytes.acquire(ctx, s.clampBytes(n))
}

// TryReserve is Reserve that does not wait: it reports whether it took
// the bytes.
func (s *Service) TryReserve(n int64) bool { return s.bytes.tryAcquire(s.clampBytes(n)) }

// Unreserve gives back bytes taken with Reserve or TryReserve, with the
// same n.
func (s *Service) Unreserve(n int64) { s.bytes.release(s.clampBytes(n)) }

func (s *Service) clampBytes(n int64) int64 { return min(max(n, 0), s.maxSize) }

// BytesInFlight reports the bytes of requests the server holds now and
// how many requests wait for theirs.
func (s *Service) BytesInFlight() (held int64, waiting int) {
	s.bytes.mu.Lock()
	defer s.bytes.mu.Unlock()
	return s.bytes.used, s.bytes.waiters.Len()
}

// MaxMessageSize is the request and reply size limit, in bytes.
func (s *Service) MaxMessageSize() int64 { return s.maxSize }

// MaxInFlight is the number of call slots.
func (s *Service) MaxInFlight() int { return cap(s.slots) }

// TryAcquire takes a call slot if one is free. A transport that answers
// calls beyond its limit with a busy fault (see Busy) takes a slot for
// each call and gives it back with Release when the call is done.
func (s *Service) TryAcquire() bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// Release gives back a slot taken with TryAcquire.
func (s *Service) Release() { <-s.slots }

// Drain waits until no call holds a slot, and keeps every slot taken
// afterwards, so no call starts again: it is the last thing a stopping
// server does with its Service.
func (s *Service) Drain() {
	for range cap(s.slots) {
		s.slots <- struct{}{}
	}
}

// Busy encodes into reply the fault a call gets when every slot is taken.
func (s *Service) Busy(c Codec, reply *Message) *RemoteError {
	f := &RemoteError{Code: CodeBusy, Message: fmt.Sprintf("server busy: %d calls in flight; retry later", cap(s.slots))}
	c.EncodeFault(reply, f)
	return f
}

// Decode checks req against the size limits and decodes it with c. A
// request that is too large or cannot be decoded gives the fault to send
// back instead. The Request keeps req's metadata for Run.
func (s *Service) Decode(c Codec, req *Message) (Request, *RemoteError) {
	if n := int64(len(req.Body)); n > s.maxSize {
		return Request{}, &RemoteError{Code: CodeTooLarge,
			Message: fmt.Sprintf("request of %d bytes exceeds the server's limit of %d (its WithMaxMessageSize)", n, s.maxSize)}
	}
	if len(req.Metadata) > 0 {
		if n := metadataSize(req.Metadata); n > MaxMetadataSize {
			return Request{}, &RemoteError{Code: CodeTooLarge,
				Message: fmt.Sprintf("request metadata of %d bytes exceed the limit of %d", n, MaxMetadataSize)}
		}
	}
	method, args, err := c.DecodeCall(req)
	if err != nil {
		return Request{}, ToRemote(err)
	}
	return Request{Method: method, Args: args, md: req.Metadata}, nil
}

// Run runs call on the Dispatcher, through the server's interceptors,
// with the call's metadata in ctx (see IncomingMetadata) and, unless reply
// is nil (a one-way call), encodes its result or fault into reply with c. It returns the
// fault sent, nil when the call succeeded (for a one-way call: the fault
// it would have sent). ctx carries the caller's deadline, when the
// transport has one; the server's call timeout applies on top.
//
// A result that cannot be encoded, or whose encoding exceeds the size
// limit, becomes a fault (CodeInternal, CodeTooLarge) instead.
func (s *Service) Run(ctx context.Context, c Codec, call Request, reply *Message) *RemoteError {
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	if len(call.md) > 0 {
		ctx = NewIncomingContext(ctx, call.md)
	}
	if s.maxSize != DefaultMaxMessageSize {
		ctx = context.WithValue(ctx, replyLimitKey{}, s.limit)
	}
	result, err := s.call(ctx, call, reply == nil)
	var fault *RemoteError
	if err != nil {
		fault = ToRemote(err)
	}
	if reply == nil {
		return fault
	}
	if fault == nil {
		start := len(reply.Body)
		var err error
		if rl, ok := c.(ReplyLimiter); ok {
			err = rl.EncodeReplyWithin(reply, result, s.maxSize)
		} else {
			err = c.EncodeReply(reply, result)
		}
		switch n := int64(len(reply.Body) - start); {
		case errors.Is(err, ErrTooLarge): // stopped as soon as it passed the limit
			fault = &RemoteError{Code: CodeTooLarge,
				Message: fmt.Sprintf("reply to %s exceeds the server's limit of %d bytes (its WithMaxMessageSize)", call.Method, s.maxSize)}
		case err != nil:
			fault = &RemoteError{Code: CodeInternal, Message: "encode result of " + call.Method + ": " + err.Error()}
		case n > s.maxSize:
			fault = &RemoteError{Code: CodeTooLarge,
				Message: fmt.Sprintf("reply of %d bytes to %s exceeds the server's limit of %d (its WithMaxMessageSize)", n, call.Method, s.maxSize)}
		}
		if fault == nil {
			return nil
		}
		reply.Body = reply.Body[:start]
		reply.Type, reply.Headers = "", nil
	}
	c.EncodeFault(reply, fault)
	return fault
}

// call runs a call through the interceptors, if any, and the
// dispatcher. A panic in either becomes an ErrInternal fault, as a panic
// in a registered function does, so a Dispatcher of one's own cannot
// take the server down, with or without interceptors.
func (s *Service) call(ctx context.Context, call Request, oneWay bool) (result any, err error) {
	method := call.Method
	defer func() {
		if p := recover(); p != nil {
			result, err = nil, fmt.Errorf("%w: panic serving %s: %v", ErrInternal, method, p)
		}
	}()
	if s.handler == nil {
		return s.d.Dispatch(ctx, call.Method, call.Args)
	}
	return s.intercept(ctx, call, oneWay)
}

// intercept runs a call through the interceptors. It takes the Request
// by value: the copy it hands the interceptors escapes to the heap, and
// only calls with interceptors pay for it.
func (s *Service) intercept(ctx context.Context, req Request, oneWay bool) (any, error) {
	req.OneWay = oneWay
	if p, ok := ctx.Value(peerKey{}).(*Peer); ok {
		req.Transport = p.Transport
	}
	return s.handler(ctx, &req)
}

// Serve decodes req with c, runs it and encodes the reply (result or
// fault) into reply: Decode and Run in one. It never fails: what goes
// wrong becomes the fault in the reply, which it also returns (nil when
// the call succeeded). refused reports a request that was not run at all
// because it was too large or undecodable: a poison message.
func (s *Service) Serve(ctx context.Context, c Codec, req, reply *Message) (fault *RemoteError, refused bool) {
	call, fault := s.Decode(c, req)
	if fault != nil {
		if reply != nil {
			c.EncodeFault(reply, fault)
		}
		return fault, true
	}
	return s.Run(ctx, c, call, reply), false
}

type replyLimitKey struct{}

// ReplyLimit returns the reply size limit of the server running the call
// whose context is ctx (its WithMaxMessageSize), for a Dispatcher that
// builds a reply out of many results, as system.multicall does, to stop
// once it is sure to pass it. Outside a server's call it returns
// DefaultMaxMessageSize. (Run puts the limit in the context only when it
// is not the default, which costs nothing per call.)
func ReplyLimit(ctx context.Context) int64 {
	if n, ok := ctx.Value(replyLimitKey{}).(int64); ok {
		return n
	}
	return DefaultMaxMessageSize
}
