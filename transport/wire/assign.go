package wire

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"time"
)

var (
	typeTime  = reflect.TypeFor[time.Time]()
	typeError = reflect.TypeFor[error]()
)

// Assign stores the wire value v in the Go value dst points to, with the
// conversions the registry applies to arguments: integers into any integer
// type with range checks, integers or doubles into floats, arrays into
// slices and arrays, structs into maps with string keys and into structs
// (matched by `rpc` tag, else `json` tag, else field name; other keys are
// ignored), base64, strings (their bytes, not base64-decoded) or arrays of
// small integers into []byte, dateTime or ISO 8601 strings into time.Time,
// and anything into an empty interface. nil clears pointers, slices, maps
// and interfaces. Go values that are not wire values (an int, a []string,
// a struct) are first converted with Convert. dst nil discards v; any other
// dst must be a non-nil pointer. A value that does not fit is a
// *ConversionError.
func Assign(dst any, v any) error {
	switch d := dst.(type) { // fast paths for the common reply types
	case nil:
		return nil
	case *any:
		if d != nil {
			*d = v
			return nil
		}
	case *int:
		if n, ok := v.(int64); ok && d != nil && n >= math.MinInt && n <= math.MaxInt {
			*d = int(n)
			return nil
		}
	case *int64:
		if n, ok := v.(int64); ok && d != nil {
			*d = n
			return nil
		}
	case *string:
		if s, ok := v.(string); ok && d != nil {
			*d = s
			return nil
		}
	case *bool:
		if b, ok := v.(bool); ok && d != nil {
			*d = b
			return nil
		}
	case *float64:
		if f, ok := v.(float64); ok && d != nil {
			*d = f
			return nil
		}
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("rpcwire: reply must be a non-nil pointer, got %T", dst)
	}
	return assign(rv.Elem(), v, 0)
}

// AssignValue stores the wire value v in dst, a settable value, with
// Assign's conversions. The registry uses it to fill a function's
// parameters in place.
func AssignValue(dst reflect.Value, v any) error {
	return assign(dst, v, 0)
}

// assign is Assign's reflective path. Errors are *ConversionError whose
// Path is relative to dst; callers prefix their own step (see within).
func assign(dst reflect.Value, v any, depth int) error {
	t := dst.Type()
	mismatch := func() error {
		if !IsValue(v) { // a Go value from an in-process caller
			if w, err := toWire(v, depth); err == nil && IsValue(w) {
				return assign(dst, w, depth+1)
			}
		}
		return &ConversionError{Want: t, Got: v}
	}
	if depth > MaxDepth {
		return &ConversionError{Want: t, Got: v, Reason: fmt.Sprintf("value nested deeper than %d levels", MaxDepth)}
	}
	switch t.Kind() {
	case reflect.Interface:
		if v == nil {
			dst.SetZero()
			return nil
		}
		vv := reflect.ValueOf(v)
		if !vv.Type().AssignableTo(t) {
			return mismatch()
		}
		dst.Set(vv)
		return nil
	case reflect.Pointer:
		if v == nil {
			dst.SetZero()
			return nil
		}
		p := reflect.New(t.Elem())
		if err := assign(p.Elem(), v, depth+1); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return mismatch()
		}
		dst.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(int64)
		if !ok {
			return mismatch()
		}
		if dst.OverflowInt(n) {
			return outOfRange(t, v)
		}
		dst.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, ok := v.(int64)
		if !ok {
			return mismatch()
		}
		if n < 0 || dst.OverflowUint(uint64(n)) {
			return outOfRange(t, v)
		}
		dst.SetUint(uint64(n))
		return nil
	case reflect.Float32, reflect.Float64:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case int64:
			f = float64(x)
		default:
			return mismatch()
		}
		if dst.OverflowFloat(f) {
			return outOfRange(t, v)
		}
		dst.SetFloat(f)
		return nil
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return mismatch()
		}
		dst.SetString(s)
		return nil
	case reflect.Slice:
		if v == nil {
			dst.SetZero()
			return nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			switch x := v.(type) {
			case []byte: // copied: decoders may reuse their buffers
				dst.SetBytes(bytes.Clone(x))
				return nil
			case string:
				dst.SetBytes([]byte(x))
				return nil
			}
			// An array of integers (kolo's encoding of []byte) takes the
			// element-wise path below.
		}
		a, ok := v.([]any)
		if !ok {
			return mismatch()
		}
		s := reflect.MakeSlice(t, len(a), len(a))
		for i, e := range a {
			if err := assign(s.Index(i), e, depth+1); err != nil {
				return Within(err, Index(i))
			}
		}
		dst.Set(s)
		return nil
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			var b []byte
			switch x := v.(type) {
			case []byte:
				b = x
			case string:
				b = []byte(x)
			}
			if b != nil {
				if len(b) != t.Len() {
					return &ConversionError{Want: t, Got: v, Reason: fmt.Sprintf("want %d bytes for %s, got %d", t.Len(), t, len(b))}
				}
				copy(dst.Bytes(), b)
				return nil
			}
		}
		a, ok := v.([]any)
		if !ok {
			return mismatch()
		}
		if len(a) != t.Len() {
			return &ConversionError{Want: t, Got: v, Reason: fmt.Sprintf("want %d elements for %s, got %d", t.Len(), t, len(a))}
		}
		for i, e := range a {
			if err := assign(dst.Index(i), e, depth+1); err != nil {
				return Within(err, Index(i))
			}
		}
		return nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return mismatch()
		}
		if v == nil {
			dst.SetZero()
			return nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return mismatch()
		}
		out := reflect.MakeMapWithSize(t, len(m))
		ev := reflect.New(t.Elem()).Elem()
		kv := reflect.New(t.Key()).Elem()
		for k, e := range m {
			ev.SetZero()
			if err := assign(ev, e, depth+1); err != nil {
				return Within(err, k)
			}
			kv.SetString(k)
			out.SetMapIndex(kv, ev)
		}
		dst.Set(out)
		return nil
	case reflect.Struct:
		if t == typeTime {
			switch x := v.(type) {
			case time.Time:
				dst.Set(reflect.ValueOf(x))
				return nil
			case string:
				tm, err := ParseTime(x)
				if err != nil {
					return &ConversionError{Want: t, Got: v, Reason: err.Error()}
				}
				dst.Set(reflect.ValueOf(tm))
				return nil
			}
			return mismatch()
		}
		m, ok := v.(map[string]any)
		if !ok {
			return mismatch()
		}
		for _, f := range fieldsOf(t) {
			e, ok := m[f.name]
			if !ok {
				continue
			}
			if err := assign(dst.FieldByIndex(f.index), e, depth+1); err != nil {
				return Within(err, f.name)
			}
		}
		return nil
	}
	return mismatch()
}

