package transport_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
)

// mark records the order interceptors run in.
func mark(trace *[]string, name string) transport.Interceptor {
	return func(next transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			*trace = append(*trace, name+">"+req.Method)
			v, err := next(ctx, req)
			*trace = append(*trace, "<"+name)
			return v, err
		}
	}
}

func TestClientInterceptors(t *testing.T) {
	so, err := transport.NewServerOptions()
	require.NoError(t, err)
	svc := transport.NewService(dispatcher{}, &so, 4)
	var md transport.Metadata
	car := &fakeCarrier{reply: func(req, reply *transport.Message) error {
		md = req.Metadata
		svc.Serve(context.Background(), xml, req, reply)
		return nil
	}}
	var (
		trace []string
		seen  []transport.Request
	)
	inspect := func(next transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			seen = append(seen, *req)
			return next(transport.AppendToOutgoing(ctx, "x-added", "by interceptor"), req)
		}
	}
	failures := 1
	retry := func(next transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			v, err := next(ctx, req)
			if errors.Is(err, transport.ErrConnection) {
				v, err = next(ctx, req)
			}
			return v, err
		}
	}
	flaky := func(next transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			if req.Method == "flaky" && failures > 0 {
				failures--
				return nil, fmt.Errorf("%w: reset", transport.ErrConnection)
			}
			if req.Method == "flaky" {
				req = &transport.Request{Method: "echo", Args: req.Args}
			}
			return next(ctx, req)
		}
	}
	o, err := transport.NewClientOptions(
		transport.WithInterceptors(mark(&trace, "a"), nil, mark(&trace, "b")),
		transport.WithInterceptors(inspect, retry, flaky),
	)
	require.NoError(t, err)
	c := transport.NewClient(car, xml, "fake://server/x", &o)
	defer c.Close()

	var got string
	require.NoError(t, c.Call(context.Background(), "echo", []any{"hi"}, &got))
	assert.Equal(t, "hi", got, "Call stores the chain's result")
	assert.Equal(t, []string{"a>echo", "b>echo", "<b", "<a"}, trace, "the first interceptor is the outermost")
	require.Len(t, seen, 1)
	assert.Equal(t, transport.Request{Method: "echo", Args: []any{"hi"}, Transport: "fake", Addr: "fake://server/x"}, seen[0])
	assert.Equal(t, transport.Metadata{"x-added": "by interceptor"}, md, "an interceptor adds metadata through ctx")

	var n int
	require.NoError(t, c.Call(context.Background(), "flaky", []any{7}, &n), "the retry interceptor calls next again")
	assert.Equal(t, 7, n)
	assert.Zero(t, failures)

	seen = nil
	require.NoError(t, c.Notify(context.Background(), "echo", []any{"x"}))
	require.Len(t, seen, 1)
	assert.True(t, seen[0].OneWay)

	var s int
	err = c.Call(context.Background(), "echo", []any{"text"}, &s)
	assert.ErrorContains(t, err, "reply:", "the reply is assigned after the chain")

	require.NoError(t, c.Close())
	assert.ErrorIs(t, c.Call(context.Background(), "echo", []any{"x"}, &got), transport.ErrClosed)
}

func TestServerInterceptors(t *testing.T) {
	var (
		trace []string
		reqs  []transport.Request
	)
	deny := func(next transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			reqs = append(reqs, *req)
			switch req.Method {
			case "secret":
				if transport.IncomingMetadata(ctx).Get("token") != "let-me-in" {
					return nil, fmt.Errorf("%w: no token", transport.ErrUnauthorized)
				}
				return "the secret", nil
			case "boom":
				panic("interceptor bug")
			}
			return next(ctx, req)
		}
	}
	so, err := transport.NewServerOptions(transport.WithInterceptors(mark(&trace, "a"), deny))
	require.NoError(t, err)
	svc := transport.NewService(dispatcher{}, &so, 4)
	serve := func(ctx context.Context, req *transport.Message) (any, error) {
		var reply transport.Message
		svc.Serve(transport.NewPeerContext(ctx, transport.Peer{Transport: "mem"}), xml, req, &reply)
		return xml.DecodeReply(&reply)
	}

	got, err := serve(context.Background(), encodeCall(t, "echo", "hi"))
	require.NoError(t, err)
	assert.Equal(t, "hi", got)
	assert.Equal(t, []string{"a>echo", "<a"}, trace)
	assert.Equal(t, transport.Request{Method: "echo", Args: []any{"hi"}, Transport: "mem"}, reqs[0])

	_, err = serve(context.Background(), encodeCall(t, "secret"))
	assert.ErrorContains(t, err, "no token", "a fault from an interceptor reaches the caller")
	req := encodeCall(t, "secret")
	req.Metadata = transport.Metadata{"token": "let-me-in"}
	got, err = serve(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, "the secret", got, "interceptors read the incoming metadata")

	_, err = serve(context.Background(), encodeCall(t, "boom"))
	assert.ErrorIs(t, err, transport.ErrInternal, "a panicking interceptor is a fault, not a crash")
	assert.ErrorContains(t, err, "interceptor bug")

	reqs = nil
	call, fault := svc.Decode(xml, encodeCall(t, "echo", "one-way"))
	require.Nil(t, fault)
	assert.Nil(t, svc.Run(context.Background(), xml, call, nil))
	require.Len(t, reqs, 1)
	assert.True(t, reqs[0].OneWay, "a one-way call is marked")
	assert.Empty(t, reqs[0].Transport, "no Peer, no transport")
}

func TestChain(t *testing.T) {
	h := func(context.Context, *transport.Request) (any, error) { return 1, nil }
	v, err := transport.Chain(h)(context.Background(), &transport.Request{})
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	var trace []string
	_, _ = transport.Chain(h, nil, mark(&trace, "x"), nil)(context.Background(), &transport.Request{Method: "m"})
	assert.Equal(t, []string{"x>m", "<x"}, trace)
}
