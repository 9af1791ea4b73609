package transport_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc/xmlcodec"
)

var xml = transport.BodyOnly(xmlcodec.Codec{})

func TestOptions(t *testing.T) {
	o, err := transport.NewClientOptions(nil, transport.WithTimeout(time.Second), transport.WithMaxMessageSize(10))
	require.NoError(t, err)
	assert.Equal(t, time.Second, o.Timeout)
	assert.Equal(t, int64(10), o.MaxSize())
	assert.NotNil(t, o.Log(), "a nil logger is a silent one")

	var zero transport.ClientOptions
	assert.Equal(t, int64(transport.DefaultMaxMessageSize), zero.MaxSize(), "zero means unset: the default applies")

	so, err := transport.NewServerOptions(transport.WithMaxInFlight(7), transport.WithCallTimeout(time.Minute), transport.WithMaxMessageSize(99))
	require.NoError(t, err)
	assert.Equal(t, 7, so.MaxInFlight)
	assert.Equal(t, time.Minute, so.CallTimeout)
	assert.Equal(t, int64(99), so.MaxSize())

	for name, opt := range map[string]transport.ClientOption{
		"size":    transport.WithMaxMessageSize(0),
		"timeout": transport.WithTimeout(-time.Second),
	} {
		_, err := transport.NewClientOptions(opt)
		assert.Error(t, err, name)
	}
	for name, opt := range map[string]transport.ServerOption{
		"size":        transport.WithMaxMessageSize(-1),
		"inflight":    transport.WithMaxInFlight(0),
		"calltimeout": transport.WithCallTimeout(0),
	} {
		_, err := transport.NewServerOptions(opt)
		assert.ErrorContains(t, err, "must be positive", name)
	}

	assert.NoError(t, transport.NoTLS(nil, "http://h/"))
	assert.ErrorIs(t, transport.NoTLS(&tls.Config{}, "http://h/"), transport.ErrUnsupported)
}

// dispatcher runs a few test methods.
type dispatcher struct{}

func (dispatcher) Dispatch(ctx context.Context, method string, args []any) (any, error) {
	switch method {
	case "echo":
		return args[0], nil
	case "big":
		return strings.Repeat("x", 1000), nil
	case "huge": // 10 MB of XML
		return make([]int, 400_000), nil
	case "chan":
		return make(chan int), nil
	case "wait":
		<-ctx.Done()
		return nil, ctx.Err()
	case "panic":
		panic("dispatcher bug")
	}
	return nil, transport.ErrMethodNotFound
}

func encodeCall(t *testing.T, method string, args ...any) *transport.Message {
	var m transport.Message
	require.NoError(t, xml.EncodeCall(&m, method, args))
	return &m
}

// TestDispatcherPanic: a Dispatcher of one's own that panics gives the
// caller an ErrInternal fault, with no interceptors as with them.
func TestDispatcherPanic(t *testing.T) {
	for _, opts := range [][]transport.ServerOption{nil, {transport.WithInterceptors(func(next transport.Handler) transport.Handler { return next })}} {
		o, err := transport.NewServerOptions(opts...)
		require.NoError(t, err)
		svc := transport.NewService(dispatcher{}, &o, 1)
		var reply transport.Message
		fault, refused := svc.Serve(context.Background(), xml, encodeCall(t, "panic"), &reply)
		assert.False(t, refused)
		require.NotNil(t, fault, "%d interceptors", len(opts))
		assert.ErrorIs(t, fault, transport.ErrInternal)
		assert.Contains(t, fault.Message, "dispatcher bug")
		_, err = xml.DecodeReply(&reply)
		assert.ErrorIs(t, err, transport.ErrInternal, "the caller gets the fault")
	}
}

