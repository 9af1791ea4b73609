// Package otelrpc traces and measures rpcwire calls with OpenTelemetry:
// a client and a server interceptor (transport.Interceptor) that create a
// span per call, propagate the trace context in the call's metadata and
// record call durations and calls in flight. It is a package of its own
// so that programs that do not use OpenTelemetry do not link it.
//
//	c, _ := rpcwire.Dial(ctx, url, transport.WithInterceptors(otelrpc.ClientInterceptor()))
//	srv, _ := rpcwire.Listen(ctx, url, reg, transport.WithInterceptors(otelrpc.ServerInterceptor()))
//
// By default the interceptors use the global TracerProvider,
// MeterProvider and TextMapPropagator (otel.SetTracerProvider and kin),
// which do nothing until a program sets them; WithTracerProvider,
// WithMeterProvider and WithPropagators choose others.
//
// # Spans
//
// Spans follow the OpenTelemetry semantic conventions for RPC (semconv
// v1.43.0): the span is named after the method (rpc.method), of kind
// client or server, with
//
//   - rpc.system.name: "xmlrpc" for XML-RPC over HTTP (http://, https://),
//     which any XML-RPC peer speaks; "rpcwire" for rpcwire's own RPC over
//     AMQP and in memory (the conventions list no value for either);
//   - rpc.method, and "_OTHER" with rpc.method_original when the server
//     has no such method (so unknown names do not blow up cardinality);
//   - rpc.response.status_code: a fault's code, e.g. "-32602";
//   - error.type: a fault's code, or for a failure without one the kind of
//     transport error (timeout, canceled, no_server, connection, closed,
//     busy, too_large, unauthorized, invalid_params, _OTHER); span status
//     Error with the error's text;
//   - server.address and server.port (client spans), client.address and
//     client.port (HTTP server spans, from the transport.Peer);
//   - rpcwire.transport: the URL scheme (mem, http, https, amqp, amqps).
//
// Over AMQP spans carry the messaging conventions' attributes too:
// messaging.system "rabbitmq", messaging.destination.name and
// messaging.rabbitmq.destination.routing_key (the request queue),
// messaging.operation.type "send" on the client and "process" on the
// server, and on the server messaging.message.conversation_id (the
// correlation id) and messaging.message.id when set. They stay CLIENT and
// SERVER spans: the call is a request and its reply.
//
// # Propagation
//
// The client interceptor injects the span's context with the
// propagators (W3C traceparent and tracestate, and baggage, with the
// usual global setup) into the call's outgoing metadata, which travel as
// HTTP header fields or AMQP message headers; the server interceptor
// extracts them from the incoming metadata, so its span is the client
// span's child, across HTTP and RabbitMQ hops alike. A foreign caller
// that sends a traceparent (an HTTP header, an AMQP header from pika)
// becomes the parent of the server span the same way.
//
// # Metrics
//
//   - rpc.client.call.duration and rpc.server.call.duration: histograms in
//     seconds, as the RPC conventions name them, with rpc.system.name,
//     rpc.method, rpcwire.transport and, for failed calls, error.type
//     (client: also server.address and server.port). Failed calls count
//     like the others. Prometheus shows them as
//     rpc_server_call_duration_seconds_bucket, _sum and _count.
//   - rpcwire.client.active_calls and rpcwire.server.active_calls:
//     UpDownCounters of the calls in flight, by rpc.system.name and
//     rpcwire.transport (client: also server.address and server.port);
//     not by method, which a server learns is unknown only after
//     counting the call. The RPC conventions define no
//     such instrument, so the name is in rpcwire's namespace (shaped like
//     HTTP's http.server.active_requests).
package otelrpc

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/rpcconv"
	"go.opentelemetry.io/otel/trace"

	"github.com/rpcwire/rpcwire/transport"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/rpcwire/rpcwire/transport/otelrpc"

// Attribute keys of rpcwire's own.
const (
	// TransportKey is the URL scheme of the call's transport.
	TransportKey = attribute.Key("rpcwire.transport")
)

// Option configures the interceptors.
type Option func(*config)

type config struct {
	tp    trace.TracerProvider
	mp    metric.MeterProvider
	props propagation.TextMapPropagator
}

// WithTracerProvider sets the TracerProvider spans come from (default:
// otel.GetTracerProvider()).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider sets the MeterProvider of the metrics (default:
// otel.GetMeterProvider()).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithPropagators sets the propagators that carry the trace context in
// the metadata (default: otel.GetTextMapPropagator()).
func WithPropagators(p propagation.TextMapPropagator) Option {
	return func(c *config) { c.props = p }
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if c.props == nil {
		c.props = otel.GetTextMapPropagator()
	}
	return c
}

// instruments are one side's tracer and metrics.
type instruments struct {
	tracer   trace.Tracer
	props    propagation.TextMapPropagator
	duration metric.Float64Histogram
	active   metric.Int64UpDownCounter
	sets     sync.Map // transport scheme → attribute.Set of the server's calls in flight
}