// outOfRange is the error for a number of the right kind that t cannot hold.
func outOfRange(t reflect.Type, v any) error {
	var limits string
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		hi := int64(uint64(math.MaxUint64) >> (65 - t.Bits()))
		limits = fmt.Sprintf(" (%d to %d)", -hi-1, hi)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		limits = fmt.Sprintf(" (0 to %d)", uint64(math.MaxUint64)>>(64-t.Bits()))
	}
	return &ConversionError{Want: t, Got: v, Reason: fmt.Sprintf("%v overflows %s%s", v, t, limits)}
}

// ParseTime parses the date-time forms XML-RPC peers send:
// 20060102T15:04:05 (Python's), with dashes, with a zone, or RFC 3339.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse %q as an ISO 8601 date-time", s)
}

var timeLayouts = []string{
	"20060102T15:04:05",
	"20060102T15:04:05Z07:00",
	"2006-01-02T15:04:05",
	time.RFC3339Nano,
	"20060102T150405",
	"20060102T150405Z07:00",
}

// field is one exported struct field as it appears on the wire.
type field struct {
	name      string
	index     []int
	omitEmpty bool
}

// structFields caches fieldsOf per struct type, as encoding/json does: the
// set of fields of a type never changes, so the cache holds no behaviour.
var structFields sync.Map // reflect.Type -> []field

// fieldsOf lists t's exported fields with their wire names: the `rpc` tag,
// else the `json` tag, else the field name; "-" skips a field.
func fieldsOf(t reflect.Type) []field {
	if f, ok := structFields.Load(t); ok {
		return f.([]field)
	}
	var fields []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag, ok := sf.Tag.Lookup("rpc")
		if !ok {
			tag = sf.Tag.Get("json")
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fields = append(fields, field{name: name, index: sf.Index, omitEmpty: strings.Contains(opts, "omitempty")})
	}
	f, _ := structFields.LoadOrStore(t, fields)
	return f.([]field)
}

// ErrUnsupported is wrapped by Check's errors: a Go type no codec can carry.
var ErrUnsupported = errors.New("type cannot travel over rpcwire")

// Check reports whether values of t can travel: be assigned from wire
// values (as a parameter) and converted to them (as a result). Channels,
// functions, complex numbers, maps without string keys, interfaces with
// methods (other than error) and types containing them are refused.
func Check(t reflect.Type) error {
	return checkType(t, map[reflect.Type]bool{})
}

// checkType is Check, remembering the types it has seen so recursive
// types end.
func checkType(t reflect.Type, seen map[reflect.Type]bool) error {
	if seen[t] {
		return nil
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		return nil
	case reflect.Interface:
		if t.NumMethod() == 0 || t == typeError {
			return nil
		}
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return checkType(t.Elem(), seen)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return fmt.Errorf("%s: %w (map keys must be strings)", t, ErrUnsupported)
		}
		return checkType(t.Elem(), seen)
	case reflect.Struct:
		if t == typeTime {
			return nil
		}
		for _, f := range fieldsOf(t) {
			if err := checkType(t.FieldByIndex(f.index).Type, seen); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%s: %w", t, ErrUnsupported)
}
