package amqp

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
)

// JSONMaxDepth bounds how deeply arrays and objects nest in a JSON body,
// when encoding and when decoding.
const JSONMaxDepth = 100

// Tags of the JSON codec's typed values: wire values JSON has no type for
// travel as a one-member object.
const (
	tagBase64   = "$base64"   // {"$base64": "AAEC"}: []byte, standard base64
	tagDateTime = "$datetime" // {"$datetime": "2026-11-25T13:55:16Z"}: time.Time, RFC 3339
	tagMap      = "$map"      // {"$map": {...}}: a struct whose only member name starts with '$'
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
// {"$base64": "..."} and time.Time as {"$datetime": "RFC 3339"}; a struct
// whose only member name starts with '$' is wrapped as {"$map": {...}}, so
// every wire value round-trips. NaN and infinities cannot be encoded.
// Unknown envelope members (such as a JSON-RPC "id") are ignored.
type JSONCodec struct{}

var _ transport.Codec = JSONCodec{}

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
		if dst, err = appendJSONValue(dst, a, 0); err != nil {
			return dst, fmt.Errorf("json: argument %d: %w", i+1, err)
		}
	}
	return append(dst, "]}"...), nil
}

// AppendReply appends {"result": ...} to dst.
func (JSONCodec) AppendReply(dst []byte, result any) ([]byte, error) {
	dst = append(dst, `{"result":`...)
	dst, err := appendJSONValue(dst, result, 0)
	if err != nil {
		return dst, fmt.Errorf("json: result: %w", err)
	}
	return append(dst, '}'), nil
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
	env, err := decodeJSONObject(body)
	if err != nil {
		return "", nil, err
	}
	m, ok := env["method"].(string)
	if !ok {
		return "", nil, jsonParseError(`a call needs "method" as a string`)
	}
	var args []any
	switch p := env["params"].(type) {
	case nil:
	case []any:
		if len(p) == 0 {
			break // no arguments: nil, as when "params" is missing
		}
		v, err := fromJSON(p, 1)
		if err != nil {
			return "", nil, err
		}
		args = v.([]any)
	default:
		return "", nil, jsonParseError(`"params" must be an array`)
	}
	return m, args, nil
}

// DecodeReply decodes a reply envelope: the result, a *transport.RemoteError
// for a fault, or an error wrapping transport.ErrParse.
func (JSONCodec) DecodeReply(body []byte) (any, error) {
	env, err := decodeJSONObject(body)
	if err != nil {
		return nil, err
	}
	if e, ok := env["error"]; ok && e != nil {
		f, ok := e.(map[string]any)
		if !ok {
			return nil, jsonParseError(`"error" must be an object`)
		}
		n, ok := f["code"].(json.Number)
		if !ok {
			return nil, jsonParseError(`"error" needs an integer "code"`)
		}
		code, err := strconv.ParseInt(string(n), 10, 32)
		if err != nil {
			return nil, jsonParseError(`"error" code is not a 32-bit integer`)
		}
		msg, _ := f["message"].(string)
		return nil, &transport.RemoteError{Code: int(code), Message: msg}
	}
	r, ok := env["result"]
	if !ok {
		return nil, jsonParseError(`a reply needs "result" or "error"`)
	}
	return fromJSON(r, 1)
}

func jsonParseError(msg string) error {
	return fmt.Errorf("%w: json: %s", transport.ErrParse, msg)
}

// decodeJSONObject decodes body as one JSON object, numbers kept as
// json.Number. Trailing data is an error.
func decodeJSONObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var env map[string]any
	if err := dec.Decode(&env); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, jsonParseError("the body must be a JSON object")
		}
		return nil, fmt.Errorf("%w: json: %v", transport.ErrParse, err)
	}
	if env == nil {
		return nil, jsonParseError("the body must be a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, jsonParseError("data after the JSON object")
	}
	return env, nil
}

// fromJSON turns a value decoded by encoding/json into a wire value.
func fromJSON(v any, depth int) (any, error) {
	if depth > JSONMaxDepth {
		return nil, jsonParseError(fmt.Sprintf("values nested deeper than %d levels", JSONMaxDepth))
	}
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n, nil
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, jsonParseError("bad number " + s)
		}
		return f, nil
	case []any:
		for i, e := range x {
			w, err := fromJSON(e, depth+1)
			if err != nil {
				return nil, err
			}
			x[i] = w
		}
		return x, nil
	case map[string]any:
		if len(x) == 1 {
			for k, e := range x {
				if w, ok, err := fromJSONTagged(k, e, depth); ok {
					return w, err
				}
			}
		}
		return fromJSONMap(x, depth)
	}
	return v, nil // nil, bool, string
}

func fromJSONMap(x map[string]any, depth int) (any, error) {
	for k, e := range x {
		w, err := fromJSON(e, depth+1)
		if err != nil {
			return nil, err
		}
		x[k] = w
	}
	return x, nil
}

// fromJSONTagged decodes a one-member object whose member is a tag; ok is
// false when it is an ordinary object.
func fromJSONTagged(k string, e any, depth int) (any, bool, error) {
	switch k {
	case tagBase64:
		s, ok := e.(string)
		if !ok {
			return nil, true, jsonParseError(tagBase64 + " must be a string")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, true, jsonParseError(tagBase64 + ": " + err.Error())
		}
		return b, true, nil
	case tagDateTime:
		s, ok := e.(string)
		if !ok {
			return nil, true, jsonParseError(tagDateTime + " must be a string")
		}
		t, err := registry.ParseTime(s)
		if err != nil {
			return nil, true, jsonParseError(tagDateTime + ": " + err.Error())
		}
		return t, true, nil
	case tagMap:
		m, ok := e.(map[string]any)
		if !ok {
			return nil, true, jsonParseError(tagMap + " must be an object")
		}
		w, err := fromJSONMap(m, depth+1)
		return w, true, err
	}
	return nil, false, nil
}

// appendJSONValue appends v as JSON. Wire values are written directly;
// anything else goes through registry.ToWire first.
func appendJSONValue(dst []byte, v any, depth int) ([]byte, error) {
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
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSONValue(dst, e, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		return appendJSONMap(dst, x, depth)
	}
	w, err := registry.ToWire(v)
	if err != nil {
		return dst, err
	}
	switch w.(type) {
	case nil, bool, int64, float64, string, []byte, time.Time, []any, map[string]any:
		return appendJSONValue(dst, w, depth)
	}
	return dst, fmt.Errorf("cannot encode %T", v)
}

func appendJSONMap(dst []byte, m map[string]any, depth int) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	wrap := len(keys) == 1 && strings.HasPrefix(keys[0], "$")
	if wrap {
		dst = append(dst, `{"`+tagMap+`":`...)
	}
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendJSONValue(dst, m[k], depth+1); err != nil {
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
