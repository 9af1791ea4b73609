package registry

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ConversionError says why a wire value does not fit a Go type. Path
// locates the value inside the argument ("[2].name"), empty at top level.
type ConversionError struct {
	Path string
	Want reflect.Type
	Got  any
	// Reason is set when the type fits but the value does not (overflow).
	Reason string
}

// Error implements error.
func (e *ConversionError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Reason != "" {
		b.WriteString(e.Reason)
		return b.String()
	}
	fmt.Fprintf(&b, "want %s, got %s", e.Want, describe(e.Got))
	return b.String()
}

// describe names a wire value's type, with a short excerpt of the value.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		if len(x) > 32 {
			x = x[:32] + "..."
		}
		return "string " + strconv.Quote(x)
	case int64:
		return "int " + strconv.FormatInt(x, 10)
	case float64:
		return "double " + strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case []byte:
		return "base64"
	case time.Time:
		return "dateTime"
	case []any:
		return "array"
	case map[string]any:
		return "struct"
	}
	return fmt.Sprintf("%T", v)
}

var (
	typeTime  = reflect.TypeFor[time.Time]()
	typeBytes = reflect.TypeFor[[]byte]()
	typeError = reflect.TypeFor[error]()
)

// Assign stores the wire value v in the Go value dst points to, with the
// conversions the registry applies to arguments: integers into any integer
// type with overflow checks, integers or doubles into floats, arrays into
// slices and arrays, structs into maps with string keys and into structs
// (matched by `rpc` tag, else `json` tag, else field name), base64 or
// strings into []byte, dateTime or ISO 8601 strings into time.Time, and
// anything into an empty interface. dst nil discards v.
func Assign(dst any, v any) error {
	switch d := dst.(type) {
	case nil:
		return nil
	case *any:
		*d = v
		return nil
	case *int:
		if n, ok := v.(int64); ok && n >= math.MinInt && n <= math.MaxInt {
			*d = int(n)
			return nil
		}
	case *int64:
		if n, ok := v.(int64); ok {
			*d = n
			return nil
		}
	case *string:
		if s, ok := v.(string); ok {
			*d = s
			return nil
		}
	case *bool:
		if b, ok := v.(bool); ok {
			*d = b
			return nil
		}
	case *float64:
		if f, ok := v.(float64); ok {
			*d = f
			return nil
		}
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("rpcwire: reply must be a non-nil pointer, got %T", dst)
	}
	return assign(rv.Elem(), v, "")
}

// assign is Assign's reflective path. path names the value for errors.
func assign(dst reflect.Value, v any, path string) error {
	t := dst.Type()
	mismatch := func() error { return &ConversionError{Path: path, Want: t, Got: v} }
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
		if err := assign(p.Elem(), v, path); err != nil {
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
			return &ConversionError{Path: path, Want: t, Got: v, Reason: fmt.Sprintf("%d overflows %s", n, t)}
		}
		dst.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, ok := v.(int64)
		if !ok {
			return mismatch()
		}
		if n < 0 || dst.OverflowUint(uint64(n)) {
			return &ConversionError{Path: path, Want: t, Got: v, Reason: fmt.Sprintf("%d overflows %s", n, t)}
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
			return &ConversionError{Path: path, Want: t, Got: v, Reason: fmt.Sprintf("%g overflows %s", f, t)}
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
			var b []byte
			switch x := v.(type) {
			case []byte:
				b = x
			case string:
				b = []byte(x)
			default:
				return mismatch()
			}
			s := reflect.MakeSlice(t, len(b), len(b))
			reflect.Copy(s, reflect.ValueOf(b))
			dst.Set(s)
			return nil
		}
		a, ok := v.([]any)
		if !ok {
			return mismatch()
		}
		s := reflect.MakeSlice(t, len(a), len(a))
		for i, e := range a {
			if err := assign(s.Index(i), e, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		dst.Set(s)
		return nil
	case reflect.Array:
		a, ok := v.([]any)
		if !ok {
			return mismatch()
		}
		if len(a) != t.Len() {
			return &ConversionError{Path: path, Want: t, Got: v, Reason: fmt.Sprintf("want %d elements for %s, got %d", t.Len(), t, len(a))}
		}
		for i, e := range a {
			if err := assign(dst.Index(i), e, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
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
		for k, e := range m {
			ev := reflect.New(t.Elem()).Elem()
			if err := assign(ev, e, joinPath(path, k)); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
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
					return &ConversionError{Path: path, Want: t, Got: v, Reason: err.Error()}
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
			if err := assign(dst.FieldByIndex(f.index), e, joinPath(path, f.name)); err != nil {
				return err
			}
		}
		return nil
	}
	return mismatch()
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
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

// errUnsupported is returned for Go types no codec can carry.
var errUnsupported = errors.New("type cannot travel over rpcwire")

// checkType reports whether values of t can be carried on the wire, as a
// parameter (decoded into) or a result (encoded from).
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
			return fmt.Errorf("%s: %w (map keys must be strings)", t, errUnsupported)
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
	return fmt.Errorf("%s: %w", t, errUnsupported)
}
