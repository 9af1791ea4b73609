package wire

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ConversionError says why a value cannot be converted: a wire value
// that does not fit a Go type (Assign), or a Go value that cannot travel
// (Convert, and codecs encoding a call or reply).
type ConversionError struct {
	// Path locates the value inside the argument, result or call
	// ("args[2].name", "[1].x"), empty at top level. Within adds steps.
	Path string
	// Want is the Go type assigned to; nil when encoding.
	Want reflect.Type
	// Got is the value that did not fit.
	Got any
	// Reason says why, when the type fits but the value does not (an
	// overflow) or when a value cannot be encoded; else the message is
	// "want Want, got Got".
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
	fmt.Fprintf(&b, "want %s, got %s", e.Want, Describe(e.Got))
	return b.String()
}

// Describe names a wire value's type, with a short excerpt of the value.
func Describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		if len(x) > 32 {
			x = prefix(x, 32) + "..."
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

// IsValue reports whether v is one of the wire value types (its elements
// are not checked).
func IsValue(v any) bool {
	switch v.(type) {
	case nil, bool, int64, float64, string, []byte, time.Time, []any, map[string]any:
		return true
	}
	return false
}

// Index is the path step of element i of an array: "[i]".
func Index(i int) string { return "[" + strconv.Itoa(i) + "]" }

// Within prefixes the path of a *ConversionError in err's chain with step,
// the way to the value from its container: an array index (see Index) or
// a struct member name. Other errors are returned as they are. Paths are
// built only on failure, so successful conversions allocate none.
func Within(err error, step string) error {
	var ce *ConversionError
	if !errors.As(err, &ce) {
		return err
	}
	switch {
	case ce.Path == "":
		ce.Path = step
	case ce.Path[0] == '[':
		ce.Path = step + ce.Path
	default:
		ce.Path = step + "." + ce.Path
	}
	if len(ce.Path) > maxPath { // a deep or cyclic value: keep the outermost steps
		ce.Path = prefix(ce.Path, maxPath) + "…"
	}
	return err
}

// prefix returns s cut to at most n bytes, at a character boundary.
func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// maxPath bounds the length of a path in an error message.
const maxPath = 200
