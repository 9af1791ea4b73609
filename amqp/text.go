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

	"github.com/rpcwire/rpcwire/amqp/jsoncodec"
	"github.com/rpcwire/rpcwire/internal/scalar"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

// textFaultPrefix starts the body of a fault reply in the text codec.
const textFaultPrefix = "error: "

// TextCodec is the RabbitMQ tutorial's plain-text message: a call's body
// is its arguments as text, a reply's body its result as text. It carries
// scalars only (integers, floats, booleans, strings, times); use the json
// or xml codec for arrays, structs and binary data.
//
// A call body holds the arguments separated by white space, each an
// integer, a float, true/false (True/False, as Python's str writes them)
// or a double-quoted string (Go/JSON escapes): "7" is fib's argument 7,
// "2 3" fun_add's two arguments. A body with any other token is one string
// argument, exactly as sent: "Hello World!". The method travels in the
// message's type property; a call without one (the tutorial's) is a call
// of Method, the server's default (?method=fib in its URL).
//
// A reply body is the whole result as text: "13", with the result's type
// in the type property (int, double, boolean, string, base64, dateTime,
// nil, json) so that rpcwire clients rebuild it exactly, while a tutorial
// client just reads the text. A fault is "error: <message>" with its code
// in the x-fault-code header (an AMQP long-long, signed everywhere). A
// reply without a type (a tutorial server's "13") is read as an integer,
// a float, true/false, else text.
type TextCodec struct {
	// Method is the method of calls that name none.
	Method string
}

var _ transport.Codec = TextCodec{}

// Name returns "text".
func (TextCodec) Name() string { return "text" }

// ContentType returns "text/plain".
func (TextCodec) ContentType() string { return "text/plain" }

// EncodeCall writes args separated by spaces and method in m.Type.
// Arguments that are not scalars are an error.
func (TextCodec) EncodeCall(m *transport.Message, method string, args []any) error {
	body, err := appendTextArgs(m.Body, args)
	if err != nil {
		return err
	}
	m.Body, m.ContentType, m.Type = body, "text/plain", method
	return nil
}

// DecodeCall parses the body's arguments; the method is m.Type, else
// c.Method. With neither, the call fails with a method-not-found fault.
func (c TextCodec) DecodeCall(m *transport.Message) (string, []any, error) {
	method := m.Type
	if method == "" {
		method = c.Method
	}
	if method == "" {
		return "", nil, &transport.RemoteError{Code: transport.CodeMethodNotFound,
			Message: "no method: a text request needs the method in its type property, or a server default (?method=NAME in the server's URL)"}
	}
	args, err := parseTextArgs(m.Body)
	return method, args, err
}

// EncodeReply writes the result as text and its type in m.Type: nothing
// for nil, the JSON form for arrays and structs, bytes raw.
func (TextCodec) EncodeReply(m *transport.Message, result any) error {
	body, typ, err := appendTextResult(m.Body, result)
	if err != nil {
		return err
	}
	m.Body, m.ContentType, m.Type = body, "text/plain", typ
	return nil
}

// EncodeFault writes "error: <message>" and the code in the x-fault-code
// header.
func (TextCodec) EncodeFault(m *transport.Message, fault *transport.RemoteError) {
	m.Body = append(append(m.Body, textFaultPrefix...), fault.Message...)
	m.ContentType = "text/plain"
	m.Headers = map[string]any{headerFaultCode: int64(fault.Code)}
}

// DecodeReply reads a reply: a fault when it carries x-fault-code (or,
// without a type, when its body starts with "error: ", code
// CodeApplication), else the result of the type in m.Type (or the older
// x-type header), else the text read as a scalar.
func (TextCodec) DecodeReply(m *transport.Message) (any, error) {
	if code, ok := intHeader(m.Headers, headerFaultCode); ok {
		msg, _ := strings.CutPrefix(string(m.Body), textFaultPrefix)
		return nil, &transport.RemoteError{Code: int(code), Message: msg}
	}
	typ := m.Type
	if typ == "" {
		typ, _ = m.Headers[headerType].(string)
	}
	if typ != "" {
		return decodeTextResult(m.Body, typ)
	}
	return decodePlainReply(m.Body)
}

// decodePlainReply reads a reply with no type: "error: " starts a fault,
// anything else is a scalar or text.
func decodePlainReply(body []byte) (any, error) {
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
	if v, ok := scalar.Literal(tok); ok {
		return v
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
// Bytes are written raw; arrays and structs in the JSON codec's form
// (jsoncodec.AppendValue).
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
	dst, err = jsoncodec.AppendValue(dst, w)
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
		return jsoncodec.DecodeValue(body)
	}
	return decodePlainReply(body)
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
