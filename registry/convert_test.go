package registry_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

// identity returns func(x T) T for the reflect type t.
func identity(t reflect.Type) any {
	ft := reflect.FuncOf([]reflect.Type{t}, []reflect.Type{t}, false)
	return reflect.MakeFunc(ft, func(in []reflect.Value) []reflect.Value { return in }).Interface()
}

// TestDispatchConversions: arguments are converted as wire.Assign
// converts (its own tests cover the rules); these cases cover the
// registry's fast paths and its fallback to wire.AssignValue.
func TestDispatchConversions(t *testing.T) {
	when := time.Date(2026, 1, 25, 14, 6, 4, 0, time.UTC)
	cases := []struct {
		name string
		in   any
		want any    // a value of the parameter type; nil when err is set
		typ  any    // the parameter type when want is nil
		err  string // the error the conversion gives
	}{
		{"int fast path", int64(-3), -3, nil, ""},
		{"int64 fast path", int64(math.MaxInt64), int64(math.MaxInt64), nil, ""},
		{"string fast path", "s", "s", nil, ""},
		{"float fast path", 1.25, 1.25, nil, ""},
		{"bool fast path", true, true, nil, ""},
		{"int into float", int64(2), 2.0, nil, ""},
		{"int8", int64(-5), int8(-5), nil, ""},
		{"int8 overflow", int64(300), nil, int8(0), "300 overflows int8 (-128 to 127)"},
		{"int overflow from string", "x", nil, 0, `want int, got string "x"`},
		{"time", when, when, nil, ""},
		{"time from string", "20260125T14:06:04", when, nil, ""},
		{"slice", []any{int64(1), int64(2)}, []int{1, 2}, nil, ""},
		{"slice element", []any{int64(1), "x"}, nil, []int(nil), `[1]: want int, got string "x"`},
		{"struct", map[string]any{"X": int64(1), "y": int64(2), "label": "p"}, point{X: 1, Y: 2, Label: "p"}, nil, ""},
		{"struct member", map[string]any{"X": "1"}, nil, point{}, `X: want int, got string "1"`},
		{"any", []any{"x"}, any([]any{"x"}), nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			typ := reflect.TypeOf(c.want)
			if c.want == nil {
				typ = reflect.TypeOf(c.typ)
			}
			if c.name == "any" {
				typ = reflect.TypeFor[any]()
			}
			reg := registry.New()
			require.NoError(t, reg.Register("echo", identity(typ)))
			got, err := reg.Dispatch(context.Background(), "echo", []any{c.in})
			if c.err != "" {
				require.ErrorIs(t, err, transport.ErrInvalidParams)
				assert.Contains(t, err.Error(), "echo: argument 1: "+c.err)
				var ce *wire.ConversionError
				assert.ErrorAs(t, err, &ce, "the conversion error stays in the chain")
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestDispatchNamesTheArgument(t *testing.T) {
	reg := registry.New()
	require.NoError(t, reg.Register("f", func(ctx context.Context, a int, b int8, c string) {}))
	cases := []struct {
		args []any
		want string
	}{
		{[]any{"1", int64(1), "c"}, `f: argument 1: want int, got string "1"`},
		{[]any{int64(1), int64(1000), "c"}, "f: argument 2: 1000 overflows int8 (-128 to 127)"},
		{[]any{int64(1), int64(1), 1.0}, "f: argument 3: want string, got double 1"},
	}
	for _, c := range cases {
		_, err := reg.Dispatch(context.Background(), "f", c.args)
		require.ErrorIs(t, err, transport.ErrInvalidParams)
		assert.Contains(t, err.Error(), c.want)
	}

	require.NoError(t, reg.Register("sum", func(base int, xs ...uint8) int { return base }))
	_, err := reg.Dispatch(context.Background(), "sum", []any{int64(1), int64(2), int64(-3)})
	require.ErrorIs(t, err, transport.ErrInvalidParams)
	assert.Contains(t, err.Error(), "sum: argument 3: -3 overflows uint8", "variadic arguments are numbered too")
}

// TestGoValues: in-process callers may pass Go values rather than wire
// values; they go through wire.Convert first.
func TestGoValues(t *testing.T) {
	reg := registry.New()
	require.NoError(t, reg.Register("fun_add", func(a, b int) int { return a + b }))
	require.NoError(t, reg.Register("move", func(p point, d []int8) point { p.X += int(d[0]); return p }))

	got, err := reg.Dispatch(context.Background(), "fun_add", []any{2, int32(3)})
	require.NoError(t, err)
	assert.Equal(t, 5, got)
	got, err = reg.Dispatch(context.Background(), "move", []any{point{X: 1, Label: "p"}, []int{4}})
	require.NoError(t, err)
	assert.Equal(t, point{X: 5, Label: "p"}, got)

	_, err = reg.Dispatch(context.Background(), "fun_add", []any{2, "3"})
	assert.ErrorContains(t, err, `argument 2: want int, got string "3"`)
	_, err = reg.Dispatch(context.Background(), "move", []any{point{}, []int{1000}})
	assert.ErrorContains(t, err, "argument 2: [0]: 1000 overflows int8")
	_, err = reg.Dispatch(context.Background(), "fun_add", []any{uint8(1), 2.5})
	assert.ErrorContains(t, err, "argument 2: want int, got double 2.5")
	_, err = reg.Dispatch(context.Background(), "fun_add", []any{1, make(chan int)})
	assert.ErrorContains(t, err, "argument 2: want int, got chan int")
}

// TestDispatchNeverPanics sends every kind of wire value to functions of
// every kind of parameter type: each call runs or fails with
// ErrInvalidParams.
func TestDispatchNeverPanics(t *testing.T) {
	values := []any{
		nil, true, int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64), 0.5, math.Inf(1), math.NaN(),
		"", "x", "20260125T14:06:04", []byte{}, []byte("ab"), time.Time{},
		[]any{}, []any{nil}, []any{int64(1), "x"}, []any{[]any{}}, map[string]any{}, map[string]any{"X": "x", "": nil},
		3, []int{1}, struct{}{},
	}
	types := []any{
		0, int8(0), uint(0), uint8(0), float32(0), 0.0, "", false, []byte(nil), [2]byte{}, time.Time{},
		[]int(nil), [1]string{}, map[string]any(nil), point{}, &point{}, (*node)(nil), []any(nil), (**int)(nil),
	}
	reg := registry.New()
	for i, typ := range types {
		require.NoError(t, reg.Register(fmt.Sprintf("f%d", i), identity(reflect.TypeOf(typ))))
	}
	for i, typ := range types {
		for _, v := range values {
			assert.NotPanics(t, func() {
				_, err := reg.Dispatch(context.Background(), fmt.Sprintf("f%d", i), []any{v})
				if err != nil {
					assert.ErrorIs(t, err, transport.ErrInvalidParams, "%T <- %#v", typ, v)
				}
			})
		}
	}
}