func TestServiceServe(t *testing.T) {
	o, err := transport.NewServerOptions(transport.WithMaxMessageSize(500), transport.WithCallTimeout(50*time.Millisecond))
	require.NoError(t, err)
	svc := transport.NewService(dispatcher{}, &o, 2)
	cases := []struct {
		name    string
		req     *transport.Message
		code    int // 0: success
		refused bool
	}{
		{"ok", encodeCall(t, "echo", "hi"), 0, false},
		{"reply too large", encodeCall(t, "big"), transport.CodeTooLarge, false},
		{"result cannot be encoded", encodeCall(t, "chan"), transport.CodeInternal, false},
		{"call timeout", encodeCall(t, "wait"), transport.CodeTimeout, false},
		{"unknown", encodeCall(t, "nope"), transport.CodeMethodNotFound, false},
		{"request too large", encodeCall(t, "echo", strings.Repeat("y", 600)), transport.CodeTooLarge, true},
		{"malformed", &transport.Message{Body: []byte("<methodCall>")}, transport.CodeParse, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var reply transport.Message
			fault, refused := svc.Serve(context.Background(), xml, tc.req, &reply)
			assert.Equal(t, tc.refused, refused)
			result, err := xml.DecodeReply(&reply)
			if tc.code == 0 {
				require.NoError(t, err)
				assert.Nil(t, fault)
				assert.Equal(t, "hi", result)
				return
			}
			var re *transport.RemoteError
			require.ErrorAs(t, err, &re, "the reply carries the fault")
			assert.Equal(t, tc.code, re.Code)
			assert.Equal(t, re, fault, "Serve returns the fault it sent")
			assert.LessOrEqual(t, len(reply.Body), 500, "no reply beyond the limit")
		})
	}

	// The XML codec stops encoding a reply once it passes the limit, as
	// a ReplyLimiter; a codec that is none is checked afterwards.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var reply transport.Message
	fault, _ := svc.Serve(context.Background(), xml, encodeCall(t, "huge"), &reply)
	runtime.ReadMemStats(&after)
	require.NotNil(t, fault)
	assert.Equal(t, transport.CodeTooLarge, fault.Code)
	assert.Equal(t, "reply to huge exceeds the server's limit of 500 bytes (its WithMaxMessageSize)", fault.Message)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "the 10 MB reply was not built (the result itself is 3 MB)")
	plain := struct{ transport.Codec }{xml}
	var reply2 transport.Message
	fault, _ = svc.Serve(context.Background(), plain, encodeCall(t, "big"), &reply2)
	require.NotNil(t, fault)
	assert.Equal(t, transport.CodeTooLarge, fault.Code)
	assert.Contains(t, fault.Message, "reply of 1120 bytes to big exceeds the server's limit of 500")

	assert.Equal(t, 2, svc.MaxInFlight())
	require.True(t, svc.TryAcquire())
	require.True(t, svc.TryAcquire())
	assert.False(t, svc.TryAcquire(), "every slot taken")
	var busy transport.Message
	svc.Busy(xml, &busy)
	_, err = xml.DecodeReply(&busy)
	assert.ErrorIs(t, err, transport.ErrBusy)
	svc.Release()
	svc.Release()
	svc.Drain()
	assert.False(t, svc.TryAcquire(), "a drained service takes no call")
}

// fakeCarrier answers every message with reply (or err), after running
// on, and records what it was sent.
type fakeCarrier struct {
	mu     sync.Mutex
	sent   int
	closed int
	reply  func(req *transport.Message, reply *transport.Message) error
}

func (f *fakeCarrier) RoundTrip(_ context.Context, req, reply *transport.Message) error {
	f.mu.Lock()
	f.sent++
	f.mu.Unlock()
	return f.reply(req, reply)
}

func (f *fakeCarrier) Send(ctx context.Context, req, reply *transport.Message) error {
	return f.RoundTrip(ctx, req, reply)
}

func (f *fakeCarrier) Close() error {
	f.mu.Lock()
	f.closed++
	f.mu.Unlock()
	return nil
}

