package amqp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

// JSONMaxDepth bounds how deeply arrays and objects nest in a JSON body,
// when encoding and when decoding.
const JSONMaxDepth = 100

// Tags of the JSON codec's typed values: wire values JSON has no type for
// travel as a one-member object.
const (
	tagBase64   = "$base64"   // {"$base64": "AAEC"}: []byte, standard base64
	tagDateTime = "$datetime" // {"$datetime": "2026-11-25T13:55:16Z"}: time.Time, RFC 3339
	tagMap      = "$map"      // {"$map": {...}}: a struct whose first member name is a tag
)

// JSONCodec is a small JSON envelope codec:
//
//	call:  {"method": "fun_add", "params": [2, 3]}
//	reply: {"result": 5}
//	fault: {"error": {"code": -32601, "message": "method not found"}}
//
// Integers decode to int64 (to float64 when they do not fit), numbers with
// a fraction or exponent to float64; an encoded float64 always carries a
// fraction or exponent, so the two never mix up. []byte travels as
// {"$base64": "..."} and time.Time as {"$datetime": "RFC 3339"}: an object
// whose first member is one of these tags stands for that value and has no
// other member. A struct whose first member (in sorted order) is named like
// a tag is wrapped as {"$map": {...}}, so every wire value round-trips.
// NaN and infinities cannot be encoded. Member names match exactly; unknown
// envelope members (such as a JSON-RPC "id") are ignored.
type JSONCodec struct{}

var (
	_ transport.BodyCodec        = JSONCodec{}
	_ transport.BodyReplyLimiter = JSONCodec{}
)

// Name returns "json".
func (JSONCodec) Name() string { return "json" }

// ContentType returns "application/json".
func (JSONCodec) ContentType() string { return "application/json" }

// AppendCall appends {"method": ..., "params": [...]} to dst.
func (JSONCodec) AppendCall(dst []byte, method string, args []any) ([]byte, error) {
	dst = append(dst, `{"method":`...)
	dst = appendJSONString(dst, method)
	dst = append(dst, `,"params":[`...)
	for i, a := range args {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = (&jsonEncoder{}).value(dst, a, 0); err != nil {
			return dst, fmt.Errorf("json: argument %d: %w", i+1, err)
		}
	}
	return append(dst, "]}"...), nil
}

// AppendReply appends {"result": ...} to dst.
func (c JSONCodec) AppendReply(dst []byte, result any) ([]byte, error) {
	return c.AppendReplyWithin(dst, result, 0)
}

// AppendReplyWithin is AppendReply that stops as soon as the reply passes
// limit bytes, with an error wrapping transport.ErrTooLarge (it implements
// transport.BodyReplyLimiter). A limit of zero or less means none.
func (JSONCodec) AppendReplyWithin(dst []byte, result any, limit int64) ([]byte, error) {
	e := jsonEncoder{limit: transport.SizeLimit{Max: limit, Start: len(dst)}}
	dst = append(dst, `{"result":`...)
	dst, err := e.value(dst, result, 0)
	if err != nil {
		return dst, fmt.Errorf("json: result: %w", err)
	}
	dst = append(dst, '}')
	if e.limit.Passed(dst) {
		return dst, e.limit.Err()
	}
	return dst, nil
}

// AppendFault appends {"error": {"code": ..., "message": ...}} to dst.
func (JSONCodec) AppendFault(dst []byte, fault *transport.RemoteError) []byte {
	dst = append(dst, `{"error":{"code":`...)
	dst = strconv.AppendInt(dst, int64(fault.Code), 10)
	dst = append(dst, `,"message":`...)
	dst = appendJSONString(dst, fault.Message)
	return append(dst, "}}"...)
}

