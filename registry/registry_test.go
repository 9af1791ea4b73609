package registry_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/internal/logbuf"
	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
)

// point is a struct parameter and result with tagged fields.
type point struct {
	X     int
	Y     int    `json:"y"`
	Label string `rpc:"label"`
}

// node is a self-referential type: Register must not loop on it.
type node struct {
	Value int
	Next  *node
}

func TestRegisterAccepts(t *testing.T) {
	cases := []struct {
		name string
		fn   any
	}{
		{"two ints", func(a, b int) int { return a + b }},
		{"value and error", func(n int) (int, error) { return n, nil }},
		{"ctx only", func(ctx context.Context) error { return nil }},
		{"ctx and args", func(ctx context.Context, a int, s string) (string, error) { return s, nil }},
		{"nothing", func() {}},
		{"only error", func() error { return nil }},
		{"variadic", func(xs ...int) int { return len(xs) }},
		{"ctx variadic", func(ctx context.Context, sep string, xs ...string) string { return sep }},
		{"struct", func(p point) point { return p }},
		{"pointer", func(p *point) *point { return p }},
		{"slice", func(xs []float64) []string { return nil }},
		{"array", func(xs [3]int) [2]bool { return [2]bool{} }},
		{"map", func(m map[string]int) map[string][]point { return nil }},
		{"bytes", func(b []byte) []byte { return b }},
		{"time", func(tm time.Time) time.Time { return tm }},
		{"any", func(v any) any { return v }},
		{"recursive type", func(n *node) int { return n.Value }},
		{"sized ints", func(a int8, b uint8, c int32, d uint64, e float32) int16 { return 0 }},
		{"error result value", func() (map[string]any, error) { return nil, nil }},
		{"unexported chan field ignored", func(s struct {
			A int
			c chan int
		}) {
		}},
		{"tagged-out func field ignored", func(s struct {
			A int
			F func() `rpc:"-"`
		}) {
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := registry.New(registry.WithoutIntrospection())
			require.NoError(t, reg.Register("m", c.fn))
			assert.Equal(t, []string{"m"}, reg.Methods())
		})
	}
}

func TestRegisterRejects(t *testing.T) {
	var nilFunc func(int) int
	cases := []struct {
		name    string
		method  string
		fn      any
		wantErr string
	}{
		{"non-function", "m", 42, "want a function, got int"},
		{"nil", "m", nil, "want a function, got <nil>"},
		{"nil func", "m", nilFunc, "nil func(int) int"},
		{"chan param", "m", func(c chan int) {}, "parameter 1: chan int: type cannot travel"},
		{"func param", "m", func(a int, f func()) {}, "parameter 2: func(): type cannot travel"},
		{"complex param", "m", func(c complex128) {}, "parameter 1: complex128"},
		{"complex in slice", "m", func(c []complex64) {}, "parameter 1: complex64"},
		{"chan in struct", "m", func(s struct{ C chan int }) {}, "parameter 1: chan int"},
		{"int-keyed map", "m", func(m map[int]string) {}, "map keys must be strings"},
		{"chan result", "m", func() chan int { return nil }, "result: chan int"},
		{"variadic of funcs", "m", func(fs ...func()) {}, "parameter 1: func()"},
		{"three results", "m", func() (int, int, error) { return 0, 0, nil }, "at most 2 results"},
		{"second result not error", "m", func() (int, string) { return 0, "" }, "second result must be error, got string"},
		{"ctx not first", "m", func(a int, ctx context.Context) {}, "context.Context must be the first parameter"},
		{"two ctx", "m", func(ctx, ctx2 context.Context) {}, "context.Context must be the first parameter"},
		{"empty name", "", func() {}, "empty method name"},
		{"space in name", "fun add", func() {}, `character ' ' not allowed`},
		{"markup in name", "a<b>", func() {}, `character '<' not allowed`},
		{"non-ascii name", "añadir", func() {}, `character 'ñ' not allowed`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := registry.New(registry.WithoutIntrospection())
			err := reg.Register(c.method, c.fn)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.wantErr)
			assert.Contains(t, err.Error(), "registry:")
			assert.Empty(t, reg.Methods(), "a rejected function must not be registered")
		})
	}
}

