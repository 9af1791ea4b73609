package amqp

// TEMPORARY: the differential test between the hand-written JSON codec
// (json.go) and its replacement on encoding/json (amqp/jsoncodec). It goes
// with json.go in the commit that switches the package over.

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/amqp/jsoncodec"
	"github.com/rpcwire/rpcwire/transport"
)

var (
	oldJSON = JSONCodec{}
	newJSON = jsoncodec.Codec{}
)

// diffDecodeCall decodes body with both codecs and requires the same
// outcome: both fail with a parse error, or both give the same call.
func diffDecodeCall(t *testing.T, body []byte) (ok bool) {
	t.Helper()
	m1, a1, err1 := oldJSON.DecodeCall(body)
	m2, a2, err2 := newJSON.DecodeCall(body)
	if err1 != nil || err2 != nil {
		require.Equal(t, err1 != nil, err2 != nil, "%q:\nold: %v\nnew: %v", body, err1, err2)
		require.ErrorIs(t, err1, transport.ErrParse)
		require.ErrorIs(t, err2, transport.ErrParse)
		return false
	}
	require.Equal(t, m1, m2, "%q", body)
	require.Equal(t, a1, a2, "%q", body)
	return true
}

// diffDecodeReply is diffDecodeCall for replies; faults must be equal.
func diffDecodeReply(t *testing.T, body []byte) (ok bool) {
	t.Helper()
	v1, err1 := oldJSON.DecodeReply(body)
	v2, err2 := newJSON.DecodeReply(body)
	var re1, re2 *transport.RemoteError
	switch {
	case errors.As(err1, &re1) || errors.As(err2, &re2):
		require.True(t, errors.As(err1, &re1) && errors.As(err2, &re2), "%q:\nold: %v\nnew: %v", body, err1, err2)
		require.Equal(t, re1, re2, "%q", body)
		return false
	case err1 != nil || err2 != nil:
		require.Equal(t, err1 != nil, err2 != nil, "%q:\nold: %v\nnew: %v", body, err1, err2)
		require.ErrorIs(t, err1, transport.ErrParse)
		require.ErrorIs(t, err2, transport.ErrParse)
		return false
	}
	require.Equal(t, v1, v2, "%q", body)
	return true
}

// diffDecodeValue compares the text codec's two ways of reading a JSON
// result: the old one wrapped it in a reply envelope.
func diffDecodeValue(t *testing.T, b []byte) {
	t.Helper()
	v2, err2 := jsoncodec.DecodeValue(b)
	if !isOneJSONValue(b) {
		// Not one value: the old wrapping may still have read it (as
		// `1,"error":{...}` reaches the envelope); the new one must not.
		require.ErrorIs(t, err2, transport.ErrParse, "%q", b)
		return
	}
	v1, err1 := oldJSON.DecodeReply(append(append([]byte(`{"result":`), b...), '}'))
	require.Equal(t, err1 != nil, err2 != nil, "%q:\nold: %v\nnew: %v", b, err1, err2)
	if err1 == nil {
		require.Equal(t, v1, v2, "%q", b)
	}
}

// isOneJSONValue reports whether b holds exactly one JSON value by the old
// parser's reading.
func isOneJSONValue(b []byte) bool {
	d := jsonDecoder{buf: b}
	if _, err := d.value(0); err != nil {
		return false
	}
	d.skipSpace()
	return d.pos == len(b)
}

// diffBodies decodes body as a call, a reply and a value with both codecs.
// It reports whether the body decoded as a call or a reply.
func diffBodies(t *testing.T, body []byte) bool {
	t.Helper()
	call := diffDecodeCall(t, body)
	reply := diffDecodeReply(t, body)
	diffDecodeValue(t, body)
	return call || reply
}

