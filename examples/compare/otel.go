package main

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/otelrpc"
)

// otelSuffix labels the rows measured with OpenTelemetry on.
const otelSuffix = "+otel"

// discardSpans is a span exporter that drops what it gets: the cost
// measured is the SDK's (spans, batching, metrics), not an exporter's I/O.
type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }

// telemetry is what -otel turns on: real SDK providers, every span
// sampled and batched to discardSpans, metrics aggregated by a reader
// nobody collects, W3C trace context and baggage in the metadata.
type telemetry struct {
	client []transport.ClientOption
	server []transport.ServerOption
}

// newTelemetry sets the providers up and registers their shutdown with e.
func newTelemetry(e *env) *telemetry {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardSpans{}), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	e.onClose("OpenTelemetry providers", func(ctx context.Context) error {
		if err := tp.Shutdown(ctx); err != nil {
			return fmt.Errorf("tracer provider: %w", err)
		}
		return mp.Shutdown(ctx)
	})
	opts := []otelrpc.Option{
		otelrpc.WithTracerProvider(tp),
		otelrpc.WithMeterProvider(mp),
		otelrpc.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
	}
	return &telemetry{
		client: []transport.ClientOption{transport.WithInterceptors(otelrpc.ClientInterceptor(opts...))},
		server: []transport.ServerOption{transport.WithInterceptors(otelrpc.ServerInterceptor(opts...))},
	}
}
