package transport_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
)

func TestOutgoingMetadata(t *testing.T) {
	ctx := context.Background()
	assert.Nil(t, transport.OutgoingMetadata(ctx), "none by default")

	ctx = transport.NewOutgoingContext(ctx, transport.Metadata{"Tenant": "acme", "x-request-id": "r1"})
	ctx2 := transport.AppendToOutgoing(ctx, "X-Request-Id", "r2", "k", "v")
	ctx3 := transport.AppendToOutgoing(ctx2, "k", "w")
	assert.Equal(t, transport.Metadata{"tenant": "acme", "x-request-id": "r1"}, transport.OutgoingMetadata(ctx),
		"keys lower-cased; appending leaves the parent alone")
	assert.Equal(t, transport.Metadata{"tenant": "acme", "x-request-id": "r2", "k": "v"}, transport.OutgoingMetadata(ctx2))
	assert.Equal(t, transport.Metadata{"tenant": "acme", "x-request-id": "r2", "k": "w"}, transport.OutgoingMetadata(ctx3),
		"a later value replaces an earlier one")

	md := transport.OutgoingMetadata(ctx3)
	md["k"] = "changed"
	assert.Equal(t, "w", transport.OutgoingMetadata(ctx3)["k"], "OutgoingMetadata returns a copy")

	replaced := transport.NewOutgoingContext(ctx3, transport.Metadata{"only": "this"})
	assert.Equal(t, transport.Metadata{"only": "this"}, transport.OutgoingMetadata(replaced), "NewOutgoingContext replaces")

	odd := transport.AppendToOutgoing(context.Background(), "a", "1", "dangling")
	assert.Equal(t, transport.Metadata{"a": "1"}, transport.OutgoingMetadata(odd), "the complete pairs")
}

func TestMetadataMethods(t *testing.T) {
	md := transport.Metadata{}
	md.Set("TraceParent", "00-abc")
	assert.Equal(t, "00-abc", md.Get("traceparent"))
	assert.Equal(t, "00-abc", md.Get("Traceparent"))
	assert.Equal(t, "", md.Get("nope"))
	md.Set("b", "2")
	assert.Equal(t, []string{"b", "traceparent"}, md.Keys())
	assert.Nil(t, transport.Metadata{}.Copy())
	var nilMD transport.Metadata
	assert.Equal(t, "", nilMD.Get("x"), "a nil Metadata reads as empty")
}

func TestMetadataRules(t *testing.T) {
	for _, k := range []string{"x-request-id", "traceparent", "a", "k!#$%&'*+-.^_`|~9"} {
		assert.True(t, transport.ValidKey(k), k)
	}
	for _, k := range []string{"", "Upper", "with space", "colon:", "é", "a\nb"} {
		assert.False(t, transport.ValidKey(k), k)
	}
	for _, v := range []string{"", "plain", "tab\tinside", "héllo 世界", "a,b;c=d"} {
		assert.True(t, transport.ValidValue(v), v)
	}
	for _, v := range []string{" lead", "trail ", "\ttab", "cr\rlf", "nl\n", "nul\x00", "del\x7f", "\xff", "c1\u0085"} {
		assert.False(t, transport.ValidValue(v), "%q", v)
	}
	for _, k := range []string{"host", "content-type", "content-length", "authorization", "proxy-authorization",
		"x-rpcwire-timeout", "x-rpcwire-oneway", "idempotency-key", "x-deadline", "x-fault-code", "x-type",
		"accept", "accept-encoding", "user-agent", "connection", "te", "transfer-encoding", "x-death", "x-first-death-queue"} {
		assert.True(t, transport.Reserved(k), k)
	}
	for _, k := range []string{"traceparent", "tracestate", "baggage", "x-request-id", "tenant", "x-forwarded-for"} {
		assert.False(t, transport.Reserved(k), k)
	}
}

type otherKey struct{}

func TestPeerContext(t *testing.T) {
	_, ok := transport.PeerFromContext(context.Background())
	assert.False(t, ok)
	p := transport.Peer{Transport: "amqp", Addr: "amq.gen-1", User: "svc", Queue: "q", CorrelationID: "c1", Redelivered: true}
	ctx := transport.NewPeerContext(context.Background(), p)
	got, ok := transport.PeerFromContext(ctx)
	require.True(t, ok)
	assert.Equal(t, p, got)

	// A derived context keeps it, and cancellation still propagates.
	child, cancel := context.WithCancel(context.WithValue(ctx, otherKey{}, 1))
	got, ok = transport.PeerFromContext(child)
	assert.True(t, ok)
	assert.Equal(t, p, got)
	cancel()
	<-child.Done()

	in := transport.NewIncomingContext(ctx, transport.Metadata{"a": "1"})
	assert.Equal(t, transport.Metadata{"a": "1"}, transport.IncomingMetadata(in))
	got, ok = transport.PeerFromContext(in)
	assert.True(t, ok, "the incoming context passes other values through")
	assert.Equal(t, p, got)
	assert.Nil(t, transport.IncomingMetadata(ctx))
}