// diffEncode encodes a call and a reply of v with both codecs and requires
// the same bodies (up to equivalent string escapes) and that each
// decodes with the other codec to the same values.
func diffEncode(t *testing.T, args []any, result any) {
	t.Helper()
	b1, err1 := oldJSON.AppendCall(nil, "m", args)
	b2, err2 := newJSON.AppendCall(nil, "m", args)
	require.Equal(t, err1 != nil, err2 != nil, "%#v:\nold: %v\nnew: %v", args, err1, err2)
	if err1 == nil {
		require.Equal(t, normalizeEscapes(b1), normalizeEscapes(b2))
		require.True(t, diffDecodeCall(t, b1), "%s", b1)
		require.True(t, diffDecodeCall(t, b2), "%s", b2)
		_, a1, _ := oldJSON.DecodeCall(b2)
		_, a2, _ := newJSON.DecodeCall(b1)
		require.Equal(t, a1, a2)
	}
	b1, err1 = oldJSON.AppendReply(nil, result)
	b2, err2 = newJSON.AppendReply(nil, result)
	require.Equal(t, err1 != nil, err2 != nil, "%#v:\nold: %v\nnew: %v", result, err1, err2)
	if err1 == nil {
		require.Equal(t, normalizeEscapes(b1), normalizeEscapes(b2))
		require.True(t, diffDecodeReply(t, b1), "%s", b1)
		require.True(t, diffDecodeReply(t, b2), "%s", b2)
	}
	v1, err1 := appendJSONValue(nil, result, 0)
	v2, err2 := jsoncodec.AppendValue(nil, result)
	require.Equal(t, err1 != nil, err2 != nil, "%#v:\nold: %v\nnew: %v", result, err1, err2)
	if err1 == nil {
		require.Equal(t, normalizeEscapes(v1), normalizeEscapes(v2))
		diffDecodeValue(t, v1)
		diffDecodeValue(t, v2)
	}
}

// normalizeEscapes maps the string escapes where the two encoders differ
// to one form: the old one wrote \b and \f as \u0008 and \u000c and
// U+2028/U+2029 raw; encoding/json writes \b, \f, \u2028, \u2029.
// (Generated strings hold no backslash followed by "u0008" or the like.)
func normalizeEscapes(b []byte) string {
	return strings.NewReplacer(`\u0008`, `\b`, `\u000c`, `\f`, `\u2028`, "\u2028", `\u2029`, "\u2029").Replace(string(b))
}

// seedBodies reads the fuzz corpora of both codecs.
func seedBodies(t *testing.T) [][]byte {
	var bodies [][]byte
	for _, glob := range []string{"testdata/fuzz/FuzzJSON*/*", "jsoncodec/testdata/fuzz/*/*"} {
		files, err := filepath.Glob(glob)
		require.NoError(t, err)
		for _, f := range files {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			require.Equal(t, "go test fuzz v1", lines[0], f)
			q, ok := strings.CutPrefix(lines[1], "[]byte(")
			require.True(t, ok, f)
			s, err := strconv.Unquote(strings.TrimSuffix(q, ")"))
			require.NoError(t, err, f)
			bodies = append(bodies, []byte(s))
		}
	}
	require.GreaterOrEqual(t, len(bodies), 16)
	return bodies
}