// durationHistogram makes a histogram named and described as the
// conventions say, from rpcconv's constructor.
type durationHistogram interface {
	Inst() metric.Float64Histogram
}

func newInstruments(c config, side string) *instruments {
	meter := c.mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	in := &instruments{
		tracer: c.tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		props:  c.props,
	}
	var (
		h   durationHistogram
		err error
	)
	if side == "client" {
		h, err = rpcconv.NewClientCallDuration(meter)
	} else {
		h, err = rpcconv.NewServerCallDuration(meter)
	}
	handle(err)
	in.duration = h.Inst()
	in.active, err = meter.Int64UpDownCounter("rpcwire."+side+".active_calls",
		metric.WithUnit("{call}"), metric.WithDescription("Number of "+side+" calls in flight."))
	handle(err)
	return in
}

// handle reports an error creating an instrument to OpenTelemetry's error
// handler; the instrument then records nothing.
func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

// ClientInterceptor returns an interceptor for transport.WithInterceptors
// on Dial: a client span per call, the trace context in the call's
// metadata, and the client metrics.
func ClientInterceptor(opts ...Option) transport.Interceptor {
	in := newInstruments(newConfig(opts), "client")
	var targets sync.Map // Request.Addr → *target
	return func(next transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			tg := lookupTarget(&targets, req)
			attrs := append(make([]attribute.KeyValue, 0, len(tg.span)+2), tg.span...)
			attrs = append(attrs, semconv.RPCMethod(req.Method))
			ctx, span := in.tracer.Start(ctx, req.Method, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
			var out pairs
			in.props.Inject(ctx, &out)
			if len(out) > 0 {
				ctx = transport.AppendToOutgoing(ctx, out...)
			}
			return in.observe(ctx, span, req, tg.metric, tg.active, func(ctx context.Context) (any, error) { return next(ctx, req) })
		}
	}
}

// ServerInterceptor returns an interceptor for transport.WithInterceptors
// on Listen: a server span per call, child of the trace context the
// caller sent in its metadata, and the server metrics.
func ServerInterceptor(opts ...Option) transport.Interceptor {
	in := newInstruments(newConfig(opts), "server")
	return func(next transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			p, _ := transport.PeerFromContext(ctx)
			ctx = in.props.Extract(ctx, incoming{ctx})
			system := systemName(p.Transport)
			metricAttrs := []attribute.KeyValue{semconv.RPCSystemNameKey.String(system), TransportKey.String(p.Transport)}
			attrs := append(make([]attribute.KeyValue, 0, 12), metricAttrs...)
			attrs = append(attrs, semconv.RPCMethod(req.Method))
			switch p.Transport {
			case "http", "https":
				if host, port, err := net.SplitHostPort(p.Addr); err == nil {
					attrs = append(attrs, semconv.ClientAddress(host))
					if n, err := strconv.Atoi(port); err == nil {
						attrs = append(attrs, semconv.ClientPort(n))
					}
				}
			case "amqp", "amqps":
				attrs = append(attrs, semconv.MessagingSystemRabbitMQ, semconv.MessagingOperationTypeProcess,
					semconv.MessagingDestinationName(p.Queue), semconv.MessagingRabbitMQDestinationRoutingKey(p.Queue))
				if p.CorrelationID != "" {
					attrs = append(attrs, semconv.MessagingMessageConversationID(p.CorrelationID))
				}
				if p.MessageID != "" {
					attrs = append(attrs, semconv.MessagingMessageID(p.MessageID))
				}
			}
			ctx, span := in.tracer.Start(ctx, req.Method, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
			return in.observe(ctx, span, req, metricAttrs, in.activeSet(p.Transport, metricAttrs), func(ctx context.Context) (any, error) { return next(ctx, req) })
		}
	}
}

// pairs is a propagation.TextMapCarrier the client interceptor injects
// into: key/value pairs for transport.AppendToOutgoing, without copying
// the call's other metadata.
type pairs []string

func (p *pairs) Get(string) string     { return "" }
func (p *pairs) Set(key, value string) { *p = append(*p, key, value) }
func (p *pairs) Keys() []string        { return nil }

// incoming is a propagation.TextMapCarrier reading a served call's
// metadata without copying them.
type incoming struct{ ctx context.Context }

func (c incoming) Get(key string) string { return transport.IncomingValue(c.ctx, key) }
func (c incoming) Set(string, string)    {}
func (c incoming) Keys() []string        { return transport.IncomingMetadata(c.ctx).Keys() }

// activeSet returns the attributes of a server's calls in flight over a
// transport, base, made into a set once per transport.
func (in *instruments) activeSet(transport string, base []attribute.KeyValue) attribute.Set {
	if s, ok := in.sets.Load(transport); ok {
		return s.(attribute.Set)
	}
	s, _ := in.sets.LoadOrStore(transport, attribute.NewSet(base...))
	return s.(attribute.Set)
}