// serveWith answers like a server of dispatcher{} would.
func serveWith(svc *transport.Service) func(req, reply *transport.Message) error {
	return func(req, reply *transport.Message) error {
		svc.Serve(context.Background(), xml, req, reply)
		return nil
	}
}

func TestClientCore(t *testing.T) {
	so, err := transport.NewServerOptions()
	require.NoError(t, err)
	svc := transport.NewService(dispatcher{}, &so, 1)
	car := &fakeCarrier{reply: serveWith(svc)}
	o, err := transport.NewClientOptions(transport.WithMaxMessageSize(400))
	require.NoError(t, err)
	c := transport.NewClient(car, xml, "fake://server", &o)
	ctx := context.Background()

	var got string
	require.NoError(t, c.Call(ctx, "echo", []any{"hi"}, &got))
	assert.Equal(t, "hi", got)

	var s string
	err = c.Call(ctx, "echo", []any{"x"}, s)
	assert.ErrorContains(t, err, "reply must be a non-nil pointer")
	err = c.Call(ctx, "echo", []any{make(chan int)}, &s)
	assert.ErrorIs(t, err, transport.ErrInvalidParams, "an argument that cannot be encoded")
	err = c.Call(ctx, "echo", []any{strings.Repeat("y", 500)}, &s)
	assert.ErrorIs(t, err, transport.ErrTooLarge)
	assert.Contains(t, err.Error(), "request of")
	assert.Equal(t, 1, car.sent, "bad calls are refused before anything is sent")

	err = c.Call(ctx, "nope", nil, &s)
	assert.ErrorIs(t, err, transport.ErrMethodNotFound)
	assert.NoError(t, c.Notify(ctx, "nope", nil), "a one-way caller hears nothing of the method's faults")

	car.reply = func(_, reply *transport.Message) error {
		reply.Body = append(reply.Body, strings.Repeat(" ", 500)...)
		return nil
	}
	err = c.Call(ctx, "echo", []any{"x"}, &s)
	assert.ErrorIs(t, err, transport.ErrTooLarge, "a reply beyond the limit")

	car.reply = func(_, reply *transport.Message) error { svc.Busy(xml, reply); return nil }
	assert.ErrorIs(t, c.Notify(ctx, "echo", []any{"x"}), transport.ErrBusy, "a refused one-way message is an error")

	car.reply = func(_, _ *transport.Message) error {
		return fmt.Errorf("%w: connection reset", transport.ErrConnection)
	}
	err = c.Call(ctx, "echo", []any{"x"}, &s)
	assert.ErrorIs(t, err, transport.ErrConnection)
	assert.Contains(t, err.Error(), "rpcwire: call echo on fake://server: ")

	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	assert.Equal(t, 1, car.closed, "Close closes the carrier once")
	assert.ErrorIs(t, c.Call(ctx, "echo", []any{"x"}, &s), transport.ErrClosed)
	assert.ErrorIs(t, c.Notify(ctx, "echo", []any{"x"}), transport.ErrClosed)
}

func TestClientCoreTimeout(t *testing.T) {
	blocking := &blockingCarrier{}
	o, err := transport.NewClientOptions(transport.WithTimeout(50 * time.Millisecond))
	require.NoError(t, err)
	c := transport.NewClient(blocking, xml, "fake://server", &o)
	defer c.Close()
	start := time.Now()
	err = c.Call(context.Background(), "echo", []any{"x"}, nil)
	assert.ErrorIs(t, err, transport.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
}

// blockingCarrier waits for the context.
type blockingCarrier struct{}

func (blockingCarrier) RoundTrip(ctx context.Context, _, _ *transport.Message) error {
	<-ctx.Done()
	return ctx.Err()
}

func (b blockingCarrier) Send(ctx context.Context, req, reply *transport.Message) error {
	return b.RoundTrip(ctx, req, reply)
}

func (blockingCarrier) Close() error { return nil }
