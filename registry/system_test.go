package registry_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

// systemNames are the methods New adds unless WithoutIntrospection.
var systemNames = []string{registry.ListMethods, registry.MethodHelp, registry.MethodSignature, registry.Multicall}

// newArticleRegistry serves the article's functions plus a few that
// exercise introspection.
func newArticleRegistry(t *testing.T, opts ...registry.Option) *registry.Registry {
	t.Helper()
	reg := registry.New(opts...)
	require.NoError(t, reg.Register("fun_add", func(a, b int) int { return a + b }, registry.WithHelp("fun_add(a, b) returns a + b.")))
	require.NoError(t, reg.Register("fib", func(n int) (int, error) {
		if n < 0 {
			return 0, fmt.Errorf("%w: n must not be negative", transport.ErrInvalidParams)
		}
		a, b := 0, 1
		for range n {
			a, b = b, a+b
		}
		return a, nil
	}))
	require.NoError(t, reg.Register("kinds", func(ctx context.Context, b bool, f float32, s string, raw []byte, tm time.Time,
		xs []int, arr [2]string, m map[string]int, p *point, v any, rest ...uint8) {
	}))
	require.NoError(t, reg.Register("nothing", func() error { return nil }))
	return reg
}

func dispatch(t *testing.T, reg *registry.Registry, method string, args ...any) (any, error) {
	t.Helper()
	return reg.Dispatch(context.Background(), method, args)
}

func TestListMethods(t *testing.T) {
	reg := newArticleRegistry(t)
	got, err := dispatch(t, reg, registry.ListMethods)
	require.NoError(t, err)
	assert.Equal(t, []string{"fib", "fun_add", "kinds", "nothing",
		"system.listMethods", "system.methodHelp", "system.methodSignature", "system.multicall"}, got)
	assert.Equal(t, got, reg.Methods())

	require.NoError(t, reg.Register("aaa", func() {}))
	got, err = dispatch(t, reg, registry.ListMethods)
	require.NoError(t, err)
	assert.Equal(t, "aaa", got.([]string)[0], "later registrations show up, sorted")

	w, err := wire.Convert(got)
	require.NoError(t, err)
	assert.IsType(t, []any{}, w, "the result travels as an array")
}

func TestMethodSignature(t *testing.T) {
	reg := newArticleRegistry(t)
	cases := []struct {
		method string
		want   []any
	}{
		{"fun_add", []any{"int", "int", "int"}},
		{"fib", []any{"int", "int"}},
		{"nothing", []any{"nil"}},
		{"kinds", []any{"nil", "boolean", "double", "string", "base64", "dateTime.iso8601",
			"array", "array", "struct", "struct", "any", "int..."}},
		{registry.ListMethods, []any{"array"}},
		{registry.MethodSignature, []any{"array", "string"}},
		{registry.MethodHelp, []any{"string", "string"}},
		{registry.Multicall, []any{"array", "array"}},
	}
	for _, c := range cases {
		t.Run(c.method, func(t *testing.T) {
			got, err := dispatch(t, reg, registry.MethodSignature, c.method)
			require.NoError(t, err)
			assert.Equal(t, []any{c.want}, got)
		})
	}

	_, err := dispatch(t, reg, registry.MethodSignature, "nope")
	require.ErrorIs(t, err, transport.ErrMethodNotFound)
	assert.Contains(t, err.Error(), `"nope"`)
	_, err = dispatch(t, reg, registry.MethodSignature)
	assert.ErrorIs(t, err, transport.ErrInvalidParams)
	_, err = dispatch(t, reg, registry.MethodSignature, int64(1))
	assert.ErrorIs(t, err, transport.ErrInvalidParams)
}

func TestMethodHelp(t *testing.T) {
	reg := newArticleRegistry(t)
	cases := map[string]string{
		"fun_add":                "fun_add(a, b) returns a + b.",
		"fib":                    "",
		registry.ListMethods:     "Returns the names of the methods this server serves.",
		registry.MethodSignature: "Returns the signatures of a method: a list of [result type, parameter types...].",
	}
	for method, want := range cases {
		got, err := dispatch(t, reg, registry.MethodHelp, method)
		require.NoError(t, err, method)
		assert.Equal(t, want, got, method)
	}
	got, err := dispatch(t, reg, registry.MethodHelp, registry.Multicall)
	require.NoError(t, err)
	assert.Contains(t, got, "faultCode")

	_, err = dispatch(t, reg, registry.MethodHelp, "nope")
	assert.ErrorIs(t, err, transport.ErrMethodNotFound)
}

