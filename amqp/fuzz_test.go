package amqp

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fuzz targets check that decoding never panics or hangs, and that
// whatever decodes re-encodes to a body that decodes to the same values.
// Seeds live in testdata/fuzz/<target>; `go test` runs them, and
// `go test -fuzz=FuzzJSONDecodeCall -fuzztime=30s ./amqp` explores.

func FuzzJSONDecodeCall(f *testing.F) {
	for _, s := range []string{
		`{"method":"fun_add","params":[2,3]}`,
		`{"method":"echo","params":[{"$base64":"AAEC"},{"$datetime":"2026-11-25T13:55:16Z"},{"$map":{"$x":1}},1.5,null,true,"s",[{}]]}`,
		`{"method":"f","params":[100000000000000000000,-0.0,1e400]}`,
	} {
		f.Add([]byte(s))
	}
	c := JSONCodec{}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, args, err := c.DecodeCall(body)
		if err != nil {
			return
		}
		again, err := c.AppendCall(nil, m, args)
		if err != nil {
			return // e.g. a float that overflowed to ±Inf
		}
		m2, args2, err := c.DecodeCall(again)
		require.NoError(t, err, "%s", again)
		assert.Equal(t, m, m2)
		assert.Equal(t, args, args2)
	})
}

func FuzzJSONDecodeReply(f *testing.F) {
	for _, s := range []string{`{"result":13}`, `{"error":{"code":-32601,"message":"no"}}`, `{"result":{"a":[1,{"$base64":""}]}}`} {
		f.Add([]byte(s))
	}
	c := JSONCodec{}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := c.DecodeReply(body)
		if err != nil {
			return
		}
		again, err := c.AppendReply(nil, v)
		if err != nil {
			return
		}
		v2, err := c.DecodeReply(again)
		require.NoError(t, err, "%s", again)
		assert.Equal(t, v, v2)
	})
}

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

// FuzzJSONDifferential checks the hand-written decoder against
// encoding/json on bodies without tags: both accept or both reject, and
// agree on the values.
func FuzzJSONDifferential(f *testing.F) {
	for _, s := range []string{`{"result":[1,-2.5e3,"\u00e9\ud83d\ude00",true,null,{"a":{}}]}`, `{"a":1,"a":2}`, `{"s":"\ud800x"}`, "{\"s\":\"\xff\"}", `{"n":-0,"m":1E400}`, `{"x":01}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if bytes.IndexByte(body, '$') >= 0 {
			return // tags are ours; the round-trip targets cover them
		}
		got, err := decodeJSONObject(body)
		want, refErr := referenceJSONObject(body)
		if err != nil && strings.Contains(err.Error(), "nested deeper") {
			return // our depth bound is tighter than encoding/json's
		}
		if (err == nil) != (refErr == nil) {
			t.Fatalf("%q: ours %v, encoding/json %v", body, err, refErr)
		}
		if err == nil {
			assert.Equal(t, want, got, "%q", body)
		}
	})
}

// referenceJSONObject decodes with encoding/json, numbers as ours are.
func referenceJSONObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("null")
	}
	if _, err := dec.Token(); err == nil || err.Error() != "EOF" {
		return nil, errors.New("trailing data")
	}
	return referenceValue(m).(map[string]any), nil
}

func referenceValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n
			}
		}
		f, _ := strconv.ParseFloat(s, 64)
		return f
	case []any:
		for i, e := range x {
			x[i] = referenceValue(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = referenceValue(e)
		}
	}
	return v
}

// decodeJSONObject decodes body as one JSON object whose members are wire
// values. Trailing data is an error.
func decodeJSONObject(body []byte) (map[string]any, error) {
	d := jsonDecoder{buf: body}
	d.skipSpace()
	if d.pos >= len(d.buf) || d.buf[d.pos] != '{' {
		return nil, jsonParseError("the body must be a JSON object")
	}
	env, err := d.object(0, false)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.buf) {
		return nil, d.errorf("data after the JSON object")
	}
	return env.(map[string]any), nil
}