// observe runs a call in its span, counting it in flight (activeSet: the
// attributes base as a set), and records its outcome on the span and its
// duration.
func (in *instruments) observe(ctx context.Context, span trace.Span, req *transport.Request, base []attribute.KeyValue,
	activeSet attribute.Set, call func(context.Context) (any, error)) (any, error) {
	method := semconv.RPCMethod(req.Method)
	// In flight by transport only: a server counts a call before it knows
	// whether its method exists, and a caller's made-up names must not
	// become series.
	active := metric.WithAttributeSet(activeSet)
	in.active.Add(ctx, 1, active)
	start := time.Now()
	result, err := call(ctx)
	elapsed := time.Since(start).Seconds()
	in.active.Add(ctx, -1, active)
	attrs := append(make([]attribute.KeyValue, 0, len(base)+2), base...)
	if err != nil {
		if errors.Is(err, transport.ErrMethodNotFound) {
			// Not a method of the server's: a name of the caller's
			// choosing, kept out of metric labels and span names.
			method = semconv.RPCMethod("_OTHER")
			span.SetName(systemOf(base))
			span.SetAttributes(method, semconv.RPCMethodOriginal(req.Method))
		}
		errType, code := classify(err)
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
		if code != "" {
			span.SetAttributes(semconv.RPCResponseStatusCode(code))
		}
		span.SetAttributes(semconv.ErrorTypeKey.String(errType))
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
	in.duration.Record(ctx, elapsed, metric.WithAttributeSet(attribute.NewSet(append(attrs, method)...)))
	return result, err
}

// systemOf returns the rpc.system.name among attrs.
func systemOf(attrs []attribute.KeyValue) string {
	for _, a := range attrs {
		if a.Key == semconv.RPCSystemNameKey {
			return a.Value.AsString()
		}
	}
	return "rpcwire"
}

// systemName is rpc.system.name for a transport: XML-RPC over HTTP, and
// rpcwire's own RPC over AMQP and in memory.
func systemName(scheme string) string {
	switch scheme {
	case "http", "https":
		return "xmlrpc"
	}
	return "rpcwire"
}

// classify returns error.type for err and, for a fault, its code.
func classify(err error) (errType, code string) {
	var fault *transport.RemoteError
	if errors.As(err, &fault) {
		c := strconv.Itoa(fault.Code)
		return c, c
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			if k.fault {
				// A server-side error the server sends as this fault.
				c := strconv.Itoa(transport.ToRemote(err).Code)
				return c, c
			}
			return k.name, ""
		}
	}
	return "_OTHER", ""
}

var errorKinds = []struct {
	err   error
	name  string
	fault bool // on a server, the fault the error becomes
}{
	{transport.ErrTimeout, "timeout", false},
	{context.DeadlineExceeded, "timeout", false},
	{context.Canceled, "canceled", false},
	{transport.ErrNoServer, "no_server", false},
	{transport.ErrConnection, "connection", false},
	{transport.ErrClosed, "closed", false},
	{transport.ErrBusy, "busy", false},
	{transport.ErrTooLarge, "too_large", false},
	{transport.ErrUnauthorized, "unauthorized", false},
	{transport.ErrMethodNotFound, "", true},
	{transport.ErrInvalidParams, "", true},
	{transport.ErrParse, "", true},
	{transport.ErrInternal, "", true},
}

// target is what a client span says of the server a client calls,
// worked out once per address.
type target struct {
	span   []attribute.KeyValue // the span's attributes
	metric []attribute.KeyValue // the metrics' (no queue)
	active attribute.Set        // metric as a set, for the calls in flight
}

func lookupTarget(cache *sync.Map, req *transport.Request) *target {
	key := req.Addr // the client's URL; Transport is its scheme
	if t, ok := cache.Load(key); ok {
		return t.(*target)
	}
	t := &target{}
	base := []attribute.KeyValue{semconv.RPCSystemNameKey.String(systemName(req.Transport)), TransportKey.String(req.Transport)}
	if u, err := url.Parse(req.Addr); err == nil && u.Host != "" {
		base = append(base, semconv.ServerAddress(u.Hostname()))
		if n, err := strconv.Atoi(u.Port()); err == nil {
			base = append(base, semconv.ServerPort(n))
		}
	}
	t.metric = base
	t.active = attribute.NewSet(base...)
	t.span = base
	if req.Transport == "amqp" || req.Transport == "amqps" {
		q := "rpc_queue"
		if u, err := url.Parse(req.Addr); err == nil && u.Query().Get("queue") != "" {
			q = u.Query().Get("queue")
		}
		t.span = append(append([]attribute.KeyValue{}, base...), semconv.MessagingSystemRabbitMQ, semconv.MessagingOperationTypeSend,
			semconv.MessagingDestinationName(q), semconv.MessagingRabbitMQDestinationRoutingKey(q))
	}
	actual, _ := cache.LoadOrStore(key, t)
	return actual.(*target)
}