func TestMulticall(t *testing.T) {
	reg := newArticleRegistry(t)
	calls := []any{
		map[string]any{"methodName": "fun_add", "params": []any{int64(2), int64(3)}},
		map[string]any{"methodName": "fib", "params": []any{int64(-1)}},
		map[string]any{"methodName": "nope", "params": []any{}},
		map[string]any{"methodName": "fib", "params": []any{int64(7)}},
		map[string]any{"methodName": "nothing"},
		map[string]any{"methodName": registry.Multicall, "params": []any{[]any{}}},
		map[string]any{"methodName": "fun_add", "params": []any{"x", int64(1)}},
		map[string]any{"params": []any{}},
		map[string]any{"methodName": int64(3)},
		map[string]any{"methodName": "fib", "params": int64(7)},
		"not a struct",
		nil,
		[]any{"fun_add", []any{int64(1), int64(2)}},
		map[string]any{"methodName": registry.ListMethods, "params": []any{}},
	}
	got, err := dispatch(t, reg, registry.Multicall, calls)
	require.NoError(t, err, "bad entries do not fail the whole multicall")
	out, ok := got.([]any)
	require.True(t, ok, "got %T", got)
	require.Len(t, out, len(calls))

	fault := func(i int) (int64, string) {
		t.Helper()
		m, ok := out[i].(map[string]any)
		require.True(t, ok, "entry %d is a fault struct, got %#v", i, out[i])
		require.Len(t, m, 2, "entry %d has exactly faultCode and faultString", i)
		code, ok := m["faultCode"].(int64)
		require.True(t, ok, "faultCode is an int, got %T", m["faultCode"])
		msg, ok := m["faultString"].(string)
		require.True(t, ok, "faultString is a string, got %T", m["faultString"])
		return code, msg
	}
	assert.Equal(t, []any{int64(5)}, out[0], "results are wire values")
	code, msg := fault(1)
	assert.Equal(t, int64(transport.CodeInvalidParams), code)
	assert.Contains(t, msg, "n must not be negative")
	code, msg = fault(2)
	assert.Equal(t, int64(transport.CodeMethodNotFound), code)
	assert.Contains(t, msg, `"nope"`)
	assert.Equal(t, []any{int64(13)}, out[3])
	assert.Equal(t, []any{nil}, out[4])
	code, msg = fault(5)
	assert.Equal(t, int64(transport.CodeInvalidParams), code)
	assert.Contains(t, msg, "cannot be nested")
	code, msg = fault(6)
	assert.Equal(t, int64(transport.CodeInvalidParams), code)
	assert.Contains(t, msg, "argument 1")
	for i := 7; i <= 8; i++ {
		code, msg = fault(i)
		assert.Equal(t, int64(transport.CodeInvalidParams), code)
		assert.Contains(t, msg, "methodName")
	}
	code, msg = fault(9)
	assert.Equal(t, int64(transport.CodeInvalidParams), code)
	assert.Contains(t, msg, `params of "fib" must be an array`)
	for i, want := range map[int]string{10: `got string "not a struct"`, 11: "got nil", 12: "got array"} {
		code, msg = fault(i)
		assert.Equal(t, int64(transport.CodeInvalidParams), code)
		assert.Contains(t, msg, "multicall entry must be a struct")
		assert.Contains(t, msg, want)
	}
	require.IsType(t, []any{}, out[13])
	assert.Contains(t, out[13].([]any)[0], "fun_add")

	w, err := wire.Convert(got)
	require.NoError(t, err, "the result is encodable")
	assert.Len(t, w, len(calls))
}

func TestMulticallBadArgument(t *testing.T) {
	reg := newArticleRegistry(t)
	for _, args := range [][]any{{}, {"x"}, {map[string]any{}}, {[]any{}, []any{}}} {
		_, err := reg.Dispatch(context.Background(), registry.Multicall, args)
		assert.ErrorIs(t, err, transport.ErrInvalidParams, "%#v", args)
	}
	got, err := dispatch(t, reg, registry.Multicall, []any{})
	require.NoError(t, err)
	assert.Equal(t, []any{}, got)
}

