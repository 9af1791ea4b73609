package otelrpc_test

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/rpcwire/rpcwire"
	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/otelrpc"
)

// Trace calls on both sides. A program usually sets the global providers
// and propagator once (otel.SetTracerProvider, ...) and passes no options;
// here the spans go to memory so the example can print them.
func Example() {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())
	opts := []otelrpc.Option{
		otelrpc.WithTracerProvider(tp),
		otelrpc.WithPropagators(propagation.TraceContext{}),
	}

	ctx := context.Background()
	srv, err := rpcwire.Listen(ctx, "mem://otelrpc-example", funcs.NewRegistry(),
		transport.WithInterceptors(otelrpc.ServerInterceptor(opts...)))
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := rpcwire.Dial(ctx, srv.Addr(), transport.WithInterceptors(otelrpc.ClientInterceptor(opts...)))
	if err != nil {
		panic(err)
	}
	defer c.Close()

	n, err := rpcwire.Call[int](ctx, c, "fib", 7)
	fmt.Println(n, err)
	got := spans.GetSpans()
	server, client := got[0], got[1] // ended in this order
	fmt.Println(client.Name, client.SpanKind, server.Name, server.SpanKind)
	fmt.Println("same trace:", client.SpanContext.TraceID() == server.SpanContext.TraceID())
	fmt.Println("server's parent is the client span:", server.Parent.SpanID() == client.SpanContext.SpanID())
	// Output:
	// 13 <nil>
	// fib client fib server
	// same trace: true
	// server's parent is the client span: true
}
