package amqp

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
)

var when = time.Date(2026, 11, 25, 13, 55, 16, 123456789, time.UTC)

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
	// A json-typed reply is one JSON value and nothing more.
	_, err = c.DecodeReply(&transport.Message{Body: []byte(`1,"error":{"code":1}`), Type: textTypeJSON})
	assert.ErrorIs(t, err, transport.ErrParse)
	assert.NotErrorAs(t, err, &re)
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
