package amqp

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
)

var when = time.Date(2026, 11, 25, 13, 55, 16, 123456789, time.UTC)

// wireValues are values every full codec must round-trip.
var wireValues = []any{
	nil, true, false, int64(0), int64(-7), int64(math.MaxInt64), int64(math.MinInt64),
	3.25, 3.0, -1e-7, 1.5e300, "", "hello", "héllo, 世界 ✓", "quote \" back\\slash\n\t\x01",
	[]byte{}, []byte{0, 1, 2, 0xff}, when,
	[]any{}, []any{int64(1), "two", 3.5, true, nil},
	map[string]any{}, map[string]any{"a": int64(1), "b": []any{map[string]any{"c": "d"}}},
	map[string]any{"$base64": "not bytes"}, map[string]any{"$datetime": int64(1)},
	map[string]any{"$map": map[string]any{}}, map[string]any{"$x": true, "$y": false},
}

func TestJSONRoundTrip(t *testing.T) {
	c := JSONCodec{}
	for _, v := range wireValues {
		body, err := c.AppendCall(nil, "echo", []any{v, v})
		require.NoError(t, err, "%#v", v)
		m, args, err := c.DecodeCall(body)
		require.NoError(t, err, "%s", body)
		assert.Equal(t, "echo", m)
		assert.Equal(t, []any{v, v}, args, "%s", body)

		body, err = c.AppendReply(nil, v)
		require.NoError(t, err)
		got, err := c.DecodeReply(body)
		require.NoError(t, err, "%s", body)
		assert.Equal(t, v, got, "%s", body)
	}
}

func TestJSONBodies(t *testing.T) {
	c := JSONCodec{}
	body, err := c.AppendCall(nil, "fun_add", []any{2, 3})
	require.NoError(t, err)
	assert.Equal(t, `{"method":"fun_add","params":[2,3]}`, string(body))
	body, err = c.AppendReply(nil, map[string]any{"b": []byte("hi"), "a": 1.0, "t": when})
	require.NoError(t, err)
	assert.Equal(t, `{"result":{"a":1.0,"b":{"$base64":"aGk="},"t":{"$datetime":"2026-11-25T13:55:16.123456789Z"}}}`, string(body))
	body = c.AppendFault(nil, &transport.RemoteError{Code: -32601, Message: `no "x"`})
	assert.Equal(t, `{"error":{"code":-32601,"message":"no \"x\""}}`, string(body))
	_, err = c.DecodeReply(body)
	var re *transport.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, &transport.RemoteError{Code: -32601, Message: `no "x"`}, re)
	assert.ErrorIs(t, err, transport.ErrMethodNotFound)

	_, err = c.AppendReply(nil, math.NaN())
	assert.ErrorContains(t, err, "NaN")
	_, err = c.AppendReply(nil, make(chan int))
	assert.Error(t, err)

	// Foreign JSON: big integers become floats, ids are ignored.
	m, args, err := c.DecodeCall([]byte(` {"jsonrpc":"2.0","id":1,"method":"f","params":[100000000000000000000, 1e3, 2]} `))
	require.NoError(t, err)
	assert.Equal(t, "f", m)
	assert.Equal(t, []any{1e20, 1000.0, int64(2)}, args)
	m, args, err = c.DecodeCall([]byte(`{"method":"f"}`))
	require.NoError(t, err)
	assert.Equal(t, "f", m)
	assert.Empty(t, args)
}

func TestJSONDecodeErrors(t *testing.T) {
	c := JSONCodec{}
	deep := strings.Repeat("[", JSONMaxDepth+5) + strings.Repeat("]", JSONMaxDepth+5)
	for _, body := range []string{
		``, `null`, `[]`, `"x"`, `{`, `{"method":1}`, `{"params":[]}`, `{"method":"f","params":{}}`,
		`{"method":"f"} x`, `{"method":"f","params":[` + deep + `]}`,
		`{"method":"f","params":[{"$base64":"!!"}]}`, `{"method":"f","params":[{"$datetime":"yesterday"}]}`,
		`{"method":"f","params":[{"$base64":1}]}`, `{"method":"f","params":[{"$map":1}]}`,
	} {
		_, _, err := c.DecodeCall([]byte(body))
		assert.ErrorIs(t, err, transport.ErrParse, "%q", body)
	}
	for _, body := range []string{`{}`, `{"error":1}`, `{"error":{"message":"x"}}`, `{"error":{"code":1.5}}`, `{"result":` + deep + `}`} {
		_, err := c.DecodeReply([]byte(body))
		assert.ErrorIs(t, err, transport.ErrParse, "%q", body)
	}
}

