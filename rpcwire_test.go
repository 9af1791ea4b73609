package rpcwire_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
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
