package wire_test

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport/wire"
)

// nilErr is an error whose Error method panics on a nil receiver.
type nilErr struct{ msg string }

func (e *nilErr) Error() string { return e.msg }

type omit struct {
	A int            `rpc:"a,omitempty"`
	B string         `json:"b,omitempty"`
	C []int          `rpc:",omitempty"`
	D map[string]int `rpc:"d,omitempty"`
	E *int           `rpc:"e,omitempty"`
	F int            `rpc:"f"`
	G time.Time      `rpc:"g,omitempty"`
}

type withInterfaces struct {
	Err   error
	Any   any
	Empty any
}

func TestConvert(t *testing.T) {
	five := 5
	var nilPoint *point
	var nilMap map[string]int
	var nilSlice []int
	cases := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"bool", true, true},
		{"int", 42, int64(42)},
		{"int8", int8(-8), int64(-8)},
		{"int16", int16(300), int64(300)},
		{"int32", int32(-1 << 31), int64(-1 << 31)},
		{"int64", int64(math.MinInt64), int64(math.MinInt64)},
		{"uint", uint(7), int64(7)},
		{"uint8", uint8(255), int64(255)},
		{"uint16", uint16(65535), int64(65535)},
		{"uint32", uint32(math.MaxUint32), int64(math.MaxUint32)},
		{"uint64 max int64", uint64(math.MaxInt64), int64(math.MaxInt64)},
		{"float32", float32(0.5), 0.5},
		{"float64", 1e300, 1e300},
		{"named float", celsius(-4.5), -4.5},
		{"string", "s", "s"},
		{"named string", label("l"), "l"},
		{"bytes", []byte{1, 2}, []byte{1, 2}},
		{"named bytes", blob("ab"), []byte("ab")},
		{"named byte elements", []myByte{'a', 'b'}, []byte("ab")},
		{"byte array", [3]byte{1, 2, 3}, []byte{1, 2, 3}},
		{"empty bytes", []byte{}, []byte{}},
		{"time", pyTime, pyTime},
		{"error", errors.New("bad"), "bad"},
		{"nil error pointer", (*nilErr)(nil), nil},
		{"slice", []int{1, 2}, []any{int64(1), int64(2)}},
		{"empty slice", []string{}, []any{}},
		{"nil slice", nilSlice, nil},
		{"array", [2]bool{true, false}, []any{true, false}},
		{"any slice", []any{1, int8(2), "x", nil}, []any{int64(1), int64(2), "x", nil}},
		{"map", map[string]int{"a": 1}, map[string]any{"a": int64(1)}},
		{"named key map", map[label][]int{"k": {1}}, map[string]any{"k": []any{int64(1)}}},
		{"any map", map[string]any{"t": pyTime, "u": uint8(1)}, map[string]any{"t": pyTime, "u": int64(1)}},
		{"nil map", nilMap, nil},
		{"struct tags", tagged{ByRPC: 1, ByJSON: "j", ByName: true, Skipped: 9, private: 3},
			map[string]any{"by_rpc": int64(1), "by_json": "j", "ByName": true, "Inner": nil}},
		{"omitempty drops zero", omit{}, map[string]any{"f": int64(0)}},
		{"omitempty keeps set", omit{A: 1, B: "b", C: []int{}, D: map[string]int{}, E: &five, F: 2, G: pyTime},
			map[string]any{"a": int64(1), "b": "b", "C": []any{}, "d": map[string]any{}, "e": int64(5), "f": int64(2), "g": pyTime}},
		{"nested", tagged{Inner: &tagged{ByJSON: "in"}},
			map[string]any{"by_rpc": int64(0), "ByName": false, "Inner": map[string]any{"by_rpc": int64(0), "by_json": "in", "ByName": false, "Inner": nil}}},
		{"pointer", &five, int64(5)},
		{"nil pointer", nilPoint, nil},
		{"pointer to struct", &point{X: 1, Label: "p"}, map[string]any{"X": int64(1), "y": int64(0), "label": "p"}},
		{"interfaces", withInterfaces{Err: errors.New("e"), Any: []int{1}},
			map[string]any{"Err": "e", "Any": []any{int64(1)}, "Empty": nil}},
		{"slice of pointers", []*int{&five, nil}, []any{int64(5), nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := wire.Convert(c.in)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestConvertCopiesTypedBytes(t *testing.T) {
	b := blob("abc")
	got, err := wire.Convert(b)
	require.NoError(t, err)
	b[0] = 'X'
	assert.Equal(t, []byte("abc"), got)
}

func TestConvertErrors(t *testing.T) {
	type withChan struct{ C chan int }
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"uint64 overflow", uint64(math.MaxInt64 + 1), "9223372036854775808 does not fit a 64-bit signed integer"},
		{"uint overflow in slice", []uint64{1, math.MaxUint64}, "does not fit"},
		{"chan", make(chan int), "cannot encode a value of type chan int"},
		{"func", func() {}, "cannot encode a value of type func()"},
		{"complex", complex(1, 2), "cannot encode a value of type complex128"},
		{"chan field", withChan{C: make(chan int)}, "chan int"},
		{"int-keyed map", map[int]string{1: "a"}, "map keys must be strings"},
		{"in any map", map[string]any{"f": func() {}}, "func()"},
		{"in any slice", []any{1, complex64(1)}, "complex64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := wire.Convert(c.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Nil(t, got)
		})
	}
}