func TestRegisterDuplicate(t *testing.T) {
	reg := registry.New()
	require.NoError(t, reg.Register("fun_add", func(a, b int) int { return a + b }))
	err := reg.Register("fun_add", func(a, b int) int { return a - b })
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"fun_add" is already registered`)
	err = reg.Register(registry.ListMethods, func() {})
	assert.ErrorContains(t, err, "already registered", "system names are taken too")

	got, err := reg.Dispatch(context.Background(), "fun_add", []any{int64(2), int64(3)})
	require.NoError(t, err)
	assert.Equal(t, 5, got, "the first registration stays")
}

func TestMustRegister(t *testing.T) {
	reg := registry.New()
	assert.NotPanics(t, func() { reg.MustRegister("ok", func() {}) })
	assert.PanicsWithError(t, `registry: method "ok" is already registered`, func() { reg.MustRegister("ok", func() {}) })
}

func TestNilOptions(t *testing.T) {
	var reg *registry.Registry
	require.NotPanics(t, func() {
		reg = registry.New(nil, registry.WithMiddleware(nil), registry.WithLogger(nil))
	})
	require.NoError(t, reg.Register("f", func() int { return 1 }, nil))
	got, err := reg.Dispatch(context.Background(), "f", nil)
	require.NoError(t, err)
	assert.Equal(t, 1, got)
}

func TestZeroRegistry(t *testing.T) {
	var reg registry.Registry
	require.NoError(t, reg.Register("fun_add", func(a, b int) int { return a + b }))
	got, err := reg.Dispatch(context.Background(), "fun_add", []any{int64(2), int64(3)})
	require.NoError(t, err)
	assert.Equal(t, 5, got)
	_, err = reg.Dispatch(context.Background(), registry.ListMethods, nil)
	assert.ErrorIs(t, err, transport.ErrMethodNotFound, "the zero Registry has no introspection")
	assert.Equal(t, []string{"fun_add"}, reg.Methods())

	require.NoError(t, reg.Register("panics", func() { panic("zero") }))
	_, err = reg.Dispatch(context.Background(), "panics", nil)
	assert.ErrorIs(t, err, transport.ErrInternal)
}

// errBoom is a function's own error; Dispatch must pass it through.
var errBoom = errors.New("boom")

func TestDispatchCalls(t *testing.T) {
	reg := registry.New()
	type ctxKey struct{}
	require.NoError(t, reg.Register("fun_add", func(a, b int) int { return a + b }))
	require.NoError(t, reg.Register("fail", func(n int) (int, error) { return 0, fmt.Errorf("fail(%d): %w", n, errBoom) }))
	require.NoError(t, reg.Register("nothing", func() {}))
	require.NoError(t, reg.Register("only_err", func(fail bool) error {
		if fail {
			return errBoom
		}
		return nil
	}))
	require.NoError(t, reg.Register("sum", func(xs ...int) int {
		s := 0
		for _, x := range xs {
			s += x
		}
		return s
	}))
	require.NoError(t, reg.Register("join", func(ctx context.Context, sep string, xs ...string) string {
		out := ctx.Value(ctxKey{}).(string)
		for _, x := range xs {
			out += sep + x
		}
		return out
	}))
	require.NoError(t, reg.Register("ctx_value", func(ctx context.Context) string { return ctx.Value(ctxKey{}).(string) }))
	require.NoError(t, reg.Register("move", func(p point, d int) point { p.X += d; p.Y += d; return p }))
	require.NoError(t, reg.Register("nilptr", func() *point { return nil }))

	ctx := context.WithValue(context.Background(), ctxKey{}, "v")
	cases := []struct {
		method string
		args   []any
		want   any
		err    error
	}{
		{"fun_add", []any{int64(2), int64(3)}, 5, nil},
		{"fun_add", []any{int64(1<<31 - 1), int64(1)}, 1 << 31, nil},
		{"fail", []any{int64(7)}, nil, errBoom},
		{"nothing", nil, nil, nil},
		{"nothing", []any{}, nil, nil},
		{"only_err", []any{false}, nil, nil},
		{"only_err", []any{true}, nil, errBoom},
		{"sum", nil, 0, nil},
		{"sum", []any{int64(1)}, 1, nil},
		{"sum", []any{int64(1), int64(2), int64(3)}, 6, nil},
		{"join", []any{","}, "v", nil},
		{"join", []any{",", "a", "b"}, "v,a,b", nil},
		{"ctx_value", nil, "v", nil},
		{"move", []any{map[string]any{"X": int64(1), "y": int64(2), "label": "p", "extra": true}, int64(10)},
			point{X: 11, Y: 12, Label: "p"}, nil},
		{"nilptr", nil, (*point)(nil), nil},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s%v", c.method, c.args), func(t *testing.T) {
			got, err := reg.Dispatch(ctx, c.method, c.args)
			if c.err != nil {
				require.ErrorIs(t, err, c.err)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestDispatchFunctionErrorKeepsIdentity(t *testing.T) {
	reg := registry.New()
	remote := &transport.RemoteError{Code: 42, Message: "custom"}
	require.NoError(t, reg.Register("remote", func() error { return remote }))
	require.NoError(t, reg.Register("invalid", func() error { return fmt.Errorf("%w: n too big", transport.ErrInvalidParams) }))

	_, err := reg.Dispatch(context.Background(), "remote", nil)
	var re *transport.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Same(t, remote, re)
	assert.Equal(t, 42, transport.ToRemote(err).Code)

	_, err = reg.Dispatch(context.Background(), "invalid", nil)
	assert.ErrorIs(t, err, transport.ErrInvalidParams)
	assert.Equal(t, transport.CodeInvalidParams, transport.ToRemote(err).Code)
}

func TestDispatchArity(t *testing.T) {
	reg := registry.New()
	require.NoError(t, reg.Register("fun_add", func(a, b int) int { return a + b }))
	require.NoError(t, reg.Register("one", func(ctx context.Context, a int) int { return a }))
	require.NoError(t, reg.Register("none", func() {}))
	require.NoError(t, reg.Register("join", func(sep string, xs ...string) string { return sep }))
	require.NoError(t, reg.Register("join3", func(a, b, sep string, xs ...string) string { return sep }))
	cases := []struct {
		method string
		args   []any
		want   string
	}{
		{"fun_add", []any{int64(1)}, "fun_add takes 2 arguments, got 1"},
		{"fun_add", []any{int64(1), int64(2), int64(3)}, "fun_add takes 2 arguments, got 3"},
		{"fun_add", nil, "fun_add takes 2 arguments, got 0"},
		{"one", nil, "one takes 1 argument, got 0"},
		{"none", []any{int64(1)}, "none takes 0 arguments, got 1"},
		{"join", nil, "join takes at least 1 argument, got 0"},
		{"join3", []any{"a"}, "join3 takes at least 3 arguments, got 1"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			_, err := reg.Dispatch(context.Background(), c.method, c.args)
			require.ErrorIs(t, err, transport.ErrInvalidParams)
			assert.Contains(t, err.Error(), c.want)
			assert.Equal(t, transport.CodeInvalidParams, transport.ToRemote(err).Code)
		})
	}
}

func TestDispatchUnknownMethod(t *testing.T) {
	reg := registry.New()
	_, err := reg.Dispatch(context.Background(), "nope", nil)
	require.ErrorIs(t, err, transport.ErrMethodNotFound)
	assert.Contains(t, err.Error(), `"nope"`)
	assert.Equal(t, transport.CodeMethodNotFound, transport.ToRemote(err).Code)
}

func TestDispatchPanic(t *testing.T) {
	var logged logbuf.Buffer
	reg := registry.New(registry.WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
	require.NoError(t, reg.Register("panics", func(n int) int {
		if n > 0 {
			panic(fmt.Sprintf("bad n %d", n))
		}
		xs := make([]int, n)
		return xs[n] // a runtime error: index out of range
	}))
	require.NoError(t, reg.Register("fun_add", func(a, b int) int { return a + b }))

	for _, arg := range []int64{1, 0} {
		_, err := reg.Dispatch(context.Background(), "panics", []any{arg})
		require.ErrorIs(t, err, transport.ErrInternal)
		assert.Contains(t, err.Error(), "panics panicked")
		assert.Equal(t, transport.CodeInternal, transport.ToRemote(err).Code)
	}
	got, err := reg.Dispatch(context.Background(), "fun_add", []any{int64(2), int64(3)})
	require.NoError(t, err, "the registry keeps serving after a panic")
	assert.Equal(t, 5, got)

	log := logged.String()
	assert.Contains(t, log, "registered function panicked")
	assert.Contains(t, log, "bad n 1")
	assert.Contains(t, log, "registry_test.go", "the log carries the stack")
}

func TestDispatchCancelledContext(t *testing.T) {
	reg := registry.New()
	ran := false
	require.NoError(t, reg.Register("run", func() { ran = true }))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := reg.Dispatch(ctx, "run", nil)
	require.ErrorIs(t, err, context.Canceled)

	dctx, dcancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer dcancel()
	_, err = reg.Dispatch(dctx, "run", nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, transport.ErrTimeout)
	assert.False(t, ran, "a call whose context is done does not run")
}

func TestMiddleware(t *testing.T) {
	var trace []string
	mark := func(name string) transport.Interceptor {
		return func(next transport.Handler) transport.Handler {
			return func(ctx context.Context, req *transport.Request) (any, error) {
				trace = append(trace, name+">"+req.Method)
				v, err := next(ctx, req)
				trace = append(trace, "<"+name)
				return v, err
			}
		}
	}
	deny := func(next transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			if req.Method == "secret" {
				return nil, fmt.Errorf("%w: secret is not for you", transport.ErrMethodNotFound)
			}
			if req.Method == "cached" {
				return "from cache", nil
			}
			return next(ctx, req)
		}
	}
	reg := registry.New(registry.WithMiddleware(mark("a"), mark("b")), registry.WithMiddleware(deny))
	ran := 0
	require.NoError(t, reg.Register("secret", func() { ran++ }))
	require.NoError(t, reg.Register("cached", func() string { ran++; return "computed" }))
	require.NoError(t, reg.Register("fun_add", func(a, b int) int { return a + b }))

	got, err := reg.Dispatch(context.Background(), "fun_add", []any{int64(1), int64(2)})
	require.NoError(t, err)
	assert.Equal(t, 3, got)
	assert.Equal(t, []string{"a>fun_add", "b>fun_add", "<b", "<a"}, trace, "the first middleware is the outermost")

	trace = nil
	_, err = reg.Dispatch(context.Background(), "missing", nil)
	assert.ErrorIs(t, err, transport.ErrMethodNotFound)
	assert.Equal(t, []string{"a>missing", "b>missing", "<b", "<a"}, trace, "middleware sees unknown methods")

	_, err = reg.Dispatch(context.Background(), "secret", nil)
	assert.ErrorIs(t, err, transport.ErrMethodNotFound)
	got, err = reg.Dispatch(context.Background(), "cached", nil)
	require.NoError(t, err)
	assert.Equal(t, "from cache", got)
	assert.Zero(t, ran, "short-circuiting middleware keeps the function from running")
}

func TestMiddlewareSeesErrorsAndPanics(t *testing.T) {
	var seen []error
	record := func(next transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			v, err := next(ctx, req)
			seen = append(seen, err)
			return v, err
		}
	}
	reg := registry.New(registry.WithMiddleware(record))
	require.NoError(t, reg.Register("panics", func() { panic("x") }))
	require.NoError(t, reg.Register("fun_add", func(a, b int) int { return a + b }))
	_, _ = reg.Dispatch(context.Background(), "panics", nil)
	_, _ = reg.Dispatch(context.Background(), "fun_add", []any{"x", int64(1)})
	require.Len(t, seen, 2)
	assert.ErrorIs(t, seen[0], transport.ErrInternal, "a panic reaches middleware as an error")
	assert.ErrorIs(t, seen[1], transport.ErrInvalidParams)
}

func TestMiddlewarePanicIsContained(t *testing.T) {
	reg := registry.New(registry.WithMiddleware(func(next transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			if req.Method == "boom" {
				panic("middleware bug")
			}
			return next(ctx, req)
		}
	}))
	require.NoError(t, reg.Register("fun_add", func(a, b int) int { return a + b }))
	_, err := reg.Dispatch(context.Background(), "boom", nil)
	require.ErrorIs(t, err, transport.ErrInternal)
	got, err := reg.Dispatch(context.Background(), "fun_add", []any{int64(1), int64(2)})
	require.NoError(t, err)
	assert.Equal(t, 3, got)
}

// TestRegisterWhileDispatching is for the race detector: registrations
// and calls run at once.
func TestRegisterWhileDispatching(t *testing.T) {
	reg := registry.New()
	require.NoError(t, reg.Register("fun_add", func(a, b int) int { return a + b }))
	const writers, perWriter, callers, calls = 2, 50, 4, 300
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				assert.NoError(t, reg.Register(fmt.Sprintf("m%d_%d", w, i), func(n int) int { return n + i }))
			}
		})
	}
	for range callers {
		wg.Go(func() {
			for i := range calls {
				got, err := reg.Dispatch(context.Background(), "fun_add", []any{int64(i), int64(1)})
				if assert.NoError(t, err) {
					assert.Equal(t, i+1, got)
				}
				_, _ = reg.Dispatch(context.Background(), "m0_0", []any{int64(i)})
				_ = reg.Methods()
			}
		})
	}
	wg.Wait()
	assert.Len(t, reg.Methods(), 1+writers*perWriter+4)
	got, err := reg.Dispatch(context.Background(), "m1_49", []any{int64(1)})
	require.NoError(t, err)
	assert.Equal(t, 50, got)
}
