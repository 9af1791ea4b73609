package jsoncodec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

// DecodeCall decodes a call. Errors wrap transport.ErrParse.
func (Codec) DecodeCall(body []byte) (string, []any, error) {
	env, err := decodeEnvelope(body)
	if err != nil {
		return "", nil, err
	}
	method, ok := env["method"].(string)
	if !ok {
		return "", nil, parseError(`a call needs "method" as a string`)
	}
	var args []any
	switch p := env["params"].(type) {
	case nil:
	case []any:
		args = p
	default:
		return "", nil, parseError(`"params" must be an array`)
	}
	if len(args) == 0 {
		args = nil // no arguments: nil, as when "params" is missing
	}
	return method, args, nil
}

// DecodeReply decodes a reply: the result, a *transport.RemoteError for a
// fault, or an error wrapping transport.ErrParse.
func (Codec) DecodeReply(body []byte) (any, error) {
	env, err := decodeEnvelope(body)
	if err != nil {
		return nil, err
	}
	if fault := env["error"]; fault != nil {
		f, ok := fault.(map[string]any)
		if !ok {
			return nil, parseError(`"error" must be an object`)
		}
		code, ok := f["code"].(int64)
		if !ok || code < math.MinInt32 || code > math.MaxInt32 {
			return nil, parseError(`"error" needs a 32-bit integer "code"`)
		}
		msg, _ := f["message"].(string)
		return nil, &transport.RemoteError{Code: int(code), Message: msg}
	}
	result, ok := env["result"]
	if !ok {
		return nil, parseError(`a reply needs "result" or "error"`)
	}
	return result, nil
}

// DecodeValue decodes one value in the codec's JSON form, as AppendValue
// writes it, with nothing but white space around it. Errors wrap
// transport.ErrParse.
func DecodeValue(b []byte) (any, error) {
	if err := checkDepth(b, MaxDepth); err != nil {
		return nil, err
	}
	var v any
	if err := decode(b, &v); err != nil {
		return nil, err
	}
	v, err := decodeValue(v)
	if err != nil {
		return nil, located(err, "")
	}
	return v, nil
}

// decodeEnvelope decodes body as one JSON object and the wire values of
// all its members. The envelope itself is never a tag.
func decodeEnvelope(body []byte) (map[string]any, error) {
	if i := skipSpace(body, 0); i == len(body) || body[i] != '{' {
		return nil, parseError("the body must be a JSON object")
	}
	if err := checkDepth(body, MaxDepth+1); err != nil {
		return nil, err
	}
	var v any // not a map: encoding/json fills an interface without reflection
	if err := decode(body, &v); err != nil {
		return nil, err
	}
	env, ok := v.(map[string]any)
	if !ok { // cannot happen: the body starts with '{'
		return nil, parseError("the body must be a JSON object")
	}
	for k, e := range env {
		w, err := decodeValue(e)
		if err != nil {
			return nil, located(err, excerpt(k))
		}
		env[k] = w
	}
	return env, nil
}

// decode decodes b with encoding/json into v, numbers as json.Number.
func decode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return parseError("at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return parseError("unexpected end of input")
		}
		return parseError("%v", err)
	}
	if end := skipSpace(b, int(dec.InputOffset())); end != len(b) {
		return parseError("at byte %d: data after the JSON value", end)
	}
	return nil
}

func parseError(format string, args ...any) error {
	return fmt.Errorf("%w: json: %s", transport.ErrParse, fmt.Sprintf(format, args...))
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// checkDepth fails when arrays and objects in b nest deeper than max, so
// that encoding/json never descends into an absurdly deep body. It counts
// brackets outside strings; for a malformed body the count may be off,
// but encoding/json rejects that body anyway.
func checkDepth(b []byte, max int) error {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			if depth++; depth > max {
				return parseError("at byte %d: values nested deeper than %d levels", i, MaxDepth)
			}
		case ']', '}':
			depth--
		}
	}
	return nil
}

// decodeValue turns what encoding/json decoded into wire values, in
// place: json.Number into int64 or float64, tagged objects into the
// values they stand for. Depth is bounded by checkDepth.
func decodeValue(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		return number(string(x)), nil
	case []any:
		return x, decodeArray(x)
	case map[string]any:
		if len(x) == 1 {
			for k, e := range x {
				if isTag(k) {
					return untag(k, e)
				}
			}
		}
		return x, decodeMembers(x)
	}
	return v, nil // nil, bool, string
}

func decodeArray(a []any) error {
	for i, e := range a {
		switch e.(type) {
		case json.Number, []any, map[string]any:
			w, err := decodeValue(e)
			if err != nil {
				return wire.Within(err, wire.Index(i))
			}
			a[i] = w
		}
	}
	return nil
}

func decodeMembers(m map[string]any) error {
	for k, e := range m {
		switch e.(type) {
		case json.Number, []any, map[string]any:
			w, err := decodeValue(e)
			if err != nil {
				return wire.Within(err, excerpt(k))
			}
			m[k] = w
		}
	}
	return nil
}

// untag decodes the value a one-member object with a tag name stands for.
func untag(tag string, v any) (any, error) {
	switch tag {
	case tagBase64:
		s, ok := v.(string)
		if !ok {
			return nil, &wire.ConversionError{Reason: tagBase64 + " must be a string"}
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, &wire.ConversionError{Reason: tagBase64 + ": " + err.Error()}
		}
		return b, nil
	case tagDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, &wire.ConversionError{Reason: tagDateTime + " must be a string"}
		}
		t, err := wire.ParseTime(s)
		if err != nil {
			return nil, &wire.ConversionError{Reason: fmt.Sprintf("%s: cannot read %q as a date-time", tagDateTime, excerpt(s))}
		}
		return t, nil
	}
	m, ok := v.(map[string]any) // tagMap: the plain struct inside
	if !ok {
		return nil, &wire.ConversionError{Reason: tagMap + " must be an object"}
	}
	if err := decodeMembers(m); err != nil {
		return nil, wire.Within(err, tagMap)
	}
	return m, nil
}

// number converts a JSON number: an integer to int64 when it fits,
// anything else to float64 (±Inf when out of range).
func number(s string) any {
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	f, _ := strconv.ParseFloat(s, 64) // the syntax is valid; a range error leaves ±Inf
	return f
}

// located turns a decoding error into a parse error that names where the
// value is (a *wire.ConversionError's path): below the envelope member
// step, or in the value when step is empty.
func located(err error, step string) error {
	if step != "" {
		err = wire.Within(err, step)
	}
	return parseError("%v", err)
}

// excerpt shortens input quoted in an error message to 32 bytes.
func excerpt(s string) string {
	n := 32
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
