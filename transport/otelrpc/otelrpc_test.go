package otelrpc_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/rpcwire/rpcwire"
	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/internal/testenv"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/otelrpc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// telemetry is an SDK set up for one test: spans in memory, metrics read
// on demand, W3C trace context and baggage.
type telemetry struct {
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
	opts   []otelrpc.Option
}

func newTelemetry(t *testing.T) *telemetry {
	tel := &telemetry{spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tel.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	tel.opts = []otelrpc.Option{
		otelrpc.WithTracerProvider(tp),
		otelrpc.WithMeterProvider(mp),
		otelrpc.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
	}
	return tel
}

// serve serves reg at rawURL with the server interceptor and returns a
// client of it with the client interceptor (none when client is false),
// both closed when the test ends.
func (tel *telemetry) serve(t *testing.T, rawURL string, reg transport.Dispatcher, client bool) transport.Client {
	t.Helper()
	srv, err := rpcwire.Listen(ctxT(t), rawURL, reg, transport.WithInterceptors(otelrpc.ServerInterceptor(tel.opts...)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	var copts []transport.ClientOption
	if client {
		copts = append(copts, transport.WithInterceptors(otelrpc.ClientInterceptor(tel.opts...)))
	}
	c, err := rpcwire.Dial(ctxT(t), srv.Addr(), copts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// listenURL is where a test server of the scheme listens.
func listenURL(t *testing.T, scheme string) string {
	switch scheme {
	case "mem":
		return "mem://otelrpc-" + t.Name()
	case "http":
		return "http://127.0.0.1:0/"
	}
	u, err := url.Parse(testenv.URL(t))
	require.NoError(t, err)
	q := u.Query()
	q.Set("queue", fmt.Sprintf("otelrpc_test_%d", time.Now().UnixNano()))
	q.Set("auto_delete", "true")
	u.RawQuery = q.Encode()
	return u.String()
}

func attrs(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// TestTraceAcrossTransports: a Go client calling a Go server over each
// transport makes one trace: the client span, and the server span its
// child, with the conventions' attributes; baggage crosses too.
func TestTraceAcrossTransports(t *testing.T) {
	for _, scheme := range []string{"mem", "http", "amqp"} {
		t.Run(scheme, func(t *testing.T) {
			tel := newTelemetry(t)
			reg := funcs.NewRegistry()
			gotBaggage := make(chan string, 1)
			reg.MustRegister("whoami", func(ctx context.Context) string {
				gotBaggage <- baggage.FromContext(ctx).Member("tenant").Value()
				return trace.SpanContextFromContext(ctx).TraceID().String()
			})
			c := tel.serve(t, listenURL(t, scheme), reg, true)

			member, err := baggage.NewMember("tenant", "acme")
			require.NoError(t, err)
			bag, err := baggage.New(member)
			require.NoError(t, err)
			ctx := baggage.ContextWithBaggage(ctxT(t), bag)
			traceID, err := rpcwire.Call[string](ctx, c, "whoami")
			require.NoError(t, err)
			assert.Equal(t, "acme", <-gotBaggage, "baggage reaches the function")

			spans := tel.spans.GetSpans()
			require.Len(t, spans, 2, "one client and one server span")
			var client, server tracetest.SpanStub
			for _, s := range spans {
				switch s.SpanKind {
				case trace.SpanKindClient:
					client = s
				case trace.SpanKindServer:
					server = s
				}
			}
			require.True(t, client.SpanContext.IsValid() && server.SpanContext.IsValid(), "%v", spans)
			assert.Equal(t, client.SpanContext.TraceID(), server.SpanContext.TraceID(), "one trace")
			assert.Equal(t, client.SpanContext.SpanID(), server.Parent.SpanID(), "the server span is the client span's child")
			assert.True(t, server.Parent.IsRemote())
			assert.Equal(t, client.SpanContext.TraceID().String(), traceID, "the function runs in the server span's trace")
			assert.Equal(t, "whoami", client.Name)
			assert.Equal(t, "whoami", server.Name)

			ca, sa := attrs(client.Attributes), attrs(server.Attributes)
			system := map[string]string{"mem": "rpcwire", "http": "xmlrpc", "amqp": "rpcwire"}[scheme]
			for _, a := range []map[attribute.Key]attribute.Value{ca, sa} {
				assert.Equal(t, system, a["rpc.system.name"].AsString())
				assert.Equal(t, "whoami", a["rpc.method"].AsString())
				assert.Equal(t, scheme, a["rpcwire.transport"].AsString())
			}
			switch scheme {
			case "http":
				assert.Equal(t, "127.0.0.1", ca["server.address"].AsString())
				assert.Positive(t, ca["server.port"].AsInt64())
				assert.Equal(t, "127.0.0.1", sa["client.address"].AsString())
			case "amqp":
				for _, a := range []map[attribute.Key]attribute.Value{ca, sa} {
					assert.Equal(t, "rabbitmq", a["messaging.system"].AsString())
					assert.NotEmpty(t, a["messaging.destination.name"].AsString())
				}
				assert.Equal(t, "send", ca["messaging.operation.type"].AsString())
				assert.Equal(t, "process", sa["messaging.operation.type"].AsString())
				assert.NotEmpty(t, sa["messaging.message.conversation_id"].AsString(), "the correlation id")
			}
		})
	}
}

// TestErrorsAndMetrics: failed calls are spans with status Error and
// error.type, and every call, failed or not, counts in the duration
// histograms; unknown methods are _OTHER.
func TestErrorsAndMetrics(t *testing.T) {
	tel := newTelemetry(t)
	c := tel.serve(t, "mem://otelrpc-metrics", funcs.NewRegistry(), true)

	for range 3 {
		_, err := rpcwire.Call[int](ctxT(t), c, "fib", 7)
		require.NoError(t, err)
	}
	_, err := rpcwire.Call[int](ctxT(t), c, "fib", -1)
	require.ErrorIs(t, err, transport.ErrInvalidParams)
	_, err = rpcwire.Call[int](ctxT(t), c, "no_such_method")
	require.ErrorIs(t, err, transport.ErrMethodNotFound)

	var failed []tracetest.SpanStub
	for _, s := range tel.spans.GetSpans() {
		if s.Status.Code == codes.Error {
			failed = append(failed, s)
		}
	}
	require.Len(t, failed, 4, "two failed calls, a client and a server span each")
	for _, s := range failed {
		a := attrs(s.Attributes)
		switch a["rpc.method"].AsString() {
		case "fib":
			assert.Equal(t, "-32602", a["error.type"].AsString())
			assert.Equal(t, "-32602", a["rpc.response.status_code"].AsString())
		case "_OTHER":
			assert.Equal(t, "no_such_method", a["rpc.method_original"].AsString())
			assert.Equal(t, "rpcwire", s.Name, "an unknown method does not name the span")
		default:
			t.Errorf("unexpected failed span %s %v", s.Name, a)
		}
	}

	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	counts := map[string]uint64{} // instrument method error.type → count
	active := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		assert.Equal(t, otelrpc.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			switch data := m.Data.(type) {
			case metricdata.Histogram[float64]:
				assert.Equal(t, "s", m.Unit)
				for _, dp := range data.DataPoints {
					method, _ := dp.Attributes.Value("rpc.method")
					et, _ := dp.Attributes.Value("error.type")
					counts[m.Name+" "+method.AsString()+" "+et.AsString()] += dp.Count
				}
			case metricdata.Sum[int64]:
				for _, dp := range data.DataPoints {
					active[m.Name] += dp.Value
				}
			}
		}
	}
	assert.Equal(t, map[string]uint64{
		"rpc.client.call.duration fib ":          3,
		"rpc.client.call.duration fib -32602":    1,
		"rpc.client.call.duration _OTHER -32601": 1,
		"rpc.server.call.duration fib ":          3,
		"rpc.server.call.duration fib -32602":    1,
		"rpc.server.call.duration _OTHER -32601": 1,
	}, counts)
	assert.Equal(t, map[string]int64{"rpcwire.client.active_calls": 0, "rpcwire.server.active_calls": 0}, active, "no call in flight")
}

// TestForeignTraceparent: a traceparent a caller puts in the metadata
// itself (as a foreign caller's header arrives) is the server span's parent.
func TestForeignTraceparent(t *testing.T) {
	tel := newTelemetry(t)
	c := tel.serve(t, "mem://otelrpc-foreign", funcs.NewRegistry(), false)
	ctx := transport.AppendToOutgoing(ctxT(t), "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	_, err := rpcwire.Call[int](ctx, c, "fib", 3)
	require.NoError(t, err)
	spans := tel.spans.GetSpans()
	require.Len(t, spans, 1)
	assert.Equal(t, "0af7651916cd43dd8448eb211c80319c", spans[0].SpanContext.TraceID().String())
	assert.Equal(t, "b7ad6b7169203331", spans[0].Parent.SpanID().String())
}

// TestClientErrorTypes: transport failures without a fault are named.
func TestClientErrorTypes(t *testing.T) {
	tel := newTelemetry(t)
	c, err := rpcwire.Dial(ctxT(t), "mem://otelrpc-nobody", transport.WithInterceptors(otelrpc.ClientInterceptor(tel.opts...)))
	require.NoError(t, err)
	defer c.Close()
	err = c.Call(ctxT(t), "fib", []any{1}, nil)
	require.ErrorIs(t, err, transport.ErrNoServer)
	spans := tel.spans.GetSpans()
	require.Len(t, spans, 1)
	assert.Equal(t, "no_server", attrs(spans[0].Attributes)["error.type"].AsString())
	assert.True(t, errors.Is(err, transport.ErrNoServer))
}
