package jsoncodec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

var when = time.Date(2026, 11, 25, 13, 55, 16, 123456789, time.UTC)

// wireValues are values the codec must round-trip.
var wireValues = []any{
	nil, true, false, int64(0), int64(-7), int64(math.MaxInt64), int64(math.MinInt64),
	3.25, 3.0, -1e-7, 1.5e300, 1e6, 1e21, "", "hello", "héllo, 世界 ✓", "quote \" back\\slash\n\t\x01",
	"<a href=\"x\">&amp;</a>", "\u2028\u2029", []byte{}, []byte{0, 1, 2, 0xff}, when,
	[]any{}, []any{int64(1), "two", 3.5, true, nil},
	map[string]any{}, map[string]any{"a": int64(1), "b": []any{map[string]any{"c": "d"}}},
	map[string]any{"$base64": "not bytes"}, map[string]any{"$datetime": int64(1)},
	map[string]any{"$map": map[string]any{}}, map[string]any{"$x": true, "$y": false},
	map[string]any{"$base64": "x", "$datetime": "y", "a": int64(1)},
	map[string]any{"": int64(1), "$base64": "x"}, map[string]any{"!": []byte{1}, "$map": when},
	map[string]any{"$map": map[string]any{"$base64": []byte{1}}},
}

func TestRoundTrip(t *testing.T) {
	c := Codec{}
	for _, v := range wireValues {
		body, err := c.AppendCall(nil, "echo", []any{v, v})
		require.NoError(t, err, "%#v", v)
		m, args, err := c.DecodeCall(body)
		require.NoError(t, err, "%s", body)
		assert.Equal(t, "echo", m)
		assert.Equal(t, []any{v, v}, args, "%s", body)
		assert.NoError(t, readsInOrder(body), "%s", body)

		body, err = c.AppendReply(nil, v)
		require.NoError(t, err)
		got, err := c.DecodeReply(body)
		require.NoError(t, err, "%s", body)
		assert.Equal(t, v, got, "%s", body)
		assert.NoError(t, readsInOrder(body), "%s", body)

		body, err = AppendValue(nil, v)
		require.NoError(t, err)
		got, err = DecodeValue(body)
		require.NoError(t, err, "%s", body)
		assert.Equal(t, v, got, "%s", body)
	}
}

// TestRandomRoundTrip round-trips random calls and replies, and checks
// that every body reads the same in member order (see readsInOrder).
func TestRandomRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := Codec{}
	for range 3000 {
		args := randomArgs(r)
		body, err := c.AppendCall(nil, "m", args)
		require.NoError(t, err, "%#v", args)
		require.NoError(t, readsInOrder(body), "%s", body)
		m, got, err := c.DecodeCall(body)
		require.NoError(t, err, "%s", body)
		assert.Equal(t, "m", m)
		if len(args) == 0 {
			assert.Nil(t, got)
		} else {
			require.Equal(t, args, got, "%s", body)
		}

		v := randomValue(r, 4)
		body, err = c.AppendReply(nil, v)
		require.NoError(t, err, "%#v", v)
		require.NoError(t, readsInOrder(body), "%s", body)
		res, err := c.DecodeReply(body)
		require.NoError(t, err, "%s", body)
		require.Equal(t, v, res, "%s", body)
	}
}