// loop has two ways back to itself: an encoder without a bound would
// overflow the stack, one without early exit would take exponential time.
type loop struct {
	A, B *loop
	N    int
}

func TestConvertCycles(t *testing.T) {
	selfPtr := &node{Value: 1}
	selfPtr.Next = selfPtr

	twoWays := &loop{}
	twoWays.A, twoWays.B = twoWays, twoWays

	selfSlice := []any{nil}
	selfSlice[0] = selfSlice

	selfMap := map[string]any{}
	selfMap["me"] = selfMap

	type cyclicMap map[string]cyclicMap
	typed := cyclicMap{}
	typed["me"] = typed

	for name, v := range map[string]any{
		"pointer loop": selfPtr, "two pointer loops": twoWays, "slice": selfSlice, "map": selfMap, "typed map": typed,
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := wire.Convert(v)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "nested deeper than 512 levels")
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}

	// Deep but acyclic values within the bound are fine.
	var deep *node
	for i := range 100 {
		deep = &node{Value: i, Next: deep}
	}
	got, err := wire.Convert(deep)
	require.NoError(t, err)
	assert.Equal(t, int64(99), got.(map[string]any)["Value"])
}

// TestConvertAssignRoundTrip checks that what Convert produces, Assign reads
// back into the original type.
func TestConvertAssignRoundTrip(t *testing.T) {
	five := 5
	values := []any{
		42, int8(-3), uint16(9), 2.5, float32(1.5), "s", true, []byte("b"), blob("c"), []myByte("d"), [4]byte{1, 2, 3, 4},
		pyTime, []int{1, 2}, [2]string{"a", "b"}, map[string]int{"a": 1}, map[label]bool{"x": true},
		point{X: 1, Y: 2, Label: "p"}, &point{X: 3}, tagged{ByRPC: 1, ByJSON: "j", Inner: &tagged{ByName: true}},
		omit{A: 1, E: &five, G: pyTime}, &node{Value: 1, Next: &node{Value: 2}}, [][]float64{{1}, {}},
	}
	for _, v := range values {
		t.Run(reflect.TypeOf(v).String(), func(t *testing.T) {
			w, err := wire.Convert(v)
			require.NoError(t, err)
			dst := reflect.New(reflect.TypeOf(v))
			require.NoError(t, wire.Assign(dst.Interface(), w))
			assert.Equal(t, v, dst.Elem().Interface())
		})
	}
}

func TestMinSize(t *testing.T) {
	deep := any("x")
	for range wire.MaxDepth + 2 {
		deep = []any{deep}
	}
	for _, tc := range []struct {
		name  string
		v     any
		limit int64
		want  int64
	}{
		{"nil", nil, 0, 1},
		{"int", int64(123456), 0, 1},
		{"empty string", "", 0, 1},
		{"string", "héllo", 0, 6},
		{"bytes", []byte{1, 2, 3}, 0, 3},
		{"array", []any{"ab", int64(1), true}, 0, 5},
		{"struct", map[string]any{"key": "value", "n": 1.5}, 0, 1 + 3 + 5 + 1 + 1},
		{"stops past the limit", []any{"aaaa", "bbbb", "cccc"}, 5, 9},
		{"deeper than MaxDepth passes the limit", deep, 100, 101},
	} {
		assert.Equal(t, tc.want, wire.MinSize(tc.v, tc.limit), tc.name)
	}
}
