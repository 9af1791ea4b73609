package transport_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/mem"
)

// serveAndDial serves reg on a mem:// URL and returns a client of it, for
// the examples; on any transport it is the same.
func serveAndDial(reg *registry.Registry, name string, sopts []transport.ServerOption, copts ...transport.ClientOption) (transport.Client, func()) {
	n := mem.NewNetwork()
	u, _ := url.Parse("mem://" + name)
	srv, err := n.Listen(context.Background(), u, reg, sopts...)
	if err != nil {
		panic(err)
	}
	c, err := n.Dial(context.Background(), u, copts...)
	if err != nil {
		panic(err)
	}
	return c, func() { c.Close(); srv.Close() }
}

// A caller attaches metadata to a call's context; the function reads them
// from its own, whatever the transport.
func ExampleAppendToOutgoing() {
	reg := registry.New()
	reg.MustRegister("whoami", func(ctx context.Context) string {
		md := transport.IncomingMetadata(ctx)
		return md.Get("tenant") + "/" + md.Get("x-request-id")
	})
	c, stop := serveAndDial(reg, "metadata-example", nil)
	defer stop()

	ctx := transport.AppendToOutgoing(context.Background(), "tenant", "acme", "X-Request-Id", "r-42")
	var who string
	if err := c.Call(ctx, "whoami", nil, &who); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(who)

	// Keys the transports use themselves are refused before sending.
	err := c.Call(transport.AppendToOutgoing(ctx, "content-type", "x"), "whoami", nil, &who)
	fmt.Println(err)
	// Output:
	// acme/r-42
	// rpcwire: call whoami on mem://metadata-example: rpcwire: invalid params: metadata key "content-type" is reserved for the transports (see transport.Reserved)
}

// Interceptors have one shape on both sides: here the client adds a
// request id to every call and the server logs each call with it.
func ExampleWithInterceptors() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "took" {
				return slog.Attr{} // stable output
			}
			return a
		},
	}))
	var next int
	requestID := func(h transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			next++
			return h(transport.AppendToOutgoing(ctx, "x-request-id", fmt.Sprint("r", next)), req)
		}
	}
	logCalls := func(h transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			start := time.Now()
			result, err := h(ctx, req)
			logger.Info("call", "method", req.Method, "transport", req.Transport,
				"request_id", transport.IncomingMetadata(ctx).Get("x-request-id"), "err", err, "took", time.Since(start))
			return result, err
		}
	}
	reg := registry.New()
	reg.MustRegister("fun_add", func(a, b int) int { return a + b })
	c, stop := serveAndDial(reg, "interceptor-example",
		[]transport.ServerOption{transport.WithInterceptors(logCalls)},
		transport.WithInterceptors(requestID))
	defer stop()

	var sum int
	_ = c.Call(context.Background(), "fun_add", []any{2, 3}, &sum)
	_ = c.Call(context.Background(), "fun_add", []any{2}, &sum)
	fmt.Println(sum)
	// Output:
	// level=INFO msg=call method=fun_add transport=mem request_id=r1 err=<nil>
	// level=INFO msg=call method=fun_add transport=mem request_id=r2 err="rpcwire: invalid params: fun_add takes 2 arguments, got 1"
	// 5
}

// A function with a side effect drops the duplicates at-least-once
// delivery can bring: over AMQP the correlation id stays the same when the
// broker redelivers a request whose server died before acking it. (A
// real service keeps the ids in its database, in the transaction of the
// effect, and forgets them after a while.)
func ExamplePeerFromContext() {
	var (
		mu   sync.Mutex
		done = map[string]int{} // correlation id → result
	)
	charge := func(ctx context.Context, cents int) (int, error) {
		p, _ := transport.PeerFromContext(ctx)
		if p.CorrelationID != "" {
			mu.Lock()
			defer mu.Unlock()
			if r, dup := done[p.CorrelationID]; dup {
				return r, nil // ran already: answer again, charge once
			}
		}
		r := cents // ... charge the card ...
		if p.CorrelationID != "" {
			done[p.CorrelationID] = r
		}
		return r, nil
	}
	reg := registry.New()
	reg.MustRegister("charge", charge)

	// Outside AMQP the Peer still says which transport and, over HTTP,
	// which address the call came from.
	reg.MustRegister("via", func(ctx context.Context) string {
		p, _ := transport.PeerFromContext(ctx)
		return p.Transport
	})
	c, stop := serveAndDial(reg, "peer-example", nil)
	defer stop()
	var via string
	_ = c.Call(context.Background(), "via", nil, &via)
	fmt.Println(via)
	// Output: mem
}