// recordingDispatcher reports what each call saw in its context.
type recordingDispatcher struct {
	md   chan transport.Metadata
	peer chan transport.Peer
}

func (d recordingDispatcher) Dispatch(ctx context.Context, method string, args []any) (any, error) {
	d.md <- transport.IncomingMetadata(ctx)
	p, _ := transport.PeerFromContext(ctx)
	d.peer <- p
	return "ok", nil
}

// TestMetadataThroughCore: the client core checks and sends a call's
// metadata; the Service puts them in the function's context.
func TestMetadataThroughCore(t *testing.T) {
	d := recordingDispatcher{md: make(chan transport.Metadata, 10), peer: make(chan transport.Peer, 10)}
	so, err := transport.NewServerOptions()
	require.NoError(t, err)
	svc := transport.NewService(d, &so, 4)
	var sent transport.Metadata
	car := &fakeCarrier{reply: func(req, reply *transport.Message) error {
		sent = req.Metadata
		ctx := transport.NewPeerContext(context.Background(), transport.Peer{Transport: "fake"})
		svc.Serve(ctx, xml, req, reply)
		return nil
	}}
	co, err := transport.NewClientOptions()
	require.NoError(t, err)
	c := transport.NewClient(car, xml, "fake://server", &co)
	defer c.Close()

	ctx := transport.AppendToOutgoing(context.Background(), "X-Request-Id", "r-1", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	require.NoError(t, c.Call(ctx, "m", nil, nil))
	want := transport.Metadata{"x-request-id": "r-1", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	assert.Equal(t, want, sent, "the carrier gets them in the message")
	assert.Equal(t, want, <-d.md, "the function reads them")
	assert.Equal(t, transport.Peer{Transport: "fake"}, <-d.peer)

	require.NoError(t, c.Call(context.Background(), "m", nil, nil))
	assert.Nil(t, sent, "no metadata, no map")
	assert.Nil(t, <-d.md)
	<-d.peer

	bad := []struct {
		name string
		ctx  context.Context
		is   error
		text string
	}{
		{"odd", transport.AppendToOutgoing(context.Background(), "a", "1", "b"), transport.ErrInvalidParams, "odd number"},
		{"reserved", transport.AppendToOutgoing(context.Background(), "Content-Type", "x"), transport.ErrInvalidParams, "reserved"},
		{"authorization", transport.AppendToOutgoing(context.Background(), "authorization", "Basic eA=="), transport.ErrInvalidParams, "reserved"},
		{"bad key", transport.AppendToOutgoing(context.Background(), "bad key", "x"), transport.ErrInvalidParams, "metadata key"},
		{"bad value", transport.AppendToOutgoing(context.Background(), "k", "two\r\nlines"), transport.ErrInvalidParams, "value"},
		{"too large", transport.AppendToOutgoing(context.Background(), "k", strings.Repeat("v", transport.MaxMetadataSize)), transport.ErrTooLarge, "exceed the limit"},
	}
	before := car.sent
	for _, tc := range bad {
		err := c.Call(tc.ctx, "m", nil, nil)
		assert.ErrorIs(t, err, tc.is, tc.name)
		assert.ErrorContains(t, err, tc.text, tc.name)
		assert.ErrorIs(t, c.Notify(tc.ctx, "m", nil), tc.is, tc.name)
	}
	assert.Equal(t, before, car.sent, "refused before sending")
	fits := transport.AppendToOutgoing(context.Background(), "k", strings.Repeat("v", transport.MaxMetadataSize-1))
	require.NoError(t, c.Call(fits, "m", nil, nil), "exactly the limit")
	<-d.md
	<-d.peer
}

func TestServiceRefusesLargeMetadata(t *testing.T) {
	so, err := transport.NewServerOptions()
	require.NoError(t, err)
	svc := transport.NewService(dispatcher{}, &so, 1)
	req := encodeCall(t, "echo", "x")
	req.Metadata = transport.Metadata{"k": strings.Repeat("v", transport.MaxMetadataSize)}
	var reply transport.Message
	fault, refused := svc.Serve(context.Background(), xml, req, &reply)
	require.NotNil(t, fault)
	assert.True(t, refused)
	assert.Equal(t, transport.CodeTooLarge, fault.Code)
	assert.True(t, errors.Is(fault, transport.ErrTooLarge))
}

func TestIncomingValue(t *testing.T) {
	ctx := transport.NewIncomingContext(context.Background(), transport.Metadata{"traceparent": "00-x"})
	assert.Equal(t, "00-x", transport.IncomingValue(ctx, "Traceparent"))
	assert.Equal(t, "", transport.IncomingValue(ctx, "nope"))
	assert.Equal(t, "", transport.IncomingValue(context.Background(), "traceparent"))
}