// tableBodies are the bodies of the two codecs' test tables and fuzz seeds.
func tableBodies() []string {
	deep := strings.Repeat("[", JSONMaxDepth+5) + strings.Repeat("]", JSONMaxDepth+5)
	long := strings.Repeat("y", 300)
	bodies := []string{
		// TestJSONBodies, TestJSONDecodeErrors, fuzz seeds
		` {"jsonrpc":"2.0","id":1,"method":"f","params":[100000000000000000000, 1e3, 2]} `, `{"method":"f"}`,
		``, `null`, `[]`, `"x"`, `{`, `{"method":1}`, `{"params":[]}`, `{"method":"f","params":{}}`,
		`{"method":"f"} x`, `{"method":"f","params":[` + deep + `]}`,
		`{"method":"f","params":[{"$base64":"!!"}]}`, `{"method":"f","params":[{"$datetime":"yesterday"}]}`,
		`{"method":"f","params":[{"$base64":1}]}`, `{"method":"f","params":[{"$map":1}]}`,
		`{}`, `{"error":1}`, `{"error":{"message":"x"}}`, `{"error":{"code":1.5}}`, `{"result":` + deep + `}`,
		`{"method":"fun_add","params":[2,3]}`,
		`{"method":"echo","params":[{"$base64":"AAEC"},{"$datetime":"2026-11-25T13:55:16Z"},{"$map":{"$x":1}},1.5,null,true,"s",[{}]]}`,
		`{"method":"f","params":[100000000000000000000,-0.0,1e400]}`,
		`{"result":13}`, `{"error":{"code":-32601,"message":"no"}}`, `{"result":{"a":[1,{"$base64":""}]}}`,
		`{"result":[1,-2.5e3,"\u00e9\ud83d\ude00",true,null,{"a":{}}]}`, `{"a":1,"a":2}`, `{"s":"\ud800x"}`, "{\"s\":\"\xff\"}",
		`{"n":-0,"m":1E400}`, `{"x":01}`,
		// jsoncodec's TestBodies, TestDecodeErrors, TestErrorMessages
		` {"jsonrpc":"2.0","id":1,"method":"f","params":[100000000000000000000, 1e3, 2, -0, 1E400]} `,
		`{"method":"f","params":null}`, `{"params":[],"method":"f"}`,
		"{\"method\":\"f\",\"params\":[\"a\xffb\",\"\\ud800\\u0041\",\"\\ud83d\\ude00\"]}",
		`{"Result":1}`, `{"result":1,"result":{"a":1,"a":2}}`, `{"result":1,"error":{"code":3,"message":"m"}}`, `{"result":1,"error":null}`,
		` `, `{"method":"f","params":"x"}`, `{"method":"f"}{}`, `{"method":"f"},`, `{"method":"f","params":[1,]}`, `{"method":"f",}`,
		`{"method":"f","params":[01]}`, `{"method":"f","params":[1.]}`, `{"method":"f","params":[NaN]}`,
		"{\"method\":\"f\",\"params\":[\"\x01\"]}", "{\"method\":\"f\",\"params\":[\"\\x\"]}", "\xef\xbb\xbf{\"method\":\"f\"}",
		`{"method":"f","params":[{"$map":null}]}`, `{"method":"f","params":[{"$datetime":null}]}`,
		`{"method":"f","params":[{"a":[{"$map":{"b":{"$base64":"*"}}}]}]}`,
		`{"method":"f","id":{"$base64":"!!"}}`, `{"method":"f","id":` + deep + `}`,
		`{"error":{"code":"1"}}`, `{"error":{"code":2147483648}}`, `{"error":{"$base64":""}}`, `{"result":1} 2`,
		`{"error":{"$map":{"code":7,"message":"m"}}}`, `{"error":{"code":-2147483648}}`,
		`1 2`, `[`, `{"$base64":0}`, deep,
		`{"method":"f","params":[{"$datetime":"` + long + `"}]}`, `{"method":"f","params":[1,` + long + `]}`,
		`{"method":"f","params":[` + strings.Repeat("[", 200) + long,
		// jsoncodec's TestTagRule, but for the order-dependent bodies
		`{"$base64":"AAE="}`, `{"$datetime":"2026-11-25T13:55:16.123456789Z"}`, `{"$datetime":"20261125T13:55:16"}`,
		`{"$map":{"$base64":"AAE="}}`, `{"$map":{"a":{"$base64":"AAE="}}}`, `{"$map":{}}`, `{"$map":{"$map":{"$map":{}}}}`,
		`{"$x":1}`, `{"$Base64":"AAE="}`, `{"a":1,"$base64":"AAE="}`, `{"":1,"$base64":"x"}`,
		`{"a":1,"$map":{"$base64":"AAE="}}`, `{"a":1,"a":{"$base64":"AAE="}}`,
	}
	for _, v := range []string{`{"$base64":"AAE="}`, `{"$map":{"a":1}}`, `[]`, `{}`, `"s"`, `-1.5e-3`} {
		bodies = append(bodies, `{"result":`+v+`}`, `{"method":"m","params":[`+v+`]}`, v)
	}
	// Depth around the limit, for results and arguments, with every kind
	// of innermost value.
	for n := JSONMaxDepth - 3; n <= JSONMaxDepth+2; n++ {
		for _, leaf := range []string{``, `1`, `{}`, `{"a":1}`, `{"$base64":""}`, `{"$map":{}}`, `{"$map":{"a":[]}}`} {
			v := strings.Repeat("[", n) + leaf + strings.Repeat("]", n)
			bodies = append(bodies, `{"result":`+v+`}`, `{"method":"m","params":[`+v+`]}`, `{"method":"m","params":`+v+`}`, v)
		}
	}
	return bodies
}

