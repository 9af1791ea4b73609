package jsoncodec

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fuzz targets check that decoding never panics or hangs, and that
// whatever decodes re-encodes to a body that decodes to the same values
// and reads the same in member order (readsInOrder). Seeds live in
// testdata/fuzz/<target>; `go test` runs them, and
// `go test -fuzz=FuzzDecodeCall -fuzztime=30s ./amqp/jsoncodec` explores.

func FuzzDecodeCall(f *testing.F) {
	for _, s := range []string{
		`{"method":"fun_add","params":[2,3]}`,
		`{"method":"echo","params":[{"$base64":"AAEC"},{"$datetime":"2026-11-25T13:55:16Z"},{"$map":{"$x":1}},1.5,null,true,"s",[{}]]}`,
		`{"method":"f","params":[100000000000000000000,-0.0,1e400]}`,
		`{"method":"f","params":[{"$base64":"AAE=","a":1},{"a":1,"$map":{"$datetime":"x"}}],"id":7}`,
	} {
		f.Add([]byte(s))
	}
	c := Codec{}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, args, err := c.DecodeCall(body)
		if err != nil {
			return
		}
		again, err := c.AppendCall(nil, m, args)
		if err != nil {
			return // e.g. a float that overflowed to ±Inf
		}
		require.NoError(t, readsInOrder(again), "%s", again)
		m2, args2, err := c.DecodeCall(again)
		require.NoError(t, err, "%s", again)
		assert.Equal(t, m, m2)
		assert.Equal(t, args, args2)
	})
}

func FuzzDecodeReply(f *testing.F) {
	for _, s := range []string{`{"result":13}`, `{"error":{"code":-32601,"message":"no"}}`, `{"result":{"a":[1,{"$base64":""}]}}`} {
		f.Add([]byte(s))
	}
	c := Codec{}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := c.DecodeReply(body)
		if err != nil {
			return
		}
		again, err := c.AppendReply(nil, v)
		if err != nil {
			return
		}
		require.NoError(t, readsInOrder(again), "%s", again)
		v2, err := c.DecodeReply(again)
		require.NoError(t, err, "%s", again)
		assert.Equal(t, v, v2)
	})
}

func FuzzDecodeValue(f *testing.F) {
	for _, s := range []string{`[1,{"a":2}]`, `{"$map":{"$base64":"x"}}`, `"s"`, ` 1.5 `, `{"b":{"$base64":"AA=="},"$x":[]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeValue(b)
		if err != nil {
			return
		}
		again, err := AppendValue(nil, v)
		if err != nil {
			return
		}
		v2, err := DecodeValue(again)
		require.NoError(t, err, "%s", again)
		assert.Equal(t, v, v2)
	})
}

// FuzzDifferential checks the decoder against encoding/json used plainly
// on bodies without tags: both accept or both reject (but for our depth
// bound), and they agree on the values.
func FuzzDifferential(f *testing.F) {
	for _, s := range []string{`{"result":[1,-2.5e3,"\u00e9\ud83d\ude00",true,null,{"a":{}}]}`, `{"a":1,"a":2}`, `{"s":"\ud800x"}`, "{\"s\":\"\xff\"}", `{"n":-0,"m":1E400}`, `{"x":01}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if bytes.IndexByte(body, '$') >= 0 {
			return // tags are ours; the round-trip targets cover them
		}
		got, err := DecodeValue(body)
		want, refErr := referenceValue(body)
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

// referenceValue decodes one value with encoding/json, numbers as ours are.
func referenceValue(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data")
	}
	return referenceNumbers(v), nil
}

func referenceNumbers(v any) any {
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
			x[i] = referenceNumbers(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = referenceNumbers(e)
		}
	}
	return v
}
