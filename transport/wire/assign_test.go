package wire_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport/wire"
)

type (
	celsius float64
	blob    []byte
	myByte  uint8
	label   string
	// tagged shows the three ways a field gets its wire name.
	tagged struct {
		ByRPC   int    `rpc:"by_rpc" json:"ignored"`
		ByJSON  string `json:"by_json,omitempty"`
		ByName  bool
		Skipped int `json:"-"`
		Inner   *tagged
		private int
	}
)

// point is a struct with tagged fields.
type point struct {
	X     int
	Y     int    `json:"y"`
	Label string `rpc:"label"`
}

// node is a self-referential type.
type node struct {
	Value int
	Next  *node
}

// conversionCase is one wire value converted to the Go type of want.
type conversionCase struct {
	name string
	in   any
	want any    // a value of the parameter type; nil if errContains is set
	typ  any    // the parameter type, as a zero value, when want is nil
	err  string // substring of the error, empty for success
}

// Python's xmlrpc.client sends datetimes as 20260125T14:06:04.
var pyTime = time.Date(2026, 1, 25, 14, 6, 4, 0, time.UTC)

func conversionCases() []conversionCase {
	seven := 7
	pseven := &seven
	return []conversionCase{
		{name: "int", in: int64(42), want: 42},
		{name: "int min", in: int64(math.MinInt64), want: math.MinInt},
		{name: "int64", in: int64(1 << 40), want: int64(1 << 40)},
		{name: "int8 max", in: int64(127), want: int8(127)},
		{name: "int8 min", in: int64(-128), want: int8(-128)},
		{name: "int8 overflow", in: int64(128), typ: int8(0), err: "128 overflows int8 (-128 to 127)"},
		{name: "int8 underflow", in: int64(-129), typ: int8(0), err: "-129 overflows int8 (-128 to 127)"},
		{name: "uint8 max", in: int64(255), want: uint8(255)},
		{name: "uint8 overflow", in: int64(256), typ: uint8(0), err: "256 overflows uint8 (0 to 255)"},
		{name: "uint8 negative", in: int64(-1), typ: uint8(0), err: "-1 overflows uint8 (0 to 255)"},
		{name: "int32 max", in: int64(math.MaxInt32), want: int32(math.MaxInt32)},
		{name: "int32 overflow", in: int64(math.MaxInt32 + 1), typ: int32(0), err: "2147483648 overflows int32 (-2147483648 to 2147483647)"},
		{name: "uint64", in: int64(math.MaxInt64), want: uint64(math.MaxInt64)},
		{name: "uint64 negative", in: int64(-5), typ: uint64(0), err: "-5 overflows uint64 (0 to 18446744073709551615)"},
		{name: "int from double", in: 1.5, typ: 0, err: "want int, got double 1.5"},
		{name: "int from string", in: "12", typ: 0, err: `want int, got string "12"`},
		{name: "int from nil", in: nil, typ: 0, err: "want int, got nil"},
		{name: "float64", in: 2.5, want: 2.5},
		{name: "float64 from int", in: int64(3), want: 3.0},
		{name: "float32", in: 0.5, want: float32(0.5)},
		{name: "float32 overflow", in: 1e300, typ: float32(0), err: "1e+300 overflows float32"},
		{name: "named float", in: 21.5, want: celsius(21.5)},
		{name: "float from bool", in: true, typ: 0.0, err: "want float64, got boolean true"},
		{name: "string", in: "héllo <&>", want: "héllo <&>"},
		{name: "empty string", in: "", want: ""},
		{name: "named string", in: "x", want: label("x")},
		{name: "string from int", in: int64(1), typ: "", err: "want string, got int 1"},
		{name: "long string excerpt", in: strings.Repeat("a", 100), typ: 0, err: `want int, got string "` + strings.Repeat("a", 32) + `..."`},
		{name: "long string excerpt keeps runes whole", in: strings.Repeat("a", 31) + "ééé", typ: 0, err: `want int, got string "` + strings.Repeat("a", 31) + `..."`},
		{name: "uint from string", in: "1", typ: uint(0), err: `want uint, got string "1"`},
		{name: "array from string", in: "ab", typ: [2]int{}, err: `want [2]int, got string "ab"`},
		{name: "array bad element", in: []any{int64(1), "x"}, typ: [2]int{}, err: `[1]: want int, got string "x"`},
		{name: "int from base64", in: []byte{1}, typ: 0, err: "want int, got base64"},
		{name: "int from dateTime", in: pyTime, typ: 0, err: "want int, got dateTime"},
		{name: "bool", in: true, want: true},
		{name: "bool from int", in: int64(1), typ: false, err: "want bool, got int 1"},
		{name: "bytes from base64", in: []byte{0, 1, 255}, want: []byte{0, 1, 255}},
		{name: "bytes empty", in: []byte{}, want: []byte{}},
		{name: "bytes from string", in: "hi", want: []byte("hi")},
		{name: "bytes from int array", in: []any{int64(104), int64(105)}, want: []byte("hi")},
		{name: "bytes from big int array", in: []any{int64(300)}, typ: []byte(nil), err: "[0]: 300 overflows uint8"},
		{name: "bytes from nil", in: nil, want: []byte(nil)},
		{name: "bytes from int", in: int64(1), typ: []byte(nil), err: "want []uint8, got int 1"},
		{name: "named bytes", in: []byte("ab"), want: blob("ab")},
		{name: "named byte elements", in: []byte("ab"), want: []myByte{'a', 'b'}},
		{name: "byte array", in: []byte{1, 2, 3, 4}, want: [4]byte{1, 2, 3, 4}},
		{name: "byte array from string", in: "abcd", want: [4]byte{'a', 'b', 'c', 'd'}},
		{name: "byte array short", in: []byte{1, 2}, typ: [4]byte{}, err: "want 4 bytes for [4]uint8, got 2"},
		{name: "time", in: pyTime, want: pyTime},
		{name: "time from python string", in: "20260125T14:06:04", want: pyTime},
		{name: "time from dashed string", in: "2026-01-25T14:06:04", want: pyTime},
		{name: "time from RFC 3339", in: "2026-01-25T14:06:04Z", want: pyTime},
		{name: "time with zone", in: "20260125T15:06:04+01:00", want: pyTime.In(time.FixedZone("", 3600))},
		{name: "time compact", in: "20260125T140604", want: pyTime},
		{name: "time bad string", in: "yesterday", typ: time.Time{}, err: `cannot parse "yesterday" as an ISO 8601 date-time`},
		{name: "time from int", in: int64(0), typ: time.Time{}, err: "want time.Time, got int 0"},
		{name: "slice", in: []any{int64(1), int64(2)}, want: []int{1, 2}},
		{name: "slice empty", in: []any{}, want: []int{}},
		{name: "slice nil", in: nil, want: []int(nil)},
		{name: "slice bad element", in: []any{int64(1), "x"}, typ: []int(nil), err: `[1]: want int, got string "x"`},
		{name: "slice from struct", in: map[string]any{}, typ: []int(nil), err: "want []int, got struct"},
		{name: "nested slices", in: []any{[]any{"a"}, []any{}}, want: [][]string{{"a"}, {}}},
		{name: "array", in: []any{int64(1), int64(2)}, want: [2]int{1, 2}},
		{name: "array too long", in: []any{int64(1), int64(2), int64(3)}, typ: [2]int{}, err: "want 2 elements for [2]int, got 3"},
		{name: "array too short", in: []any{int64(1)}, typ: [2]int{}, err: "want 2 elements for [2]int, got 1"},
		{name: "map", in: map[string]any{"a": int64(1), "b": int64(2)}, want: map[string]int{"a": 1, "b": 2}},
		{name: "map named key", in: map[string]any{"a": true}, want: map[label]bool{"a": true}},
		{name: "map of any", in: map[string]any{"a": []any{nil}}, want: map[string]any{"a": []any{nil}}},
		{name: "map nil", in: nil, want: map[string]int(nil)},
		{name: "map bad value", in: map[string]any{"k": "v"}, typ: map[string]int(nil), err: `k: want int, got string "v"`},
		{name: "map from array", in: []any{}, typ: map[string]int(nil), err: "want map[string]int, got array"},
		{name: "struct tags", in: map[string]any{
			"by_rpc": int64(1), "by_json": "j", "ByName": true, "Skipped": int64(9), "ignored": int64(5), "unknown": "x",
			"Inner": map[string]any{"by_rpc": int64(2)},
		}, want: tagged{ByRPC: 1, ByJSON: "j", ByName: true, Inner: &tagged{ByRPC: 2}}},
		{name: "struct missing keys", in: map[string]any{}, want: tagged{}},
		{name: "struct nested error path", in: map[string]any{"Inner": map[string]any{"Inner": map[string]any{"by_json": int64(1)}}},
			typ: tagged{}, err: "Inner.Inner.by_json: want string, got int 1"},
		{name: "struct in slice error path", in: []any{map[string]any{}, map[string]any{"X": "1"}},
			typ: []point(nil), err: `[1].X: want int, got string "1"`},
		{name: "slice in struct error path", in: map[string]any{"m": []any{int64(1), nil}},
			typ: struct {
				M []int `rpc:"m"`
			}{}, err: "m[1]: want int, got nil"},
		{name: "struct from string", in: "x", typ: point{}, err: `want wire_test.point, got string "x"`},
		{name: "struct from nil", in: nil, typ: point{}, err: "want wire_test.point, got nil"},
		{name: "pointer", in: int64(7), want: pseven},
		{name: "pointer nil", in: nil, want: (*int)(nil)},
		{name: "pointer to pointer", in: int64(7), want: &pseven},
		{name: "pointer to struct", in: map[string]any{"X": int64(1)}, want: &point{X: 1}},
		{name: "pointer bad", in: "x", typ: (*int)(nil), err: `want int, got string "x"`},
		{name: "any", in: []any{int64(1), "a"}, want: []any{int64(1), "a"}},
		{name: "any nil", in: nil, typ: any(nil)},
		{name: "recursive", in: map[string]any{"Value": int64(1), "Next": map[string]any{"Value": int64(2)}},
			want: &node{Value: 1, Next: &node{Value: 2}}},
	}
}

