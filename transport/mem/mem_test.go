package mem

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/transporttest"
	"github.com/rpcwire/rpcwire/xmlrpc/xmlcodec"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	n := NewNetwork()
	var seq atomic.Int32
	transporttest.Run(t, transporttest.Transport{
		Name: "mem",
		Listen: func(ctx context.Context, d transport.Dispatcher, opts ...transport.ServerOption) (transport.Server, error) {
			return n.Listen(ctx, &url.URL{Scheme: "mem", Host: fmt.Sprintf("conformance%d", seq.Add(1))}, d, opts...)
		},
		Dial: func(ctx context.Context, addr string, opts ...transport.ClientOption) (transport.Client, error) {
			u, err := url.Parse(addr)
			if err != nil {
				return nil, err
			}
			return n.Dial(ctx, u, opts...)
		},
		NoServer: "mem://nobody",
		Secret:   "mem://user:" + transporttest.Password + "@nobody",
		Limited:  transport.BodyOnly(xmlcodec.Codec{MaxDepth: 3}),
	})
}

func TestNameInUseAndReuse(t *testing.T) {
	n := NewNetwork()
	u := &url.URL{Scheme: "mem", Host: "svc"}
	s1, err := n.Listen(context.Background(), u, funcs.NewRegistry())
	require.NoError(t, err)
	_, err = n.Listen(context.Background(), u, funcs.NewRegistry())
	assert.ErrorContains(t, err, "already in use")
	require.NoError(t, s1.Close())
	s2, err := n.Listen(context.Background(), u, funcs.NewRegistry())
	require.NoError(t, err, "a closed server frees its name")
	require.NoError(t, s2.Close())
	_, err = n.Listen(context.Background(), &url.URL{Scheme: "mem"}, funcs.NewRegistry())
	assert.ErrorContains(t, err, "needs a name")
}

func TestBytesAreCopied(t *testing.T) {
	n := NewNetwork()
	u := &url.URL{Scheme: "mem", Host: "copy"}
	reg := funcs.NewRegistry()
	require.NoError(t, reg.Register("zero", func(b []byte) int {
		for i := range b {
			b[i] = 0
		}
		return len(b)
	}))
	srv, err := n.Listen(context.Background(), u, reg)
	require.NoError(t, err)
	defer srv.Close()
	c, err := n.Dial(context.Background(), u)
	require.NoError(t, err)
	defer c.Close()
	in := []byte("keep")
	require.NoError(t, c.Call(context.Background(), "zero", []any{in}, nil))
	assert.Equal(t, "keep", string(in), "the server must not write to the caller's memory")
}

func TestShutdownHonoursContext(t *testing.T) {
	n := NewNetwork()
	u := &url.URL{Scheme: "mem", Host: "stubborn"}
	reg := funcs.NewRegistry()
	release := make(chan struct{})
	require.NoError(t, reg.Register("stubborn", func() { <-release })) // ignores its context
	srv, err := n.Listen(context.Background(), u, reg)
	require.NoError(t, err)
	c, err := n.Dial(context.Background(), u)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Notify(context.Background(), "stubborn", nil))

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, transport.ErrTimeout, "Shutdown returns when its context ends")
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown ignored its context")
	}
	close(release)
	require.NoError(t, srv.Close(), "Close waits for the call to return")
}
