// Package wire is rpcwire's value model: the set of values that travel
// on every wire, and the conversions between Go values and them.
//
// Wire values are nil, bool, int64, float64, string, []byte, time.Time,
// []any and map[string]any (nested to any depth). Codecs decode bodies
// into wire values and encode wire values (and any Go value Convert
// accepts) into bodies; the registry assigns wire values to a function's
// parameters with Assign's rules, and clients assign results the same way.
// Like database/sql/driver's Value, the set lives beside the contract
// (package transport) so that codecs, transports and the registry share
// it without importing one another.
package wire

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"time"
)

// MaxDepth bounds nesting when converting values, so a cyclic or absurdly
// deep value gives an error instead of exhausting the stack.
const MaxDepth = 512

// Convert converts a Go value to wire values (nil, bool, int64, float64,
// string, []byte, time.Time, []any, map[string]any): integers widen to
// int64, slices and arrays become []any, maps with string keys and structs
// become map[string]any (field names as Assign reads them), pointers and
// interfaces are followed (nil ones become nil), byte slices and arrays
// become []byte, and errors become their text. Unsigned values above
// math.MaxInt64, channels, functions, complex numbers, maps without string
// keys and cycles (or nesting deeper than 512 levels) are errors.
func Convert(v any) (any, error) {
	return toWire(v, 0)
}

func toWire(v any, depth int) (any, error) {
	switch x := v.(type) {
	case nil, bool, int64, float64, string, []byte, time.Time:
		return v, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case error:
		if rv := reflect.ValueOf(x); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return nil, nil // its Error method may dereference it
		}
		return x.Error(), nil
	}
	if depth > MaxDepth {
		return nil, tooDeep()
	}
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			w, err := toWire(e, depth+1)
			if err != nil {
				return nil, Within(err, Index(i))
			}
			out[i] = w
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			w, err := toWire(e, depth+1)
			if err != nil {
				return nil, Within(err, k)
			}
			out[k] = w
		}
		return out, nil
	}
	return reflectToWire(reflect.ValueOf(v), depth)
}

// tooDeep is the error for a value nested deeper than MaxDepth (or cyclic).
func tooDeep() error {
	return &ConversionError{Reason: fmt.Sprintf("value nested deeper than %d levels (or cyclic)", MaxDepth)}
}

func reflectToWire(rv reflect.Value, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, tooDeep()
	}
	switch rv.Kind() {
	case reflect.Invalid:
		return nil, nil
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n := rv.Uint()
		if n > math.MaxInt64 {
			return nil, &ConversionError{Got: n, Reason: fmt.Sprintf("%d does not fit a 64-bit signed integer", n)}
		}
		return int64(n), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		// Through toWire, so that an error in a field becomes its text.
		return toWire(rv.Elem().Interface(), depth+1)
	case reflect.Pointer:
		if rv.IsNil() {
			return nil, nil
		}
		return reflectToWire(rv.Elem(), depth+1)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			if rv.Kind() == reflect.Array && !rv.CanAddr() { // Bytes needs an addressable array
				c := reflect.New(rv.Type()).Elem()
				c.Set(rv)
				return c.Bytes(), nil
			}
			return bytes.Clone(rv.Bytes()), nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			w, err := reflectToWire(rv.Index(i), depth+1)
			if err != nil {
				return nil, Within(err, Index(i))
			}
			out[i] = w
		}
		return out, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, &ConversionError{Reason: fmt.Sprintf("cannot encode %s: map keys must be strings", rv.Type())}
		}
		if rv.IsNil() {
			return nil, nil
		}
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			w, err := reflectToWire(it.Value(), depth+1)
			if err != nil {
				return nil, Within(err, it.Key().String())
			}
			out[it.Key().String()] = w
		}
		return out, nil
	case reflect.Struct:
		if rv.Type() == typeTime {
			return rv.Interface().(time.Time), nil
		}
		fields := fieldsOf(rv.Type())
		out := make(map[string]any, len(fields))
		for _, f := range fields {
			fv := rv.FieldByIndex(f.index)
			if f.omitEmpty && fv.IsZero() {
				continue
			}
			w, err := reflectToWire(fv, depth+1)
			if err != nil {
				return nil, Within(err, f.name)
			}
			out[f.name] = w
		}
		return out, nil
	}
	return nil, &ConversionError{Reason: fmt.Sprintf("cannot encode a value of type %s", rv.Type())}
}

// MinSize returns a lower bound of the bytes any codec writes for the
// wire value v: the bytes of its strings, binary data and struct member
// names, and one for every other value. It stops counting once the bound
// passes limit (when limit is positive), so measuring costs no more than
// limit bytes of work; values nested deeper than MaxDepth count as
// passing it.
func MinSize(v any, limit int64) int64 {
	var n int64
	minSize(v, limit, &n, 0)
	return n
}

func minSize(v any, limit int64, n *int64, depth int) {
	if limit > 0 && *n > limit {
		return
	}
	if depth > MaxDepth {
		*n = max(*n, limit) + 1
		return
	}
	switch x := v.(type) {
	case string:
		*n += int64(max(len(x), 1))
	case []byte:
		*n += int64(max(len(x), 1))
	case []any:
		*n++
		for _, e := range x {
			if minSize(e, limit, n, depth+1); limit > 0 && *n > limit {
				return
			}
		}
	case map[string]any:
		*n++
		for k, e := range x {
			*n += int64(len(k))
			if minSize(e, limit, n, depth+1); limit > 0 && *n > limit {
				return
			}
		}
	default:
		*n++
	}
}
