package jsoncodec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"time"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

// Tags of the typed values JSON has no type for: each travels as an
// object with that one member.
const (
	tagBase64   = "$base64"   // {"$base64": "AAEC"}: []byte, standard base64
	tagDateTime = "$datetime" // {"$datetime": "2026-11-25T13:55:16Z"}: time.Time
	tagMap      = "$map"      // {"$map": {...}}: a struct that would read as a tag
)

func isTag(k string) bool { return k == tagBase64 || k == tagDateTime || k == tagMap }

// The shapes encoding/json writes. Field order is member order.
type (
	callBody struct {
		Method string `json:"method"`
		Params []any  `json:"params"`
	}
	replyBody struct {
		Result any `json:"result"`
	}
	faultBody struct {
		Error faultMembers `json:"error"`
	}
	faultMembers struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	base64Value struct {
		Bytes []byte `json:"$base64"` // encoding/json writes []byte in standard base64
	}
	dateTimeValue struct {
		Time string `json:"$datetime"`
	}
	mapValue struct {
		Map map[string]any `json:"$map"`
	}
)

// AppendCall appends {"method": ..., "params": [...]} to dst. An argument
// that cannot be encoded is a *wire.ConversionError whose path starts with
// "args[i]"; on error dst is returned unchanged.
func (Codec) AppendCall(dst []byte, method string, args []any) ([]byte, error) {
	params := args // copied at the first argument that changes
	copied := false
	for i, a := range args {
		p, changed, err := prepare(a, 2) // the params array is level 1
		if err != nil {
			return dst, within(err, "args"+wire.Index(i))
		}
		if changed && !copied {
			params, copied = make([]any, len(args)), true
			copy(params, args)
		}
		if copied {
			params[i] = p
		}
	}
	if params == nil {
		params = []any{} // "params": [], not null
	}
	return marshal(dst, callBody{Method: method, Params: params})
}

// AppendReply appends {"result": ...} to dst. A result that cannot be
// encoded is a *wire.ConversionError whose path starts with "result"; on
// error dst is returned unchanged.
func (Codec) AppendReply(dst []byte, result any) ([]byte, error) {
	p, _, err := prepare(result, 1)
	if err != nil {
		return dst, within(err, "result")
	}
	return marshal(dst, replyBody{Result: p})
}

// AppendFault appends {"error": {"code": ..., "message": ...}} to dst. A
// nil fault is sent as an internal error.
func (Codec) AppendFault(dst []byte, fault *transport.RemoteError) []byte {
	if fault == nil {
		fault = &transport.RemoteError{Code: transport.CodeInternal, Message: "unknown error"}
	}
	// An int and a string always encode.
	out, _ := marshal(dst, faultBody{Error: faultMembers{Code: fault.Code, Message: fault.Message}})
	return out
}

// AppendValue appends v alone in the codec's JSON form (tags included),
// as it appears inside a reply; DecodeValue reads it back. The amqp text
// codec sends arrays and structs this way. A value that cannot be encoded
// is a *wire.ConversionError; on error dst is returned unchanged.
func AppendValue(dst []byte, v any) ([]byte, error) {
	p, _, err := prepare(v, 1)
	if err != nil {
		return dst, err
	}
	return marshal(dst, p)
}

// marshal appends v as encoding/json writes it, without HTML escaping
// (JSON does not need it) and without the Encoder's newline.
func marshal(dst []byte, v any) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// prepare hands encoding/json only values it can write.
		return dst, &wire.ConversionError{Reason: err.Error()}
	}
	out := buf.Bytes()
	return out[:len(out)-1], nil
}

// within adds step to the path of an encoding error; any other error (none
// is expected) becomes one.
func within(err error, step string) error {
	var ce *wire.ConversionError
	if !errors.As(err, &ce) {
		err = &wire.ConversionError{Reason: err.Error()}
	}
	return wire.Within(err, step)
}

// prepare returns v in the shape encoding/json writes in this codec's
// form: float64 as a json.Number that keeps its fraction, []byte,
// time.Time and tag-named structs as their tagged objects, other values
// through wire.Convert. level is the nesting level v has if it is an
// array or object. Arrays and maps are copied only when something in
// them changes; changed reports whether v itself was replaced.
func prepare(v any, level int) (out any, changed bool, err error) {
	switch x := v.(type) {
	case nil, bool, int64, int, string:
		return v, false, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, false, &wire.ConversionError{Got: x, Reason: fmt.Sprintf("JSON cannot carry %v", x)}
		}
		return json.Number(formatFloat(x)), true, nil
	case []byte:
		if level > MaxDepth {
			return nil, false, tooDeep()
		}
		if x == nil {
			x = []byte{} // encoding/json writes a nil slice as null
		}
		return base64Value{Bytes: x}, true, nil
	case time.Time:
		if level > MaxDepth {
			return nil, false, tooDeep()
		}
		return dateTimeValue{Time: x.Format(time.RFC3339Nano)}, true, nil
	case []any:
		return prepareArray(x, level)
	case map[string]any:
		return prepareMap(x, level)
	}
	w, err := wire.Convert(v)
	if err != nil {
		return nil, false, err
	}
	if !wire.IsValue(w) {
		return nil, false, &wire.ConversionError{Reason: fmt.Sprintf("cannot encode %T", v)}
	}
	out, _, err = prepare(w, level)
	return out, true, err
}

func prepareArray(x []any, level int) (any, bool, error) {
	if level > MaxDepth {
		return nil, false, tooDeep()
	}
	if x == nil {
		return []any{}, true, nil // encoding/json writes a nil slice as null
	}
	var out []any // a copy, made at the first element that changes
	for i, e := range x {
		p, changed, err := prepare(e, level+1)
		if err != nil {
			return nil, false, within(err, wire.Index(i))
		}
		if changed && out == nil {
			out = make([]any, len(x))
			copy(out, x)
		}
		if out != nil {
			out[i] = p
		}
	}
	if out == nil {
		return x, false, nil
	}
	return out, true, nil
}

func prepareMap(x map[string]any, level int) (any, bool, error) {
	if level > MaxDepth {
		return nil, false, tooDeep()
	}
	if x == nil {
		return map[string]any{}, true, nil // encoding/json writes a nil map as null
	}
	// Members are written sorted by name; a struct whose first name is a
	// tag is wrapped, so that no reader (this one, or one that looks at
	// the first member) takes it for a tagged value.
	first, wrap := "", false
	for k := range x {
		if !wrap || k < first {
			first, wrap = k, true
		}
	}
	wrap = wrap && isTag(first)
	inner := level
	if wrap {
		if inner++; inner > MaxDepth {
			return nil, false, tooDeep()
		}
	}
	var out map[string]any // a copy, made at the first member that changes
	for k, e := range x {
		p, changed, err := prepare(e, inner+1)
		if err != nil {
			return nil, false, within(err, k)
		}
		if changed {
			if out == nil {
				out = maps.Clone(x)
			}
			out[k] = p
		}
	}
	changed := out != nil
	if !changed {
		out = x
	}
	if wrap {
		return mapValue{Map: out}, true, nil
	}
	return out, changed, nil
}

func tooDeep() error {
	return &wire.ConversionError{Reason: fmt.Sprintf("value nested deeper than %d levels", MaxDepth)}
}

// formatFloat writes f so that it reads back as a float: shortest form,
// with ".0" added when it has neither a fraction nor an exponent.
func formatFloat(f float64) string {
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], f, 'g', -1, 64)
	if !bytes.ContainsAny(b, ".e") {
		b = append(b, ".0"...)
	}
	return string(b)
}