// DecodeCall decodes a call envelope. Errors wrap transport.ErrParse.
func (JSONCodec) DecodeCall(body []byte) (string, []any, error) {
	var (
		method    string
		hasMethod bool
		args      []any
	)
	err := decodeJSONEnvelope(body, func(d *jsonDecoder, key string) error {
		v, err := d.value(0)
		if err != nil {
			return err
		}
		switch key {
		case "method":
			method, hasMethod = v.(string)
			if !hasMethod {
				return jsonParseError(`a call needs "method" as a string`)
			}
		case "params":
			switch p := v.(type) {
			case nil:
				args = nil
			case []any:
				args = p
			default:
				return jsonParseError(`"params" must be an array`)
			}
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	if !hasMethod {
		return "", nil, jsonParseError(`a call needs "method" as a string`)
	}
	if len(args) == 0 {
		args = nil // no arguments: nil, as when "params" is missing
	}
	return method, args, nil
}

// DecodeReply decodes a reply envelope: the result, a *transport.RemoteError
// for a fault, or an error wrapping transport.ErrParse.
func (JSONCodec) DecodeReply(body []byte) (any, error) {
	var (
		result    any
		hasResult bool
		fault     any
	)
	err := decodeJSONEnvelope(body, func(d *jsonDecoder, key string) error {
		v, err := d.value(0)
		switch key {
		case "result":
			result, hasResult = v, true
		case "error":
			fault = v
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if fault != nil {
		f, ok := fault.(map[string]any)
		if !ok {
			return nil, jsonParseError(`"error" must be an object`)
		}
		code, ok := f["code"].(int64)
		if !ok || code < math.MinInt32 || code > math.MaxInt32 {
			return nil, jsonParseError(`"error" needs a 32-bit integer "code"`)
		}
		msg, _ := f["message"].(string)
		return nil, &transport.RemoteError{Code: int(code), Message: msg}
	}
	if !hasResult {
		return nil, jsonParseError(`a reply needs "result" or "error"`)
	}
	return result, nil
}

// decodeJSONEnvelope parses body as one JSON object, handing each member
// name to member, which parses the value. The envelope itself is never a
// tag; trailing data is an error.
func decodeJSONEnvelope(body []byte, member func(d *jsonDecoder, key string) error) error {
	d := jsonDecoder{buf: body}
	d.skipSpace()
	if d.pos >= len(d.buf) || d.buf[d.pos] != '{' {
		return jsonParseError("the body must be a JSON object")
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.buf) && d.buf[d.pos] == '}' {
		d.pos++
	} else {
		for {
			d.skipSpace()
			if d.pos >= len(d.buf) || d.buf[d.pos] != '"' {
				return d.errorf("want a member name")
			}
			k, err := d.string()
			if err != nil {
				return err
			}
			d.skipSpace()
			if d.pos >= len(d.buf) || d.buf[d.pos] != ':' {
				return d.errorf("want : after a member name")
			}
			d.pos++
			if err := member(&d, k); err != nil {
				return err
			}
			d.skipSpace()
			if d.pos >= len(d.buf) {
				return d.errorf("unterminated object")
			}
			if d.buf[d.pos] == '}' {
				d.pos++
				break
			}
			if d.buf[d.pos] != ',' {
				return d.errorf("want , or } in an object")
			}
			d.pos++
		}
	}
	d.skipSpace()
	if d.pos != len(d.buf) {
		return d.errorf("data after the JSON object")
	}
	return nil
}

func jsonParseError(msg string) error {
	return fmt.Errorf("%w: json: %s", transport.ErrParse, msg)
}

// jsonDecoder is a small recursive-descent JSON parser that produces wire
// values directly: integers as int64, other numbers as float64, tagged
// objects as []byte and time.Time. Nesting is bounded by JSONMaxDepth.
type jsonDecoder struct {
	buf []byte
	pos int
}

func (d *jsonDecoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: json: at byte %d: %s", transport.ErrParse, d.pos, fmt.Sprintf(format, args...))
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (any, error) {
	d.skipSpace()
	if d.pos >= len(d.buf) {
		return nil, d.errorf("unexpected end of input")
	}
	switch c := d.buf[d.pos]; {
	case c == '{':
		return d.object(depth+1, true)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.string()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	default:
		return nil, d.errorf("unexpected character %q", c)
	}
}

func (d *jsonDecoder) literal(word string) error {
	if !bytes.HasPrefix(d.buf[d.pos:], []byte(word)) {
		return d.errorf("invalid literal")
	}
	d.pos += len(word)
	return nil
}

func (d *jsonDecoder) checkDepth(depth int) error {
	if depth > JSONMaxDepth {
		return d.errorf("values nested deeper than %d levels", JSONMaxDepth)
	}
	return nil
}

func (d *jsonDecoder) array(depth int) (any, error) {
	if err := d.checkDepth(depth); err != nil {
		return nil, err
	}
	d.pos++ // [
	out := []any{}
	d.skipSpace()
	if d.pos < len(d.buf) && d.buf[d.pos] == ']' {
		d.pos++
		return out, nil
	}
	for {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		d.skipSpace()
		if d.pos >= len(d.buf) {
			return nil, d.errorf("unterminated array")
		}
		switch d.buf[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return out, nil
		default:
			return nil, d.errorf("want , or ] in an array")
		}
	}
}

// object parses an object. With tags, an object whose first member is a
// tag ($base64, $datetime, $map) stands for the value the tag names and
// must have that one member.
func (d *jsonDecoder) object(depth int, tags bool) (any, error) {
	if err := d.checkDepth(depth); err != nil {
		return nil, err
	}
	d.pos++ // {
	out := map[string]any{}
	d.skipSpace()
	if d.pos < len(d.buf) && d.buf[d.pos] == '}' {
		d.pos++
		return out, nil
	}
	tag := ""
	for {
		d.skipSpace()
		if d.pos >= len(d.buf) || d.buf[d.pos] != '"' {
			return nil, d.errorf("want a member name")
		}
		k, err := d.string()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.buf) || d.buf[d.pos] != ':' {
			return nil, d.errorf("want : after a member name")
		}
		d.pos++
		if tags && len(out) == 0 && isTag(k) {
			tag = k
		}
		var v any
		if tag == tagMap {
			// {"$map": {...}}: the inner object is a plain struct.
			d.skipSpace()
			if d.pos >= len(d.buf) || d.buf[d.pos] != '{' {
				return nil, d.errorf("%s must be an object", tagMap)
			}
			v, err = d.object(depth+1, false)
		} else {
			v, err = d.value(depth)
		}
		if err != nil {
			return nil, err
		}
		out[k] = v
		d.skipSpace()
		if d.pos >= len(d.buf) {
			return nil, d.errorf("unterminated object")
		}
		if d.buf[d.pos] == '}' {
			d.pos++
			break
		}
		if d.buf[d.pos] != ',' {
			return nil, d.errorf("want , or } in an object")
		}
		if tag != "" {
			return nil, d.errorf("a %s object must have only that member", tag)
		}
		d.pos++
	}
	if tag == "" {
		return out, nil
	}
	return d.untag(tag, out[tag])
}

func isTag(k string) bool { return k == tagBase64 || k == tagDateTime || k == tagMap }

// untag decodes the value a tag stands for.
func (d *jsonDecoder) untag(tag string, v any) (any, error) {
	switch tag {
	case tagBase64:
		s, ok := v.(string)
		if !ok {
			return nil, d.errorf("%s must be a string", tagBase64)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, d.errorf("%s: %v", tagBase64, err)
		}
		return b, nil
	case tagDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, d.errorf("%s must be a string", tagDateTime)
		}
		t, err := wire.ParseTime(s)
		if err != nil {
			return nil, d.errorf("%s: %v", tagDateTime, err)
		}
		return t, nil
	}
	return v, nil // tagMap: the plain struct inside
}

// number parses a JSON number: an integer as int64 when it fits, anything
// else as float64 (±Inf when out of range).
func (d *jsonDecoder) number() (any, error) {
	start := d.pos
	if d.buf[d.pos] == '-' {
		d.pos++
	}
	digits := func() int {
		n := 0
		for d.pos < len(d.buf) && d.buf[d.pos] >= '0' && d.buf[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	intStart := d.pos
	if n := digits(); n == 0 || (n > 1 && d.buf[intStart] == '0') {
		return nil, d.errorf("invalid number")
	}
	isInt := true
	if d.pos < len(d.buf) && d.buf[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return nil, d.errorf("invalid number")
		}
		isInt = false
	}
	if d.pos < len(d.buf) && (d.buf[d.pos] == 'e' || d.buf[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.buf) && (d.buf[d.pos] == '+' || d.buf[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return nil, d.errorf("invalid number")
		}
		isInt = false
	}
	s := string(d.buf[start:d.pos])
	if isInt {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, d.errorf("invalid number %s", s)
	}
	return f, nil
}

// string parses a JSON string. Invalid UTF-8 and lone surrogates become
// U+FFFD, as encoding/json does.
func (d *jsonDecoder) string() (string, error) {
	d.pos++ // "
	start := d.pos
	// Fast path: no escapes, valid UTF-8.
	for d.pos < len(d.buf) {
		c := d.buf[d.pos]
		if c == '"' {
			s := d.buf[start:d.pos]
			d.pos++
			return string(s), nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		d.pos++
	}
	out := append([]byte(nil), d.buf[start:d.pos]...)
	for d.pos < len(d.buf) {
		c := d.buf[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(out), nil
		case c < 0x20:
			return "", d.errorf("control character in a string")
		case c == '\\':
			if d.pos+1 >= len(d.buf) {
				return "", d.errorf("unterminated string")
			}
			e := d.buf[d.pos+1]
			d.pos += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", d.errorf("invalid \\u escape")
				}
				if utf16.IsSurrogate(r) {
					// A high surrogate and a \uDC00-\uDFFF escape after it
					// are one rune; anything else is U+FFFD.
					pair := utf8.RuneError
					if d.pos+6 <= len(d.buf) && d.buf[d.pos] == '\\' && d.buf[d.pos+1] == 'u' {
						if r2 := hexRune(d.buf[d.pos+2 : d.pos+6]); r2 >= 0 {
							if x := utf16.DecodeRune(r, r2); x != utf8.RuneError {
								pair = x
								d.pos += 6
							}
						}
					}
					r = pair
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", d.errorf("invalid escape \\%c", e)
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.buf[d.pos:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, d.buf[d.pos:d.pos+size]...)
			}
			d.pos += size
		}
	}
	return "", d.errorf("unterminated string")
}

// hex4 reads the four hex digits of a \u escape.
func (d *jsonDecoder) hex4() (rune, bool) {
	if d.pos+4 > len(d.buf) {
		return 0, false
	}
	r := hexRune(d.buf[d.pos : d.pos+4])
	if r < 0 {
		return 0, false
	}
	d.pos += 4
	return r, true
}

// hexRune decodes four hex digits, or returns -1.
func hexRune(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// jsonEncoder appends JSON values; it stops once its limit is passed.
type jsonEncoder struct {
	limit transport.SizeLimit
}

// value appends v as JSON. Wire values are written directly; anything
// else goes through wire.Convert first.
func (e *jsonEncoder) value(dst []byte, v any, depth int) ([]byte, error) {
	if depth > JSONMaxDepth {
		return dst, fmt.Errorf("value nested deeper than %d levels", JSONMaxDepth)
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case float64:
		return appendJSONFloat(dst, x)
	case string:
		return appendJSONString(dst, x), nil
	case []byte:
		dst = append(dst, `{"`+tagBase64+`":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, `"}`...), nil
	case time.Time:
		dst = append(dst, `{"`+tagDateTime+`":"`...)
		dst = x.AppendFormat(dst, time.RFC3339Nano)
		return append(dst, `"}`...), nil
	case []any:
		dst = append(dst, '[')
		for i, el := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			if e.limit.Passed(dst) {
				return dst, e.limit.Err()
			}
			var err error
			if dst, err = e.value(dst, el, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		return e.object(dst, x, depth)
	}
	w, err := wire.Convert(v)
	if err != nil {
		return dst, err
	}
	switch w.(type) {
	case nil, bool, int64, float64, string, []byte, time.Time, []any, map[string]any:
		return e.value(dst, w, depth)
	}
	return dst, fmt.Errorf("cannot encode %T", v)
}

func (e *jsonEncoder) object(dst []byte, m map[string]any, depth int) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// A struct whose first member would read as a tag is wrapped.
	wrap := len(keys) > 0 && isTag(keys[0])
	if wrap {
		dst = append(dst, `{"`+tagMap+`":`...)
	}
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		if e.limit.Passed(dst) {
			return dst, e.limit.Err()
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = e.value(dst, m[k], depth+1); err != nil {
			return dst, err
		}
	}
	dst = append(dst, '}')
	if wrap {
		dst = append(dst, '}')
	}
	return dst, nil
}

// appendJSONFloat writes f so that it reads back as a float: with a
// fraction or an exponent.
func appendJSONFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, fmt.Errorf("JSON cannot carry %v", f)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
	if !bytes.ContainsAny(dst[start:], ".e") {
		dst = append(dst, ".0"...)
	}
	return dst, nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
