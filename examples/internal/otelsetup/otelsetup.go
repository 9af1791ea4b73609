// Package otelsetup sets up OpenTelemetry for the example commands the
// way operators expect, from the standard environment variables:
//
//	OTEL_TRACES_EXPORTER  console (spans as JSON lines on the command's
//	                      stderr, so a client's stdout stays its result),
//	                      otlp (OTLP over HTTP, configured by
//	                      OTEL_EXPORTER_OTLP_ENDPOINT, ..._TRACES_ENDPOINT,
//	                      ..._HEADERS and kin), both (console,otlp), or
//	                      none; unset means none: nothing is exported
//	OTEL_SERVICE_NAME     the service.name resource attribute (with
//	                      OTEL_RESOURCE_ATTRIBUTES)
//	OTEL_PROPAGATORS      tracecontext, baggage (the default: both) or none
//	OTEL_SDK_DISABLED     true: no tracing at all
//
// Sampling follows OTEL_TRACES_SAMPLER (the SDK reads it). Metrics are
// served in the Prometheus text format when the command asks for them
// (examples/server -metrics ADDR). The commands call Shutdown on exit, so
// the last spans are flushed.
package otelsetup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/otelrpc"
)

// Telemetry is a command's OpenTelemetry setup.
type Telemetry struct {
	// Enabled says whether anything is traced or measured: without it
	// the commands add no interceptor at all.
	Enabled bool
	// Metrics serves the metrics in the Prometheus text format; nil
	// unless Config.Metrics was set.
	Metrics http.Handler

	opts     []otelrpc.Option
	props    propagation.TextMapPropagator
	shutdown []func(context.Context) error
}

// Config says what a command wants besides what the environment says.
type Config struct {
	// Service is service.name when OTEL_SERVICE_NAME is unset.
	Service string
	// SpanOutput receives the console exporter's spans (the command's
	// stderr).
	SpanOutput io.Writer
	// Metrics asks for a Prometheus registry and handler.
	Metrics bool
}

// New sets telemetry up from the environment and cfg. Call Shutdown when
// the command ends.
func New(ctx context.Context, cfg Config) (*Telemetry, error) {
	t := &Telemetry{}
	props, err := propagators(os.Getenv("OTEL_PROPAGATORS"))
	if err != nil {
		return nil, err
	}
	t.props = props
	t.opts = append(t.opts, otelrpc.WithPropagators(props))
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return t, nil
	}
	// The environment comes last: OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES win over the command's name.
	res, err := resource.New(ctx, resource.WithAttributes(semconv.ServiceName(cfg.Service)),
		resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("otel resource: %w", err)
	}
	if err := t.traces(ctx, cfg, res); err != nil {
		_ = t.Shutdown(ctx)
		return nil, err
	}
	if cfg.Metrics {
		reg := prometheus.NewRegistry()
		exp, err := otelprom.New(otelprom.WithRegisterer(reg))
		if err != nil {
			_ = t.Shutdown(ctx)
			return nil, fmt.Errorf("prometheus exporter: %w", err)
		}
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res))
		t.shutdown = append(t.shutdown, mp.Shutdown)
		t.opts = append(t.opts, otelrpc.WithMeterProvider(mp))
		t.Metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
		t.Enabled = true
	}
	return t, nil
}

// traces sets up the tracer provider OTEL_TRACES_EXPORTER asks for.
func (t *Telemetry) traces(ctx context.Context, cfg Config, res *resource.Resource) error {
	var exporters []sdktrace.SpanExporter
	for name := range strings.SplitSeq(os.Getenv("OTEL_TRACES_EXPORTER"), ",") {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "", "none":
		case "console":
			out := cfg.SpanOutput
			if out == nil {
				out = os.Stderr
			}
			exp, err := stdouttrace.New(stdouttrace.WithWriter(out))
			if err != nil {
				return fmt.Errorf("console span exporter: %w", err)
			}
			exporters = append(exporters, exp)
		case "otlp":
			if p := os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); p != "" && p != "http/protobuf" {
				return fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%s: this build exports OTLP over http/protobuf only", p)
			}
			exp, err := otlptracehttp.New(ctx)
			if err != nil {
				return fmt.Errorf("otlp span exporter: %w", err)
			}
			exporters = append(exporters, exp)
		default:
			return fmt.Errorf("OTEL_TRACES_EXPORTER=%s: want console, otlp or none", name)
		}
	}
	if len(exporters) == 0 {
		return nil
	}
	popts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	for _, exp := range exporters {
		popts = append(popts, sdktrace.WithBatcher(exp))
	}
	tp := sdktrace.NewTracerProvider(popts...)
	t.shutdown = append(t.shutdown, tp.Shutdown)
	t.opts = append(t.opts, otelrpc.WithTracerProvider(tp))
	t.Enabled = true
	return nil
}

// propagators parses OTEL_PROPAGATORS.
func propagators(v string) (propagation.TextMapPropagator, error) {
	if strings.TrimSpace(v) == "" {
		v = "tracecontext,baggage"
	}
	var list []propagation.TextMapPropagator
	for name := range strings.SplitSeq(v, ",") {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "tracecontext":
			list = append(list, propagation.TraceContext{})
		case "baggage":
			list = append(list, propagation.Baggage{})
		case "none", "":
		default:
			return nil, fmt.Errorf("OTEL_PROPAGATORS=%s: want tracecontext, baggage or none", v)
		}
	}
	return propagation.NewCompositeTextMapPropagator(list...), nil
}

// ClientOptions are the options that trace a client's calls; none when
// nothing is traced.
func (t *Telemetry) ClientOptions() []transport.ClientOption {
	if !t.Enabled {
		return nil
	}
	return []transport.ClientOption{transport.WithInterceptors(otelrpc.ClientInterceptor(t.opts...))}
}

// ServerOptions are the options that trace and measure a server's calls;
// none when nothing is traced or measured.
func (t *Telemetry) ServerOptions() []transport.ServerOption {
	if !t.Enabled {
		return nil
	}
	return []transport.ServerOption{transport.WithInterceptors(otelrpc.ServerInterceptor(t.opts...))}
}

// FromEnvironment returns ctx with the trace context and baggage of the
// environment variables TRACEPARENT, TRACESTATE and BAGGAGE (the
// OpenTelemetry convention for handing a context to a process), so a
// command's calls join its caller's trace.
func (t *Telemetry) FromEnvironment(ctx context.Context) context.Context {
	carrier := propagation.MapCarrier{}
	for _, k := range []string{"traceparent", "tracestate", "baggage"} {
		if v := os.Getenv(strings.ToUpper(k)); v != "" {
			carrier[k] = v
		}
	}
	return t.props.Extract(ctx, carrier)
}

// Shutdown flushes and stops the exporters.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	for _, f := range t.shutdown {
		errs = append(errs, f(ctx))
	}
	t.shutdown = nil
	return errors.Join(errs...)
}
