package amqp

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

// textFaultPrefix starts the body of a fault reply in the text codec.
const textFaultPrefix = "error: "

// TextCodec is the RabbitMQ tutorial's plain-text body: a call's body is
// its arguments as text, a reply's body its result as text. It carries
// scalars only (integers, floats, booleans, strings, times); use the json
// or xml codec for arrays, structs and binary data.
//
// A call body holds the arguments separated by white space, each an
// integer, a float, true/false (True/False, as Python's str writes them)
// or a double-quoted string (Go/JSON escapes): "7" is fib's argument 7,
// "2 3" fun_add's two arguments. A body with any other token is one string
// argument, exactly as sent: "Hello World!". The body says nothing of the method: the
// AMQP transport carries it in the message's type property, and a server
// falls back to its default method (?method=fib) when a message has none,
// as the tutorial's messages do. DecodeCall returns Method.
//
// A reply body is the whole result as text: "13". A fault is
// "error: <message>"; the AMQP transport adds the code in the
// x-fault-code header and the result's type in the type property, so its own client
// rebuilds both exactly, while a tutorial client just reads the text.
type TextCodec struct {
	// Method is what DecodeCall returns as the method name.
	Method string
}

var _ transport.Codec = TextCodec{}

// Name returns "text".
func (TextCodec) Name() string { return "text" }

// ContentType returns "text/plain".
func (TextCodec) ContentType() string { return "text/plain" }

// AppendCall appends args separated by spaces; method is not part of the
// body. Arguments that are not scalars are an error.
func (TextCodec) AppendCall(dst []byte, _ string, args []any) ([]byte, error) {
	return appendTextArgs(dst, args)
}

// DecodeCall parses the body's arguments; the method is c.Method.
func (c TextCodec) DecodeCall(body []byte) (string, []any, error) {
	args, err := parseTextArgs(body)
	return c.Method, args, err
}

// AppendReply appends the result as text: nothing for nil, the JSON form
// for arrays and structs.
func (TextCodec) AppendReply(dst []byte, result any) ([]byte, error) {
	dst, _, err := appendTextResult(dst, result)
	return dst, err
}

// AppendFault appends "error: <message>".
func (TextCodec) AppendFault(dst []byte, fault *transport.RemoteError) []byte {
	dst = append(dst, textFaultPrefix...)
	return append(dst, fault.Message...)
}

// DecodeReply reads a body that starts with "error: " as a fault (code
// CodeApplication) and anything else as a scalar: an integer, a float,
// true/false, else the text itself.
func (TextCodec) DecodeReply(body []byte) (any, error) {
	if msg, ok := bytes.CutPrefix(body, []byte(textFaultPrefix)); ok {
		return nil, &transport.RemoteError{Code: transport.CodeApplication, Message: string(msg)}
	}
	return parseTextScalar(string(bytes.TrimSpace(body)), string(body)), nil
}

// errNotScalar says what to do when a value does not fit the text codec.
var errNotScalar = errors.New("the text codec carries only integers, floats, booleans, strings and times (use codec=json or codec=xml)")

// appendTextArgs writes call arguments so that parseTextArgs reads them
// back: a single string as it is when that is unambiguous (so "Hello
// World!" travels as the tutorial's producer sends it), other strings
// quoted, numbers and booleans bare.
func appendTextArgs(dst []byte, args []any) ([]byte, error) {
	if len(args) == 1 {
		if s, ok := args[0].(string); ok && isBareString(s) {
			return append(dst, s...), nil
		}
	}
	for i, a := range args {
		if i > 0 {
			dst = append(dst, ' ')
		}
		var err error
		if dst, err = appendTextArg(dst, a); err != nil {
			return dst, fmt.Errorf("text: argument %d: %w", i+1, err)
		}
	}
	return dst, nil
}

// appendTextArg writes one argument as a token.
func appendTextArg(dst []byte, v any) ([]byte, error) {
	w, err := wire.Convert(v)
	if err != nil {
		return dst, err
	}
	switch x := w.(type) {
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return dst, fmt.Errorf("%v: %w", x, errNotScalar)
		}
		start := len(dst)
		dst = strconv.AppendFloat(dst, x, 'g', -1, 64)
		if !bytes.ContainsAny(dst[start:], ".e") {
			dst = append(dst, ".0"...)
		}
		return dst, nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case string:
		return strconv.AppendQuote(dst, x), nil
	case time.Time:
		return strconv.AppendQuote(dst, x.Format(time.RFC3339Nano)), nil
	}
	return dst, fmt.Errorf("%s: %w", describeKind(w), errNotScalar)
}

