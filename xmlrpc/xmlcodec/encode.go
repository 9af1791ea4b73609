package xmlcodec

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

// encoder appends XML-RPC values. Common types take a type switch; the
// rest go through wire.Convert.
type encoder struct {
	maxDepth int
	limit    transport.SizeLimit // the encoder stops once it is passed
}

// encodeError is the error for a value the codec cannot put on the wire.
func encodeError(msg string) error { return &wire.ConversionError{Reason: msg} }

// within adds step to the path of an encoding error; any other error (none
// is expected) becomes one, but for a stop at the size limit.
func within(err error, step string) error {
	if errors.Is(err, transport.ErrTooLarge) {
		return err
	}
	var ce *wire.ConversionError
	if !errors.As(err, &ce) {
		err = encodeError(err.Error())
	}
	return wire.Within(err, step)
}

// appendValue appends <value>v</value>.
func (e *encoder) appendValue(dst []byte, v any, depth int) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(dst, "<value><nil/></value>"...), nil
	case string:
		dst = append(dst, "<value><string>"...)
		if dst, err = appendText(dst, x); err != nil {
			return dst, encodeError(err.Error())
		}
		return append(dst, "</string></value>"...), nil
	case bool:
		if x {
			return append(dst, "<value><boolean>1</boolean></value>"...), nil
		}
		return append(dst, "<value><boolean>0</boolean></value>"...), nil
	case int:
		return appendIntValue(dst, int64(x)), nil
	case int64:
		return appendIntValue(dst, x), nil
	case int32:
		return appendIntValue(dst, int64(x)), nil
	case int16:
		return appendIntValue(dst, int64(x)), nil
	case int8:
		return appendIntValue(dst, int64(x)), nil
	case uint8:
		return appendIntValue(dst, int64(x)), nil
	case uint16:
		return appendIntValue(dst, int64(x)), nil
	case uint32:
		return appendIntValue(dst, int64(x)), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return dst, encodeError(fmt.Sprintf("%d does not fit a 64-bit signed integer", x))
		}
		return appendIntValue(dst, int64(x)), nil
	case uint64:
		if x > math.MaxInt64 {
			return dst, encodeError(fmt.Sprintf("%d does not fit a 64-bit signed integer", x))
		}
		return appendIntValue(dst, int64(x)), nil
	case float64:
		return appendDoubleValue(dst, x)
	case float32:
		return appendDoubleValue(dst, float64(x))
	case []byte:
		dst = append(dst, "<value><base64>"...)
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, "</base64></value>"...), nil
	case time.Time:
		return appendTimeValue(dst, x)
	}
	if depth >= e.maxDepth {
		return dst, encodeError(fmt.Sprintf("arrays and structs nested deeper than %d levels", e.maxDepth))
	}
	switch x := v.(type) {
	case []any:
		return appendArray(e, dst, x, func(dst []byte, v any) ([]byte, error) { return e.appendValue(dst, v, depth+1) })
	case map[string]any:
		return e.appendStruct(dst, x, depth)
	case []string:
		return appendArray(e, dst, x, func(dst []byte, s string) ([]byte, error) { return e.appendValue(dst, s, depth+1) })
	case []int:
		return appendArray(e, dst, x, func(dst []byte, n int) ([]byte, error) { return appendIntValue(dst, int64(n)), nil })
	case []int64:
		return appendArray(e, dst, x, func(dst []byte, n int64) ([]byte, error) { return appendIntValue(dst, n), nil })
	case []float64:
		return appendArray(e, dst, x, func(dst []byte, f float64) ([]byte, error) { return appendDoubleValue(dst, f) })
	case []bool:
		return appendArray(e, dst, x, func(dst []byte, b bool) ([]byte, error) { return e.appendValue(dst, b, depth+1) })
	case map[string]string:
		return appendMembers(e, dst, x, func(dst []byte, s string) ([]byte, error) { return e.appendValue(dst, s, depth+1) })
	case map[string]int:
		return appendMembers(e, dst, x, func(dst []byte, n int) ([]byte, error) { return appendIntValue(dst, int64(n)), nil })
	case map[string]int64:
		return appendMembers(e, dst, x, func(dst []byte, n int64) ([]byte, error) { return appendIntValue(dst, n), nil })
	case map[string]float64:
		return appendMembers(e, dst, x, func(dst []byte, f float64) ([]byte, error) { return appendDoubleValue(dst, f) })
	}
	w, err := wire.Convert(v)
	if err != nil {
		return dst, err // a *wire.ConversionError with its path inside v
	}
	return e.appendValue(dst, w, depth)
}

func (e *encoder) appendStruct(dst []byte, m map[string]any, depth int) ([]byte, error) {
	return appendMembers(e, dst, m, func(dst []byte, v any) ([]byte, error) { return e.appendValue(dst, v, depth+1) })
}