// wantType is the Go type a case converts to.
func (c conversionCase) wantType() reflect.Type {
	switch {
	case c.want != nil:
		return reflect.TypeOf(c.want)
	case c.typ != nil:
		return reflect.TypeOf(c.typ)
	}
	return reflect.TypeFor[any]()
}

func TestAssign(t *testing.T) {
	for _, c := range conversionCases() {
		t.Run(c.name, func(t *testing.T) {
			dst := reflect.New(c.wantType())
			err := wire.Assign(dst.Interface(), c.in)
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				var ce *wire.ConversionError
				assert.ErrorAs(t, err, &ce)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, dst.Elem().Interface())
		})
	}
}

func TestAssignFastPaths(t *testing.T) {
	var (
		i   int
		i64 int64
		s   string
		b   bool
		f   float64
		a   any
	)
	require.NoError(t, wire.Assign(&i, int64(-3)))
	require.NoError(t, wire.Assign(&i64, int64(math.MaxInt64)))
	require.NoError(t, wire.Assign(&s, "s"))
	require.NoError(t, wire.Assign(&b, true))
	require.NoError(t, wire.Assign(&f, 1.25))
	require.NoError(t, wire.Assign(&a, map[string]any{"k": nil}))
	assert.Equal(t, -3, i)
	assert.Equal(t, int64(math.MaxInt64), i64)
	assert.Equal(t, "s", s)
	assert.True(t, b)
	assert.Equal(t, 1.25, f)
	assert.Equal(t, map[string]any{"k": nil}, a)

	// Values the fast paths do not take still convert or fail clearly.
	require.NoError(t, wire.Assign(&f, int64(2)))
	assert.Equal(t, 2.0, f)
	require.NoError(t, wire.Assign(&a, nil))
	assert.Nil(t, a)
	assert.ErrorContains(t, wire.Assign(&i, "x"), `want int, got string "x"`)
	assert.ErrorContains(t, wire.Assign(&s, nil), "want string, got nil")
	assert.ErrorContains(t, wire.Assign(&b, int64(0)), "want bool, got int 0")
}