// isBareString reports whether s, sent as the whole body, reads back as
// the one string s.
func isBareString(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	args, err := parseTextArgs([]byte(s))
	if err != nil || len(args) != 1 {
		return false
	}
	got, ok := args[0].(string)
	return ok && got == s
}

// parseTextArgs reads a call body's arguments. A body whose tokens are
// all numbers, booleans or quoted strings holds one argument per token
// ("7", "2 3", "\"a b\" 3"); any other body is one string argument, exactly
// as sent ("Hello World!"). An empty or blank body holds none.
func parseTextArgs(body []byte) ([]any, error) {
	s := string(body)
	var args []any
	for rest := s; ; {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			return args, nil
		}
		if rest[0] == '"' {
			tok, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, fmt.Errorf("%w: text: unterminated or malformed quoted string", transport.ErrParse)
			}
			v, err := strconv.Unquote(tok)
			if err != nil {
				return nil, fmt.Errorf("%w: text: %v", transport.ErrParse, err)
			}
			args = append(args, v)
			rest = rest[len(tok):]
			if rest != "" && !unicode.IsSpace(rune(rest[0])) {
				return nil, fmt.Errorf("%w: text: a quoted string must be followed by white space", transport.ErrParse)
			}
			continue
		}
		end := strings.IndexFunc(rest, unicode.IsSpace)
		if end < 0 {
			end = len(rest)
		}
		v := parseTextScalar(rest[:end], rest[:end])
		if _, isString := v.(string); isString {
			return []any{s}, nil // free text: the whole body is the argument
		}
		args = append(args, v)
		rest = rest[end:]
	}
}

// parseTextScalar reads tok as an integer, a float or a boolean, else
// returns text (tok with its surrounding space, for replies).
func parseTextScalar(tok, text string) any {
	if tok == "" {
		return text
	}
	if c := tok[0]; c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' {
		if n, err := strconv.ParseInt(tok, 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(tok, 64); err == nil || errors.Is(err, strconv.ErrRange) {
			if !strings.ContainsAny(tok, "_xXpPiInN") { // decimal only: no "0x1p3", "1_000", "-Inf"
				return f
			}
		}
	}
	switch tok {
	case "true", "True":
		return true
	case "false", "False":
		return false
	}
	return text
}

// textType names a text reply's result type in its type property.
const (
	textTypeNil    = "nil"
	textTypeInt    = "int"
	textTypeDouble = "double"
	textTypeBool   = "boolean"
	textTypeString = "string"
	textTypeBytes  = "base64"
	textTypeTime   = "dateTime"
	textTypeJSON   = "json"
)

// appendTextResult writes a reply's result as text and names its type.
// Bytes are written raw; arrays and structs in the JSON codec's form.
func appendTextResult(dst []byte, result any) ([]byte, string, error) {
	w, err := wire.Convert(result)
	if err != nil {
		return dst, "", err
	}
	switch x := w.(type) {
	case nil:
		return dst, textTypeNil, nil
	case int64:
		return strconv.AppendInt(dst, x, 10), textTypeInt, nil
	case float64:
		return strconv.AppendFloat(dst, x, 'g', -1, 64), textTypeDouble, nil
	case bool:
		return strconv.AppendBool(dst, x), textTypeBool, nil
	case string:
		return append(dst, x...), textTypeString, nil
	case []byte:
		return append(dst, x...), textTypeBytes, nil
	case time.Time:
		return x.AppendFormat(dst, time.RFC3339Nano), textTypeTime, nil
	}
	dst, err = appendJSONValue(dst, w, 0)
	return dst, textTypeJSON, err
}

// decodeTextResult reads a text reply whose type our server named.
func decodeTextResult(body []byte, typ string) (any, error) {
	s := string(body)
	bad := func(err error) (any, error) {
		return nil, fmt.Errorf("%w: text reply of type %s: %v", transport.ErrParse, typ, err)
	}
	switch typ {
	case textTypeNil:
		return nil, nil
	case textTypeInt:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return bad(err)
		}
		return n, nil
	case textTypeDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return bad(err)
		}
		return f, nil
	case textTypeBool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return bad(err)
		}
		return b, nil
	case textTypeString:
		return s, nil
	case textTypeBytes:
		return []byte(s), nil
	case textTypeTime:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return bad(err)
		}
		return t, nil
	case textTypeJSON:
		return JSONCodec{}.DecodeReply(append(append([]byte(`{"result":`), body...), '}'))
	}
	return TextCodec{}.DecodeReply(body)
}

// describeKind names a wire value's kind for errors.
func describeKind(v any) string {
	switch v.(type) {
	case []byte:
		return "binary data"
	case []any:
		return "an array"
	case map[string]any:
		return "a struct"
	case nil:
		return "nil"
	}
	return fmt.Sprintf("%T", v)
}