func TestBodies(t *testing.T) {
	c := Codec{}
	assert.Equal(t, "json", c.Name())
	assert.Equal(t, "application/json", c.ContentType())
	body, err := c.AppendCall(nil, "fun_add", []any{2, 3})
	require.NoError(t, err)
	assert.Equal(t, `{"method":"fun_add","params":[2,3]}`, string(body))
	body, err = c.AppendCall([]byte("prefix "), "f", nil)
	require.NoError(t, err)
	assert.Equal(t, `prefix {"method":"f","params":[]}`, string(body))
	body, err = c.AppendReply(nil, map[string]any{"b": []byte("hi"), "a": 1.0, "t": when, "<": 1e6, "n": []byte(nil)})
	require.NoError(t, err)
	assert.Equal(t, `{"result":{"<":1e+06,"a":1.0,"b":{"$base64":"aGk="},"n":{"$base64":""},"t":{"$datetime":"2026-11-25T13:55:16.123456789Z"}}}`, string(body))
	body, err = c.AppendReply(nil, map[string]any{"$base64": "x", "z": []any(nil), "m": map[string]any(nil)})
	require.NoError(t, err)
	assert.Equal(t, `{"result":{"$map":{"$base64":"x","m":{},"z":[]}}}`, string(body))
	body, err = c.AppendReply(nil, nil)
	require.NoError(t, err)
	assert.Equal(t, `{"result":null}`, string(body))
	body = c.AppendFault(nil, &transport.RemoteError{Code: -32601, Message: `no "x"`})
	assert.Equal(t, `{"error":{"code":-32601,"message":"no \"x\""}}`, string(body))
	_, err = c.DecodeReply(body)
	var re *transport.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, &transport.RemoteError{Code: -32601, Message: `no "x"`}, re)
	assert.ErrorIs(t, err, transport.ErrMethodNotFound)
	assert.Equal(t, `{"error":{"code":-32603,"message":"unknown error"}}`, string(c.AppendFault(nil, nil)))

	// Foreign JSON: big integers become floats, ids are ignored, null
	// params are no params.
	m, args, err := c.DecodeCall([]byte(` {"jsonrpc":"2.0","id":1,"method":"f","params":[100000000000000000000, 1e3, 2, -0, 1E400]} `))
	require.NoError(t, err)
	assert.Equal(t, "f", m)
	assert.Equal(t, []any{1e20, 1000.0, int64(2), int64(0), math.Inf(1)}, args)
	for _, body := range []string{`{"method":"f"}`, `{"method":"f","params":null}`, `{"params":[],"method":"f"}`} {
		m, args, err = c.DecodeCall([]byte(body))
		require.NoError(t, err)
		assert.Equal(t, "f", m)
		assert.Nil(t, args)
	}
	// Strings: invalid UTF-8 and lone surrogates become U+FFFD, both ways.
	_, args, err = c.DecodeCall([]byte("{\"method\":\"f\",\"params\":[\"a\xffb\",\"\\ud800\\u0041\",\"\\ud83d\\ude00\"]}"))
	require.NoError(t, err)
	assert.Equal(t, []any{"a\ufffdb", "\ufffdA", "😀"}, args)
	body, err = c.AppendReply(nil, "a\xffb")
	require.NoError(t, err)
	assert.Equal(t, `{"result":"a\ufffdb"}`, string(body))
	// Member names match exactly; a repeated one counts once, the last.
	_, err = c.DecodeReply([]byte(`{"Result":1}`))
	assert.ErrorIs(t, err, transport.ErrParse)
	got, err := c.DecodeReply([]byte(`{"result":1,"result":{"a":1,"a":2}}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": int64(2)}, got)
	// A fault wins over a result; a null error is none.
	_, err = c.DecodeReply([]byte(`{"result":1,"error":{"code":3,"message":"m"}}`))
	require.ErrorAs(t, err, &re)
	got, err = c.DecodeReply([]byte(`{"result":1,"error":null}`))
	require.NoError(t, err)
	assert.Equal(t, int64(1), got)
}

func TestEncodeErrors(t *testing.T) {
	c := Codec{}
	for _, tc := range []struct {
		v    any
		path string
		msg  string
	}{
		{math.NaN(), "args[1]", "NaN"},
		{math.Inf(-1), "args[1]", "-Inf"},
		{[]any{1, map[string]any{"name": make(chan int)}}, "args[1][1].name", "chan int"},
		{map[string]any{"a": []any{math.Inf(1)}}, "args[1].a[0]", "+Inf"},
		{map[string]any{"$map": math.NaN()}, "args[1].$map", "NaN"},
		{struct{ X complex128 }{}, "args[1].X", "complex128"},
	} {
		_, err := c.AppendCall(nil, "f", []any{1, tc.v})
		var ce *wire.ConversionError
		require.ErrorAs(t, err, &ce, "%#v", tc.v)
		assert.Equal(t, tc.path, ce.Path)
		assert.ErrorContains(t, err, tc.msg)

		dst := []byte("keep")
		out, err := c.AppendReply(dst, tc.v)
		require.ErrorAs(t, err, &ce)
		assert.True(t, strings.HasPrefix(ce.Path, "result"), ce.Path)
		assert.Equal(t, "keep", string(out), "dst unchanged on error")
		_, err = AppendValue(nil, tc.v)
		require.ErrorAs(t, err, &ce)
	}
}

// nest wraps v in n arrays.
func nest(v any, n int) any {
	for range n {
		v = []any{v}
	}
	return v
}

// TestDepth checks that encoding refuses exactly the values decoding
// would refuse: a result nests MaxDepth levels, an argument one less.
func TestDepth(t *testing.T) {
	c := Codec{}
	for _, tc := range []struct {
		name   string
		leaf   any
		levels int // levels the leaf adds: arrays 1 (empty), tags 1, a wrapped struct 2
	}{
		{"scalar", int64(1), 0},
		{"array", []any{}, 1},
		{"bytes", []byte{1}, 1},
		{"time", when, 1},
		{"struct", map[string]any{"a": int64(1)}, 1},
		{"wrapped", map[string]any{"$map": int64(1)}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fits := nest(tc.leaf, MaxDepth-tc.levels)
			tooDeep := nest(tc.leaf, MaxDepth-tc.levels+1)

			body, err := c.AppendReply(nil, fits)
			require.NoError(t, err)
			got, err := c.DecodeReply(body)
			require.NoError(t, err)
			assert.Equal(t, fits, got)
			_, err = c.AppendReply(nil, tooDeep)
			var ce *wire.ConversionError
			require.ErrorAs(t, err, &ce)
			assert.ErrorContains(t, err, "nested deeper than 100 levels")
			deepBody := append(append([]byte(`{"result":[`), body[len(`{"result":`):len(body)-1]...), "]}"...)
			_, err = c.DecodeReply(deepBody)
			assert.ErrorIs(t, err, transport.ErrParse, "%s", deepBody)
			assert.ErrorContains(t, err, "nested deeper than 100 levels")

			value, err := AppendValue(nil, fits)
			require.NoError(t, err)
			_, err = DecodeValue(value)
			require.NoError(t, err)
			_, err = DecodeValue(append(append([]byte("["), value...), ']'))
			assert.ErrorIs(t, err, transport.ErrParse)
			_, err = AppendValue(nil, tooDeep)
			require.ErrorAs(t, err, &ce)

			argFits := nest(tc.leaf, MaxDepth-tc.levels-1)
			body, err = c.AppendCall(nil, "f", []any{argFits})
			require.NoError(t, err)
			_, args, err := c.DecodeCall(body)
			require.NoError(t, err)
			assert.Equal(t, []any{argFits}, args)
			_, err = c.AppendCall(nil, "f", []any{fits})
			require.ErrorAs(t, err, &ce)
			assert.True(t, strings.HasPrefix(ce.Path, "args[0][0][0]"), ce.Path)
			assert.LessOrEqual(t, len(ce.Path), 210, "paths are bounded")
			deepBody = append(append([]byte(`{"method":"f","params":[[`), body[len(`{"method":"f","params":[`):len(body)-2]...), "]]}"...)
			_, _, err = c.DecodeCall(deepBody)
			assert.ErrorIs(t, err, transport.ErrParse, "%s", deepBody)
		})
	}
	// A very deep body fails fast, before encoding/json descends into it.
	huge := `{"result":` + strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20) + "}"
	_, err := c.DecodeReply([]byte(huge))
	assert.ErrorContains(t, err, "at byte 110: values nested deeper than 100 levels")
	// Brackets in strings do not count.
	_, err = c.DecodeReply([]byte(`{"result":"` + strings.Repeat(`[{\"`, 200) + `"}`))
	assert.NoError(t, err)
}

func TestDecodeErrors(t *testing.T) {
	c := Codec{}
	deep := strings.Repeat("[", MaxDepth+5) + strings.Repeat("]", MaxDepth+5)
	for _, body := range []string{
		``, ` `, `null`, `[]`, `"x"`, `{`, `{"method":1}`, `{"params":[]}`, `{"method":"f","params":{}}`,
		`{"method":"f","params":"x"}`, `{"method":"f"} x`, `{"method":"f"}{}`, `{"method":"f"},`,
		`{"method":"f","params":[` + deep + `]}`, `{"method":"f","params":[1,]}`, `{"method":"f",}`,
		`{"method":"f","params":[01]}`, `{"method":"f","params":[1.]}`, `{"method":"f","params":[NaN]}`,
		"{\"method\":\"f\",\"params\":[\"\x01\"]}", "{\"method\":\"f\",\"params\":[\"\\x\"]}", "\xef\xbb\xbf{\"method\":\"f\"}",
		`{"method":"f","params":[{"$base64":"!!"}]}`, `{"method":"f","params":[{"$datetime":"yesterday"}]}`,
		`{"method":"f","params":[{"$base64":1}]}`, `{"method":"f","params":[{"$map":1}]}`, `{"method":"f","params":[{"$map":null}]}`,
		`{"method":"f","params":[{"$datetime":null}]}`, `{"method":"f","params":[{"a":[{"$map":{"b":{"$base64":"*"}}}]}]}`,
		// Every member's value must decode, known or not.
		`{"method":"f","id":{"$base64":"!!"}}`, `{"method":"f","id":` + deep + `}`,
	} {
		_, _, err := c.DecodeCall([]byte(body))
		assert.ErrorIs(t, err, transport.ErrParse, "%q", body)
	}
	for _, body := range []string{
		`{}`, `{"error":1}`, `{"error":{"message":"x"}}`, `{"error":{"code":1.5}}`, `{"error":{"code":"1"}}`,
		`{"error":{"code":2147483648}}`, `{"error":{"$base64":""}}`, `{"result":` + deep + `}`, `{"result":1} 2`,
	} {
		_, err := c.DecodeReply([]byte(body))
		assert.ErrorIs(t, err, transport.ErrParse, "%q", body)
	}
	for _, body := range []string{``, `1 2`, `[`, `{"$base64":0}`, deep} {
		_, err := DecodeValue([]byte(body))
		assert.ErrorIs(t, err, transport.ErrParse, "%q", body)
	}
}

// TestErrorMessages checks that decode errors say where, and quote only a
// short excerpt of the body.
func TestErrorMessages(t *testing.T) {
	c := Codec{}
	long := strings.Repeat("y", 10000)
	for body, want := range map[string]string{
		`{"method":"f","params":[1,{"a":[{"$base64":"!!"}]}]}`:          `json: params[1].a[0]: $base64: illegal base64 data at input byte 0`,
		`{"method":"f","params":[{"$map":{"b":{"$datetime":"x"}}}]}`:    `json: params[0].$map.b: $datetime: cannot read "x" as a date-time`,
		`{"method":"f","params":[{"$datetime":"` + long + `"}]}`:        `cannot read "` + long[:32] + `…" as a date-time`,
		`{"method":"f","params":[{"` + long + `":{"$base64":1}}]}`:      `params[0].` + long[:32] + `…: $base64 must be a string`,
		`{"method":"f","params":[1,` + long + `]}`:                      `json: at byte 27: invalid character 'y' looking for beginning of value`,
		`{"method":"f","params":[` + strings.Repeat("[", 200) + long:    `json: at byte 123: values nested deeper than 100 levels`,
		`{"method":"f"} ` + long:                                        `json: at byte 15: data after the JSON value`,
		`{"method":"f","params":["` + long:                              `json: unexpected end of input`,
		`{"method":"f","params":[` + strings.Repeat(`{"`+long+`":`, 50): `json: unexpected end of input`,
	} {
		_, _, err := c.DecodeCall([]byte(body))
		require.ErrorIs(t, err, transport.ErrParse)
		assert.ErrorContains(t, err, want)
		assert.Less(t, len(err.Error()), 300, "%.80s", err)
	}
}

// TestTagRule pins how objects with tag-named members read, including
// the ones whose meaning depended on member order in the codec this one
// replaced, which took a tag as the first member only (and refused a
// tag-first object with more members). Here an object with one member
// named like a tag is that tag, and any object with more members is a
// plain struct: every body that codec read reads the same, and the
// encoder writes only bodies that read the same in member order too
// (readsInOrder).
func TestTagRule(t *testing.T) {
	for _, tc := range []struct {
		body string
		want any
	}{
		{`{"$base64":"AAE="}`, []byte{0, 1}},
		{`{"$datetime":"2026-11-25T13:55:16.123456789Z"}`, when},
		{`{"$datetime":"20261125T13:55:16"}`, time.Date(2026, 11, 25, 13, 55, 16, 0, time.UTC)},
		{`{"$map":{"$base64":"AAE="}}`, map[string]any{"$base64": "AAE="}},
		{`{"$map":{"a":{"$base64":"AAE="}}}`, map[string]any{"a": []byte{0, 1}}},
		{`{"$map":{}}`, map[string]any{}},
		{`{"$map":{"$map":{"$map":{}}}}`, map[string]any{"$map": map[string]any{}}},
		{`{"$x":1}`, map[string]any{"$x": int64(1)}},
		{`{"$Base64":"AAE="}`, map[string]any{"$Base64": "AAE="}},
		// Several members, a tag not first: a plain struct, as before.
		{`{"a":1,"$base64":"AAE="}`, map[string]any{"a": int64(1), "$base64": "AAE="}},
		{`{"":1,"$base64":"x"}`, map[string]any{"": int64(1), "$base64": "x"}},
		{`{"a":1,"$map":{"$base64":"AAE="}}`, map[string]any{"a": int64(1), "$map": []byte{0, 1}}},
		// Order-dependent before (refused: a tag first, then more): a
		// plain struct now.
		{`{"$base64":"AAE=","a":1}`, map[string]any{"a": int64(1), "$base64": "AAE="}},
		{`{"$map":{},"$base64":"x"}`, map[string]any{"$map": map[string]any{}, "$base64": "x"}},
		// Repeated names (refused before when the first was a tag): the
		// last counts, then the one-member rule applies.
		{`{"$base64":"AA==","$base64":"AAE="}`, []byte{0, 1}},
		{`{"a":1,"a":{"$base64":"AAE="}}`, map[string]any{"a": []byte{0, 1}}},
	} {
		got, err := DecodeValue([]byte(tc.body))
		require.NoError(t, err, tc.body)
		assert.Equal(t, tc.want, got, tc.body)
		reply, err := Codec{}.DecodeReply([]byte(`{"result":` + tc.body + `}`))
		require.NoError(t, err, tc.body)
		assert.Equal(t, tc.want, reply, tc.body)
	}
	// The envelope is never a tag.
	_, err := Codec{}.DecodeReply([]byte(`{"$map":{"result":1}}`))
	assert.ErrorIs(t, err, transport.ErrParse)
}

// readsInOrder checks body the way a decoder that reads members in order
// and takes a tag only as an object's first member (the codec this one
// replaced) reads it: no object with more than one member starts with a
// tag, the object of a $map is taken as plain, and nesting stays within
// MaxDepth below the envelope.
func readsInOrder(body []byte) error {
	type frame struct {
		obj, tags, key, tagFirst, mapNext bool
		n                                 int
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []frame
	value := func() { // a member's value (or an element) is done
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].key = true
		}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = &stack[n-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				tags := top != nil && !(top.obj && top.mapNext)
				if len(stack) > MaxDepth {
					return fmt.Errorf("nested deeper than %d levels below the envelope", MaxDepth)
				}
				stack = append(stack, frame{obj: t == '{', tags: tags, key: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				value()
			}
		case string:
			if top != nil && top.obj && top.key {
				if top.n == 1 && top.tagFirst {
					return fmt.Errorf("a tag-first object has a second member %q", t)
				}
				top.mapNext = false
				if top.n == 0 && top.tags && isTag(t) {
					top.tagFirst, top.mapNext = true, t == tagMap
				}
				top.n++
				top.key = false
				continue
			}
			value()
		default:
			value()
		}
	}
}
