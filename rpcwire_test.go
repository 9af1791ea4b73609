package rpcwire_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rpcwire/rpcwire"
	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestUnknownScheme(t *testing.T) {
	ctx := context.Background()
	_, err := rpcwire.Dial(ctx, "gopher://user:secret@127.0.0.1/")
	assert.ErrorIs(t, err, transport.ErrUnknownScheme)
	assert.Contains(t, err.Error(), "mem", "the error names the schemes that exist")
	assert.NotContains(t, err.Error(), "secret", "credentials never appear in errors")

	_, err = rpcwire.Listen(ctx, "127.0.0.1:8080", funcs.NewRegistry())
	assert.ErrorContains(t, err, "want scheme://host:port/path")
	_, err = rpcwire.Listen(ctx, "localhost", funcs.NewRegistry())
	assert.ErrorIs(t, err, transport.ErrUnknownScheme)

	_, err = rpcwire.Dial(ctx, "http://[::1")
	assert.ErrorContains(t, err, "invalid URL")

	_, err = rpcwire.Listen(ctx, "mem://x", nil)
	assert.ErrorContains(t, err, "nil dispatcher")
}

func TestSchemes(t *testing.T) {
	assert.Contains(t, rpcwire.Schemes(), "mem")
	a, b := rpcwire.NewTable(), rpcwire.NewTable()
	srv, err := a.Listen(context.Background(), "mem://isolated", funcs.NewRegistry())
	assert.NoError(t, err)
	defer srv.Close()
	c, err := b.Dial(context.Background(), "mem://isolated")
	assert.NoError(t, err)
	defer c.Close()
	assert.ErrorIs(t, c.Call(context.Background(), "fib", []any{1}, nil), transport.ErrNoServer,
		"each table has its own mem namespace")
}

func TestCall(t *testing.T) {
	ctx := context.Background()
	srv, err := rpcwire.Listen(ctx, "mem://call-generic", funcs.NewRegistry())
	require.NoError(t, err)
	defer srv.Close()
	c, err := rpcwire.Dial(ctx, srv.Addr())
	require.NoError(t, err)
	defer c.Close()

	n, err := rpcwire.Call[int](ctx, c, "fib", 7)
	require.NoError(t, err)
	assert.Equal(t, 13, n)
	f, err := rpcwire.Call[float64](ctx, c, "fun_add", 2, 3)
	require.NoError(t, err)
	assert.Equal(t, 5.0, f, "converted as Client.Call converts")
	v, err := rpcwire.Call[any](ctx, c, "fun_add", 2, 3)
	require.NoError(t, err)
	assert.Equal(t, int64(5), v, "any keeps the wire value")
	names, err := rpcwire.Call[[]string](ctx, c, "system.listMethods")
	require.NoError(t, err)
	assert.Contains(t, names, "fib")

	n, err = rpcwire.Call[int](ctx, c, "fib", -1)
	assert.ErrorIs(t, err, transport.ErrInvalidParams)
	assert.Zero(t, n)
	s, err := rpcwire.Call[string](ctx, c, "fib", 7)
	assert.Error(t, err, "an int result into a string")
	assert.Empty(t, s, "the zero value on error")
	_, err = rpcwire.Call[int](ctx, c, "nope")
	assert.ErrorIs(t, err, transport.ErrMethodNotFound)
}