func TestTextArgs(t *testing.T) {
	c := TextCodec{Method: "fib"}
	cases := []struct {
		body string
		want []any
	}{
		{"7", []any{int64(7)}},
		{" 7\n", []any{int64(7)}},
		{"2 3", []any{int64(2), int64(3)}},
		{"1.5 -2e3 true False", []any{1.5, -2e3, true, false}},
		{`"a b" 3`, []any{"a b", int64(3)}},
		{"Hello World!", []any{"Hello World!"}},
		{"hello", []any{"hello"}},
		{"  NaN ", []any{"  NaN "}},
		{"0x10", []any{"0x10"}},
		{"", nil},
		{"  ", nil},
	}
	for _, tc := range cases {
		m, args, err := c.DecodeCall(&transport.Message{Body: []byte(tc.body)})
		require.NoError(t, err, "%q", tc.body)
		assert.Equal(t, "fib", m, "the server's default method")
		assert.Equal(t, tc.want, args, "%q", tc.body)
	}
	m, _, err := c.DecodeCall(&transport.Message{Body: []byte("2 3"), Type: "fun_add"})
	require.NoError(t, err)
	assert.Equal(t, "fun_add", m, "the type property names the method")
	for _, body := range []string{`"open`, `7 "open`, `"a"b`} {
		_, _, err := c.DecodeCall(&transport.Message{Body: []byte(body)})
		assert.ErrorIs(t, err, transport.ErrParse, "%q", body)
	}
	_, _, err = TextCodec{}.DecodeCall(&transport.Message{Body: []byte("7")})
	assert.ErrorIs(t, err, transport.ErrMethodNotFound, "no type and no default method")
}

func TestTextRoundTrip(t *testing.T) {
	c := TextCodec{}
	for _, args := range [][]any{
		{int64(7)}, {int64(2), int64(3)}, {"Hello World!"}, {"7"}, {""}, {"two words", int64(1)},
		{`"quoted"`}, {" padded "}, {true, 1.0, -0.5, "x"}, {"line\nbreak"}, {"\xff"}, {},
	} {
		var msg transport.Message
		require.NoError(t, c.EncodeCall(&msg, "m", args), "%#v", args)
		body := msg.Body
		assert.Equal(t, "m", msg.Type)
		_, got, err := c.DecodeCall(&msg)
		require.NoError(t, err, "%q", body)
		if len(args) == 0 {
			assert.Empty(t, got)
			continue
		}
		assert.Equal(t, args, got, "%q", body)
	}
	var msg transport.Message
	require.NoError(t, c.EncodeCall(&msg, "m", []any{"Hello World!"}))
	assert.Equal(t, "Hello World!", string(msg.Body), "a lone string travels as the tutorial sends it")

	for _, bad := range []any{[]any{1}, map[string]any{}, []byte("x"), math.Inf(1)} {
		var msg transport.Message
		assert.ErrorContains(t, c.EncodeCall(&msg, "m", []any{bad}), "codec=json", "%#v", bad)
	}
}

func TestTextReplies(t *testing.T) {
	c := TextCodec{}
	for _, v := range []any{nil, int64(13), 1.5, 3.0, true, "13", "hello world", []byte("raw"), when,
		[]any{int64(1), "x"}, map[string]any{"a": int64(1)}} {
		var msg transport.Message
		require.NoError(t, c.EncodeReply(&msg, v))
		got, err := c.DecodeReply(&msg)
		require.NoError(t, err, "%q %s", msg.Body, msg.Type)
		assert.Equal(t, v, got, "%q %s", msg.Body, msg.Type)
	}
	// Without our type (the tutorial's server): sniffed.
	for body, want := range map[string]any{"13": int64(13), "13\n": int64(13), "1.5": 1.5, "hello": "hello", "": ""} {
		got, err := c.DecodeReply(&transport.Message{Body: []byte(body)})
		require.NoError(t, err)
		assert.Equal(t, want, got, "%q", body)
	}
	var msg transport.Message
	c.EncodeFault(&msg, &transport.RemoteError{Code: -32602, Message: "boom"})
	assert.Equal(t, int64(-32602), msg.Headers[headerFaultCode], "the code travels as a signed 64-bit field")
	_, err := c.DecodeReply(&msg)
	var re *transport.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, &transport.RemoteError{Code: -32602, Message: "boom"}, re)
	_, err = c.DecodeReply(&transport.Message{Body: []byte("error: plain")})
	require.ErrorAs(t, err, &re, "a tutorial-style fault without a code")
	assert.Equal(t, transport.CodeApplication, re.Code)
}

func TestCodecSelection(t *testing.T) {
	cs := newCodecs("")
	name := func(ct string, body []byte) string {
		c, err := cs.of(ct, body)
		require.NoError(t, err)
		return c.Name()
	}
	assert.Equal(t, "xml", name("", []byte("  <?xml")))
	assert.Equal(t, "json", name("", []byte("\n{")))
	assert.Equal(t, "text", name("", []byte("7")))
	assert.Equal(t, "text", name("", nil))
	assert.Equal(t, "json", name("Application/JSON; charset=utf-8", []byte("<")))
	assert.Equal(t, "xml", name("application/xml", nil))
	assert.Equal(t, "text", name("text/plain", []byte("{")))
	assert.Equal(t, "json", name("application/octet-stream", []byte("{")), "octet-stream says only bytes: sniffed")
	_, err := cs.of("application/x-evil", []byte("<?xml"))
	assert.ErrorIs(t, err, transport.ErrParse, "a content type of no codec of ours is refused, not sniffed")
}