func TestMulticallRunsEntriesThroughMiddleware(t *testing.T) {
	var seen []string
	reg := newArticleRegistry(t, registry.WithMiddleware(func(next transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			seen = append(seen, req.Method)
			if req.Method == "fib" {
				return nil, fmt.Errorf("%w: fib is switched off", transport.ErrMethodNotFound)
			}
			return next(ctx, req)
		}
	}))
	got, err := dispatch(t, reg, registry.Multicall, []any{
		map[string]any{"methodName": "fun_add", "params": []any{int64(1), int64(1)}},
		map[string]any{"methodName": "fib", "params": []any{int64(1)}},
	})
	require.NoError(t, err)
	assert.Equal(t, []string{registry.Multicall, "fun_add", "fib"}, seen)
	out := got.([]any)
	assert.Equal(t, []any{int64(2)}, out[0])
	assert.Equal(t, int64(transport.CodeMethodNotFound), out[1].(map[string]any)["faultCode"])
}

func TestMulticallStopsOnCancel(t *testing.T) {
	reg := registry.New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := 0
	require.NoError(t, reg.Register("cancel", func() { ran++; cancel() }))
	got, err := reg.Dispatch(ctx, registry.Multicall, []any{[]any{
		map[string]any{"methodName": "cancel"},
		map[string]any{"methodName": "cancel"},
	}})
	require.NoError(t, err)
	assert.Equal(t, 1, ran, "entries after a cancel do not run")
	out := got.([]any)
	assert.Equal(t, []any{nil}, out[0])
	assert.Contains(t, out[1].(map[string]any)["faultString"], "context canceled")
}

func TestWithoutIntrospection(t *testing.T) {
	reg := newArticleRegistry(t, registry.WithoutIntrospection())
	assert.Equal(t, []string{"fib", "fun_add", "kinds", "nothing"}, reg.Methods())
	for _, name := range systemNames {
		_, err := reg.Dispatch(context.Background(), name, []any{"fun_add"})
		assert.ErrorIs(t, err, transport.ErrMethodNotFound, name)
	}
	require.NoError(t, reg.Register(registry.ListMethods, func() string { return "mine" }), "the names are free")
	got, err := dispatch(t, reg, registry.ListMethods)
	require.NoError(t, err)
	assert.Equal(t, "mine", got)
}

// TestMulticallLimits: a multicall of more calls than the limit is
// refused before any runs; one whose results pass the reply size limit
// stops there; a result that cannot travel is its entry's fault.
func TestMulticallLimits(t *testing.T) {
	var ran int
	reg := registry.New(registry.WithMaxMulticall(3))
	require.NoError(t, reg.Register("count", func() int { ran++; return ran }))
	require.NoError(t, reg.Register("blob", func() string { ran++; return strings.Repeat("x", 1_000_000) }))
	require.NoError(t, reg.Register("chan", func() any { return make(chan int) }))
	entry := func(method string) any { return map[string]any{"methodName": method} }

	_, err := dispatch(t, reg, registry.Multicall, []any{entry("count"), entry("count"), entry("count"), entry("count")})
	require.ErrorIs(t, err, transport.ErrTooLarge)
	assert.ErrorContains(t, err, "system.multicall of 4 calls exceeds the limit of 3 (registry.WithMaxMulticall)")
	assert.Zero(t, ran, "none of its calls ran")
	got, err := dispatch(t, reg, registry.Multicall, []any{entry("count"), entry("chan"), entry("count")})
	require.NoError(t, err)
	assert.Equal(t, []any{[]any{int64(1)}, map[string]any{"faultCode": int64(transport.CodeInternal),
		"faultString": "rpcwire: internal server error: the result of call 1 cannot travel: cannot encode a value of type chan int"}, []any{int64(2)}}, got)

	// The default limit is 1000; results past the reply limit (4 MiB
	// outside a server) stop the multicall.
	reg = registry.New()
	require.NoError(t, reg.Register("count", func() int { ran++; return ran }))
	require.NoError(t, reg.Register("blob", func() string { ran++; return strings.Repeat("x", 1_000_000) }))
	ran = 0
	_, err = dispatch(t, reg, registry.Multicall, slices.Repeat([]any{entry("count")}, 1001))
	assert.ErrorContains(t, err, "exceeds the limit of 1000")
	assert.Zero(t, ran)
	got, err = dispatch(t, reg, registry.Multicall, slices.Repeat([]any{entry("count")}, 1000))
	require.NoError(t, err)
	assert.Len(t, got, 1000)
	ran = 0
	_, err = dispatch(t, reg, registry.Multicall, slices.Repeat([]any{entry("blob")}, 10))
	require.ErrorIs(t, err, transport.ErrTooLarge)
	assert.ErrorContains(t, err, "the results of the first 5 of 10 calls of system.multicall exceed the reply limit of 4194304 bytes")
	assert.Equal(t, 5, ran, "it stopped there")
	assert.Equal(t, registry.DefaultMaxMulticall, 1000)
}
