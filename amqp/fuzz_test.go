package amqp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
)

// The fuzz targets check that decoding never panics or hangs, and that
// whatever decodes re-encodes to a body that decodes to the same values.
// Seeds live in testdata/fuzz/<target>; `go test` runs them, and
// `go test -fuzz=FuzzTextDecodeCall -fuzztime=30s ./amqp` explores. The
// JSON codec's targets are in amqp/jsoncodec.

func FuzzTextDecodeCall(f *testing.F) {
	for _, s := range []string{"7", "2 3", "Hello World!", `"a b" 3 true 1.5`, "", `"\u00e9\x00"`} {
		f.Add([]byte(s))
	}
	c := TextCodec{Method: "m"}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, args, err := c.DecodeCall(&transport.Message{Body: body})
		if err != nil {
			return
		}
		var again transport.Message
		if err := c.EncodeCall(&again, "m", args); err != nil {
			return
		}
		_, args2, err := c.DecodeCall(&again)
		require.NoError(t, err, "%q", again.Body)
		assert.Equal(t, args, args2, "%q -> %q", body, again.Body)
	})
}

func FuzzTextDecodeReply(f *testing.F) {
	for _, s := range []string{"13", "error: boom", "hello", "1.5", "True"} {
		f.Add([]byte(s), "")
	}
	f.Add([]byte(`[1,{"a":2}]`), textTypeJSON)
	f.Add([]byte("2026-11-25T13:55:16Z"), textTypeTime)
	f.Fuzz(func(t *testing.T, body []byte, typ string) {
		_, _ = decodeTextResult(body, typ)
		_, _ = TextCodec{}.DecodeReply(&transport.Message{Body: body, Type: typ})
	})
}