// appendArray appends an <array> of s's elements, encoded by enc.
func appendArray[T any](e *encoder, dst []byte, s []T, enc func([]byte, T) ([]byte, error)) ([]byte, error) {
	dst = append(dst, "<value><array><data>"...)
	var err error
	for i, v := range s {
		if e.limit.Passed(dst) {
			return dst, e.limit.Err()
		}
		if dst, err = enc(dst, v); err != nil {
			return dst, within(err, wire.Index(i))
		}
	}
	return append(dst, "</data></array></value>"...), nil
}

// appendMembers appends a <struct> of m's entries, sorted by name.
func appendMembers[T any](e *encoder, dst []byte, m map[string]T, enc func([]byte, T) ([]byte, error)) ([]byte, error) {
	var small [16]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, "<value><struct>"...)
	var err error
	for _, k := range keys {
		if e.limit.Passed(dst) {
			return dst, e.limit.Err()
		}
		dst = append(dst, "<member><name>"...)
		if dst, err = appendText(dst, k); err != nil {
			return dst, wire.Within(encodeError("member name: "+err.Error()), strconv.Quote(k))
		}
		dst = append(dst, "</name>"...)
		if dst, err = enc(dst, m[k]); err != nil {
			return dst, within(err, k)
		}
		dst = append(dst, "</member>"...)
	}
	return append(dst, "</struct></value>"...), nil
}

// appendIntValue appends n as <int> when it fits 32 bits, which every
// peer reads, else as <i8>, which Python and Apache read.
func appendIntValue(dst []byte, n int64) []byte {
	dst = append(dst, "<value>"...)
	dst = appendInt(dst, n)
	return append(dst, "</value>"...)
}

func appendInt(dst []byte, n int64) []byte {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		dst = append(dst, "<int>"...)
		dst = strconv.AppendInt(dst, n, 10)
		return append(dst, "</int>"...)
	}
	dst = append(dst, "<i8>"...)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, "</i8>"...)
}

func appendDoubleValue(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, encodeError(fmt.Sprintf("double %v has no XML-RPC form", f))
	}
	dst = append(dst, "<value><double>"...)
	dst = appendDouble(dst, f)
	return append(dst, "</double></value>"...), nil
}

// appendDouble formats f as Python's repr does: the shortest digits that
// read back to f, positional when the exponent is in [-4, 16), else with
// an exponent. Python's float(), Go's ParseFloat and Java's
// Double.parseDouble all read both forms exactly.
func appendDouble(dst []byte, f float64) []byte {
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	i := len(e) - 1
	for e[i] != 'e' {
		i--
	}
	exp, _ := strconv.Atoi(string(e[i+1:]))
	if exp < -4 || exp >= 16 {
		return append(dst, e...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	for _, c := range dst[start:] {
		if c == '.' {
			return dst
		}
	}
	return append(dst, ".0"...)
}

// timeLayout is Python's xmlrpc.client DateTime format.
const timeLayout = "20060102T15:04:05"

func appendTimeValue(dst []byte, t time.Time) ([]byte, error) {
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return dst, encodeError(fmt.Sprintf("year %d of %s is outside 1..9999", y, t.Format(time.RFC3339)))
	}
	dst = append(dst, "<value><dateTime.iso8601>"...)
	dst = t.AppendFormat(dst, timeLayout)
	return append(dst, "</dateTime.iso8601></value>"...), nil
}

// appendText appends s escaped for XML character data. Carriage returns
// become &#13; so they survive XML's line-end normalisation. Strings that
// XML 1.0 cannot carry (invalid UTF-8, control characters other than tab,
// line feed and carriage return, U+FFFE, U+FFFF) are an error.
func appendText(dst []byte, s string) ([]byte, error) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return dst, fmt.Errorf("string %s has invalid UTF-8 at byte %d", quoteShort(s), i)
			}
			if r == 0xfffe || r == 0xffff {
				return dst, fmt.Errorf("string %s holds %U at byte %d, which XML 1.0 cannot carry", quoteShort(s), r, i)
			}
			i += size
			continue
		}
		var esc string
		switch c {
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '&':
			esc = "&amp;"
		case '\r':
			esc = "&#13;"
		case '\t', '\n':
		default:
			if c < 0x20 {
				return dst, fmt.Errorf("string %s holds control character %U at byte %d, which XML 1.0 cannot carry", quoteShort(s), c, i)
			}
		}
		i++
		if esc != "" {
			dst = append(dst, s[last:i-1]...)
			dst = append(dst, esc...)
			last = i
		}
	}
	return append(dst, s[last:]...), nil
}

// appendTextLossy is appendText for text that must go out whatever it
// holds (fault messages): characters XML cannot carry become U+FFFD.
func appendTextLossy(dst []byte, s string) []byte {
	out, err := appendText(dst, s)
	if err == nil {
		return out
	}
	clean := make([]rune, 0, len(s))
	for _, r := range s { // invalid UTF-8 reads as U+FFFD
		if !isXMLChar(r) {
			r = utf8.RuneError
		}
		clean = append(clean, r)
	}
	out, _ = appendText(dst, string(clean))
	return out
}

func quoteShort(s string) string {
	if len(s) > 32 {
		return strconv.Quote(s[:32]) + "..."
	}
	return strconv.Quote(s)
}