// TestJSONDifferential runs the old and the new codec on the same inputs:
// the fuzz corpora, the test tables, and random values.
func TestJSONDifferential(t *testing.T) {
	for _, b := range seedBodies(t) {
		diffBodies(t, b)
	}
	for _, b := range tableBodies() {
		diffBodies(t, []byte(b))
	}
	for _, v := range wireValues {
		diffEncode(t, []any{v, v}, v)
	}
	for _, v := range []any{
		math.NaN(), math.Inf(1), make(chan int), []any{1, map[string]any{"x": complex(1, 2)}}, uint64(math.MaxUint64),
		struct{ A, b int }{1, 2}, &struct{ P *int }{}, []int(nil), map[string]int(nil), []byte(nil), [3]byte{1, 2, 3},
		errors.New("boom"), time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600)), float32(0.1), int8(-3),
		map[string]any{"$map": []byte(nil), "$base64": []any(nil)},
	} {
		diffEncode(t, []any{v}, v)
	}

	// Random values: the bodies must be the same, and cross-decode.
	r := rand.New(rand.NewPCG(7, 11))
	var mutated, decoded, divergent int
	for i := range 4000 {
		args := diffRandomArgs(r)
		result := diffRandomValue(r, 4)
		diffEncode(t, args, result)

		// And mutations of the bodies, for the decoders' error paths.
		body, err := newJSON.AppendCall(nil, "m", args)
		require.NoError(t, err)
		if i%2 == 1 {
			body, err = newJSON.AppendReply(nil, result)
			require.NoError(t, err)
		}
		for range 5 {
			m := diffMutate(r, body)
			mutated++
			if orderDependent(m) {
				divergent++ // see TestJSONOrderDependent
				continue
			}
			if diffBodies(t, m) {
				decoded++
			}
		}
	}
	t.Logf("%d mutated bodies: %d skipped as order-dependent, %d decoded alike, the rest refused by both", mutated, divergent, decoded)
}