func TestAssignDestinations(t *testing.T) {
	assert.NoError(t, wire.Assign(nil, int64(1)), "nil discards the value")

	cases := []struct {
		name string
		dst  any
	}{
		{"non-pointer", 5},
		{"non-pointer struct", point{}},
		{"map", map[string]any{}},
		{"nil *int", (*int)(nil)},
		{"nil *int64", (*int64)(nil)},
		{"nil *string", (*string)(nil)},
		{"nil *bool", (*bool)(nil)},
		{"nil *float64", (*float64)(nil)},
		{"nil *any", (*any)(nil)},
		{"nil *point", (*point)(nil)},
	}
	values := []any{int64(1), "s", true, 1.5, nil, []any{}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, v := range values {
				var err error
				require.NotPanics(t, func() { err = wire.Assign(c.dst, v) }, "value %#v", v)
				require.Error(t, err)
				assert.Contains(t, err.Error(), "reply must be a non-nil pointer")
			}
		})
	}
}

func TestAssignCopiesBytes(t *testing.T) {
	src := []byte("abc")
	var dst []byte
	require.NoError(t, wire.Assign(&dst, src))
	src[0] = 'X'
	assert.Equal(t, []byte("abc"), dst, "a decoder may reuse its buffer")
}

func TestAssignStructKeepsUnsentFields(t *testing.T) {
	p := point{X: 1, Y: 2, Label: "old"}
	require.NoError(t, wire.Assign(&p, map[string]any{"label": "new"}))
	assert.Equal(t, point{X: 1, Y: 2, Label: "new"}, p)
}

