package registry_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
)

// benchPoint is the struct the /struct benchmark sends and returns.
type benchPoint struct {
	X, Y  int
	Label string `rpc:"label"`
}

// BenchmarkDispatch measures one call through Dispatch, arguments already
// decoded to wire values, as a transport makes it.
func BenchmarkDispatch(b *testing.B) {
	reg := registry.New()
	require.NoError(b, reg.Register("fun_add", func(a, b int) int { return a + b }))
	require.NoError(b, reg.Register("fib", func(n int) (int, error) {
		a, b := 0, 1
		for range n {
			a, b = b, a+b
		}
		return a, nil
	}))
	require.NoError(b, reg.Register("move", func(p benchPoint, dx int) benchPoint {
		p.X += dx
		return p
	}))
	cases := []struct {
		name   string
		method string
		args   []any
	}{
		{"fun_add", "fun_add", []any{int64(1000), int64(2000)}},
		{"fib", "fib", []any{int64(30)}},
		{"struct", "move", []any{map[string]any{"X": int64(1), "Y": int64(2), "label": "p"}, int64(3)}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			benchDispatch(b, reg, c.method, c.args)
		})
	}

	// The same call behind one pass-through middleware: what a logging or
	// metrics layer costs at least.
	passThrough := func(next transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) { return next(ctx, req) }
	}
	withMW := registry.New(registry.WithMiddleware(passThrough))
	require.NoError(b, withMW.Register("fun_add", func(a, b int) int { return a + b }))
	b.Run("fun_add_middleware", func(b *testing.B) {
		benchDispatch(b, withMW, "fun_add", cases[0].args)
	})
}

func benchDispatch(b *testing.B, reg *registry.Registry, method string, args []any) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		if _, err := reg.Dispatch(ctx, method, args); err != nil {
			b.Fatal(err)
		}
	}
}