// diffMutate changes body at random: a byte flipped, removed or
// duplicated, a cut, or a splice of JSON fragments.
func diffMutate(r *rand.Rand, body []byte) []byte {
	b := bytes.Clone(body)
	frags := []string{`{`, `}`, `[`, `]`, `,`, `:`, `"`, `\`, `null`, `1`, `-0`, `1e400`, `"$base64"`, `"$map"`, `"$datetime"`,
		`{"$base64":"AA=="}`, `{"$map":{}}`, `"\ud800"`, "\xff", ` `, `"a":1,`, `"x"`}
	for range 1 + r.IntN(3) {
		if len(b) == 0 {
			return []byte(frags[r.IntN(len(frags))])
		}
		i := r.IntN(len(b))
		switch r.IntN(5) {
		case 0:
			b[i] ^= byte(1 << r.IntN(8))
		case 1:
			b = append(b[:i], b[i+1:]...)
		case 2:
			b = slicesInsert(b, i, b[i])
		case 3:
			b = b[:i]
		default:
			b = slicesInsert(b, i, []byte(frags[r.IntN(len(frags))])...)
		}
	}
	return b
}

func slicesInsert(b []byte, i int, v ...byte) []byte {
	return append(b[:i], append(append([]byte(nil), v...), b[i:]...)...)
}

// orderDependent reports whether body holds an object the two decoders
// may read differently by design: one with a tag as its first member and
// more members, or with a member name twice.
func orderDependent(body []byte) bool {
	d := jsonDecoder{buf: body}
	found := false
	var walk func(depth int, tags bool) bool
	walk = func(depth int, tags bool) bool {
		d.skipSpace()
		if d.pos >= len(d.buf) || depth > JSONMaxDepth+2 {
			return false
		}
		switch d.buf[d.pos] {
		case '[':
			d.pos++
			for {
				d.skipSpace()
				if d.pos < len(d.buf) && d.buf[d.pos] == ']' {
					d.pos++
					return true
				}
				if !walk(depth+1, true) {
					return false
				}
				d.skipSpace()
				if d.pos < len(d.buf) && d.buf[d.pos] == ',' {
					d.pos++
				}
			}
		case '{':
			d.pos++
			seen := map[string]bool{}
			first := ""
			for n := 0; ; n++ {
				d.skipSpace()
				if d.pos >= len(d.buf) {
					return false
				}
				if d.buf[d.pos] == '}' {
					d.pos++
					return true
				}
				if d.buf[d.pos] != '"' {
					return false
				}
				k, err := d.string()
				if err != nil {
					return false
				}
				if n == 0 {
					first = k
				}
				if seen[k] || n > 0 && tags && isTag(first) {
					found = true
				}
				seen[k] = true
				d.skipSpace()
				if d.pos < len(d.buf) && d.buf[d.pos] == ':' {
					d.pos++
				}
				// The object of a $map is plain, as is the envelope.
				if !walk(depth+1, !(n == 0 && tags && k == tagMap)) {
					return false
				}
				d.skipSpace()
				if d.pos < len(d.buf) && d.buf[d.pos] == ',' {
					d.pos++
				}
			}
		case '"':
			_, err := d.string()
			return err == nil
		default:
			_, err := d.value(depth)
			return err == nil
		}
	}
	walk(0, false)
	return found
}

// TestJSONOrderDependent pins the bodies whose reading depended on member
// order, old and new: every body the old codec read, the new one reads
// the same; some it refused, the new one reads.
func TestJSONOrderDependent(t *testing.T) {
	for _, tc := range []struct {
		body string
		want any
	}{
		{`{"$base64":"AAE=","a":1}`, map[string]any{"a": int64(1), "$base64": "AAE="}},
		{`{"$map":{},"$base64":"x"}`, map[string]any{"$map": map[string]any{}, "$base64": "x"}},
		{`{"$base64":"AA==","$base64":"AAE="}`, []byte{0, 1}},
		{`{"$datetime":1,"$datetime":"2026-11-25T13:55:16.123456789Z"}`, when},
	} {
		_, err := oldJSON.DecodeReply([]byte(`{"result":` + tc.body + `}`))
		assert.ErrorIs(t, err, transport.ErrParse, "the old codec refused %s", tc.body)
		got, err := newJSON.DecodeReply([]byte(`{"result":` + tc.body + `}`))
		require.NoError(t, err, tc.body)
		assert.Equal(t, tc.want, got, tc.body)
		assert.True(t, orderDependent([]byte(`{"result":`+tc.body+`}`)), tc.body)
	}
	// Repeated names: the old codec checked every occurrence, the new one
	// sees only the last.
	for _, body := range []string{
		`{"method":1,"method":"f"}`, `{"method":"f","params":{},"params":[]}`,
		`{"method":"f","params":[{"a":{"$base64":"!"},"a":1}]}`, `{"method":"f","id":{"$base64":"!"},"id":1}`,
	} {
		_, _, err := oldJSON.DecodeCall([]byte(body))
		assert.ErrorIs(t, err, transport.ErrParse, "the old codec refused %s", body)
		_, _, err = newJSON.DecodeCall([]byte(body))
		assert.NoError(t, err, body)
		assert.True(t, orderDependent([]byte(body)), body)
	}
	// Both ways round: what either encoder writes for tag-named structs
	// reads the same with both decoders.
	for _, v := range []any{
		map[string]any{"$base64": "x", "a": int64(1)}, map[string]any{"": int64(1), "$base64": "x"},
		map[string]any{"$map": map[string]any{"$datetime": when}}, map[string]any{"!": int64(1), "$map": int64(2), "$x": int64(3)},
	} {
		diffEncode(t, []any{v}, v)
		for _, c := range []transport.BodyCodec{oldJSON, newJSON} {
			body, err := c.AppendReply(nil, v)
			require.NoError(t, err)
			assert.False(t, orderDependent(body), "%s", body)
			for _, d := range []transport.BodyCodec{oldJSON, newJSON} {
				got, err := d.DecodeReply(body)
				require.NoError(t, err, "%s", body)
				assert.Equal(t, v, got, "%s", body)
			}
		}
	}
}

// TestJSONDepthBoundary: the new encoder refuses exactly what the old
// decoder refused; the old encoder wrote some of those bodies anyway.
func TestJSONDepthBoundary(t *testing.T) {
	nest := func(v any, n int) any {
		for range n {
			v = []any{v}
		}
		return v
	}
	for n := JSONMaxDepth - 3; n <= JSONMaxDepth+2; n++ {
		for _, leaf := range []any{int64(1), []any{}, []byte{1}, when, map[string]any{"a": int64(1)}, map[string]any{"$map": int64(1)}} {
			v := nest(leaf, n)
			for _, call := range []bool{false, true} {
				var oldBody, newBody []byte
				var oldErr, newErr error
				if call {
					oldBody, oldErr = oldJSON.AppendCall(nil, "m", []any{v})
					newBody, newErr = newJSON.AppendCall(nil, "m", []any{v})
				} else {
					oldBody, oldErr = oldJSON.AppendReply(nil, v)
					newBody, newErr = newJSON.AppendReply(nil, v)
				}
				name := fmt.Sprintf("%d levels, leaf %T, call %v", n, leaf, call)
				if newErr == nil {
					require.NoError(t, oldErr, name)
					assert.Equal(t, oldBody, newBody, name)
					assert.True(t, diffDecodeCall(t, newBody) || diffDecodeReply(t, newBody), name)
					continue
				}
				// The new encoder refuses: the old one refused too, or
				// wrote a body no decoder reads.
				if oldErr == nil {
					assert.False(t, diffDecodeCall(t, oldBody) || diffDecodeReply(t, oldBody), name)
				}
			}
		}
	}
}

// FuzzJSONOldVsNew runs both decoders on fuzzed bodies.
func FuzzJSONOldVsNew(f *testing.F) {
	for _, b := range tableBodies() {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if orderDependent(body) {
			return
		}
		diffBodies(t, body)
		// Whatever decodes re-encodes the same with both.
		if _, args, err := newJSON.DecodeCall(body); err == nil {
			if _, err := newJSON.AppendCall(nil, "m", args); err == nil {
				diffEncode(t, args, args)
			}
		}
	})
}

// A copy of jsoncodec's generator (gen_test.go), for this temporary test.

var diffRunes = []rune("abcxyzABC019 _.-<>&'\"\\/;\t\n\r\x00\x01\x08\x0c\x1f\x7f$é€日本😀\u00a0\u2028\u2029\ufffd")

var diffKeys = []string{tagBase64, tagDateTime, tagMap, "", "!", "#", "$", "$x", "$base", "$map2", "method", "params", "result", "error"}

func diffRandomString(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(12) {
		b.WriteRune(diffRunes[r.IntN(len(diffRunes))])
	}
	return b.String()
}

func diffRandomKey(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return diffKeys[r.IntN(len(diffKeys))]
	}
	return diffRandomString(r)
}

func diffRandomValue(r *rand.Rand, depth int) any {
	kinds := 8
	if depth > 0 {
		kinds = 11
	}
	switch r.IntN(kinds) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 1
	case 2:
		switch r.IntN(3) {
		case 0:
			return int64(r.IntN(256)) - 128
		case 1:
			return []int64{0, 1, -1, 1 << 53, 1<<53 + 1, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64}[r.IntN(9)]
		}
		return int64(r.Uint64())
	case 3, 7:
		return diffRandomString(r)
	case 4:
		switch r.IntN(3) {
		case 0:
			return float64(r.IntN(2000)-1000) / 8
		case 1:
			return []float64{0, math.Copysign(0, -1), 1, 1e6, 1e20, 1e21, 0.1, 1e-7, 5e-324, math.MaxFloat64, -math.SmallestNonzeroFloat64}[r.IntN(11)]
		}
		for {
			if f := math.Float64frombits(r.Uint64()); !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f
			}
		}
	case 5:
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	case 6:
		sec := r.Int64N(253402300799+62135596800) - 62135596800
		return time.Unix(sec, r.Int64N(1e9)*int64(r.IntN(2))).UTC()
	case 8:
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = diffRandomValue(r, depth-1)
		}
		return a
	}
	m := make(map[string]any)
	for range r.IntN(4) {
		m[diffRandomKey(r)] = diffRandomValue(r, depth-1)
	}
	return m
}

func diffRandomArgs(r *rand.Rand) []any {
	args := make([]any, r.IntN(5))
	for i := range args {
		args[i] = diffRandomValue(r, 3)
	}
	return args
}

// BenchmarkJSONOldVsNew measures both codecs on the same inputs, one
// sub-benchmark beside the other (jsoncodec's bench_test.go has the same
// cases for the new codec alone):
//
//	go test -run '^$' -bench JSONOldVsNew -benchmem ./amqp
func BenchmarkJSONOldVsNew(b *testing.B) {
	nested := map[string]any{
		"id": int64(42), "name": "widget <large>", "price": 9.75, "active": true, "note": nil,
		"tags": []any{"a", "b", "c"},
		"dims": map[string]any{"w": 1.5, "h": 2.0, "d": int64(3)},
		"parts": []any{
			map[string]any{"n": int64(1), "ok": true, "label": "first"},
			map[string]any{"n": int64(2), "ok": false, "label": "second", "weights": []any{0.5, 0.25, int64(7)}},
		},
		"blob":    []byte("hello, world"),
		"updated": time.Date(2026, 11, 25, 13, 55, 16, 123456789, time.UTC),
	}
	cases := []struct {
		name   string
		args   []any
		result any
	}{
		{"fun_add", []any{2, 3}, int64(5)},
		{"nested", []any{nested, []any{nested, int64(1)}}, nested},
	}
	codecs := []struct {
		name string
		c    transport.BodyCodec
	}{{"old", oldJSON}, {"new", newJSON}}
	for _, bc := range cases {
		for _, cc := range codecs {
			c := cc.c
			b.Run("EncodeCall/"+bc.name+"/"+cc.name, func(b *testing.B) {
				b.ReportAllocs()
				buf := make([]byte, 0, 4096)
				for b.Loop() {
					var err error
					if buf, err = c.AppendCall(buf[:0], "fun_add", bc.args); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		for _, cc := range codecs {
			c := cc.c
			body, err := c.AppendCall(nil, "fun_add", bc.args)
			require.NoError(b, err)
			b.Run("DecodeCall/"+bc.name+"/"+cc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := c.DecodeCall(body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		for _, cc := range codecs {
			c := cc.c
			b.Run("EncodeReply/"+bc.name+"/"+cc.name, func(b *testing.B) {
				b.ReportAllocs()
				buf := make([]byte, 0, 4096)
				for b.Loop() {
					var err error
					if buf, err = c.AppendReply(buf[:0], bc.result); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		for _, cc := range codecs {
			c := cc.c
			body, err := c.AppendReply(nil, bc.result)
			require.NoError(b, err)
			b.Run("DecodeReply/"+bc.name+"/"+cc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.DecodeReply(body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