func TestAssignDeepValue(t *testing.T) {
	var v any = "leaf"
	for range 1000 {
		v = map[string]any{"Value": int64(1), "Next": v}
	}
	var n *node
	err := wire.Assign(&n, v)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nested deeper than")

	var cyclic []any
	cyclic = append(cyclic, nil)
	cyclic[0] = cyclic
	type tree []tree
	var tr tree
	assert.ErrorContains(t, wire.Assign(&tr, cyclic), "nested deeper than")
}

func TestConversionErrorMessage(t *testing.T) {
	err := &wire.ConversionError{Path: "[1].x", Want: reflect.TypeFor[int](), Got: "a"}
	assert.Equal(t, `[1].x: want int, got string "a"`, err.Error())
	err = &wire.ConversionError{Want: reflect.TypeFor[int8](), Got: int64(300), Reason: "too big"}
	assert.Equal(t, "too big", err.Error())
	var target *wire.ConversionError
	assert.True(t, errors.As(error(err), &target))
}

func TestParseTime(t *testing.T) {
	for _, s := range []string{"20260125T14:06:04", "20260125T14:06:04Z", "2026-01-25T14:06:04", "2026-01-25T14:06:04.000Z", "20260125T140604"} {
		got, err := wire.ParseTime(s)
		require.NoError(t, err, s)
		assert.True(t, pyTime.Equal(got), "%s: got %v", s, got)
	}
	for _, s := range []string{"", "2026", "20261325T14:06:04", "not a time"} {
		_, err := wire.ParseTime(s)
		assert.Error(t, err, s)
	}
}

// TestGoValues: in-process callers may pass Go values rather than wire
// values; they go through Convert first.
func TestGoValues(t *testing.T) {
	var n int16
	require.NoError(t, wire.Assign(&n, uint8(7)))
	assert.Equal(t, int16(7), n)
	var s string
	assert.ErrorContains(t, wire.Assign(&s, 7), "want string, got int 7")
	var m map[string]float64
	require.NoError(t, wire.Assign(&m, map[string]int{"a": 1}))
	assert.Equal(t, map[string]float64{"a": 1}, m)
}

// TestAssignTypesRegisterRejects: Assign meets reply types that Register
// never lets through as parameters; they fail cleanly.
func TestAssignTypesRegisterRejects(t *testing.T) {
	var e error
	assert.ErrorContains(t, wire.Assign(&e, "boom"), `want error, got string "boom"`)
	require.NoError(t, wire.Assign(&e, nil))
	assert.Nil(t, e)
	var m map[int]string
	assert.ErrorContains(t, wire.Assign(&m, map[string]any{}), "want map[int]string, got struct")
	var ch chan int
	assert.ErrorContains(t, wire.Assign(&ch, int64(1)), "want chan int, got int 1")
	var c complex128
	assert.ErrorContains(t, wire.Assign(&c, 1.0), "want complex128, got double 1")
}

// TestConversionsNeverPanic converts every kind of wire value into every
// kind of parameter type: each pair either fits or fails with an error.
func TestConversionsNeverPanic(t *testing.T) {
	values := []any{
		nil, true, int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64), 0.5, math.Inf(1), math.NaN(),
		"", "x", "20260125T14:06:04", []byte{}, []byte("ab"), pyTime, time.Time{},
		[]any{}, []any{nil}, []any{int64(1), "x"}, []any{[]any{}}, map[string]any{}, map[string]any{"X": "x", "": nil},
		map[string]any{"Value": map[string]any{}}, 3, []int{1}, struct{}{},
	}
	types := []any{
		0, int8(0), uint(0), uint8(0), uint64(0), float32(0), 0.0, "", false, []byte(nil), [2]byte{}, blob(nil),
		[]myByte(nil), pyTime, []int(nil), [1]string{}, map[string]any(nil), map[label][]int(nil), point{}, &point{},
		tagged{}, (*node)(nil), []any(nil), (**int)(nil), [][]string(nil), celsius(0),
	}
	for _, typ := range types {
		for _, v := range values {
			dst := reflect.New(reflect.TypeOf(typ))
			assert.NotPanics(t, func() { _ = wire.Assign(dst.Interface(), v) }, "%T <- %#v", typ, v)
			assert.NotPanics(t, func() { _ = wire.AssignValue(dst.Elem(), v) }, "%T <- %#v", typ, v)
		}
	}
}
