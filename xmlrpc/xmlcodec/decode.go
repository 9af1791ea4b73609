package xmlcodec

import (
	"bytes"
	"encoding/base64"
	"math"
	"strconv"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

// call decodes a whole <methodCall>.
func (d *decoder) call() (string, []any, error) {
	if err := d.prolog(); err != nil {
		return "", nil, err
	}
	if _, err := d.expect("methodCall", tagStart); err != nil {
		return "", nil, err
	}
	k, err := d.expectSkipping("methodName", tagStart)
	if err != nil {
		return "", nil, err
	}
	off := d.pos
	var name []byte
	if k == tagStart {
		if name, err = d.text(); err != nil {
			return "", nil, err
		}
		if len(name) == 0 {
			// Fall through to the error below.
		} else if _, err := d.expect("methodName", tagEnd); err != nil {
			return "", nil, err
		}
	}
	if len(name) == 0 {
		return "", nil, d.errorf(off, "empty method name")
	}
	method := string(name)

	var args []any
	tn, k, off, err := d.tagSkipping()
	if err != nil {
		return "", nil, err
	}
	switch {
	case string(tn) == "params" && k == tagStart:
		if args, _, err = d.params(false); err != nil {
			return "", nil, err
		}
		if _, err := d.expectSkipping("methodCall", tagEnd); err != nil {
			return "", nil, err
		}
	case string(tn) == "params" && k == tagEmpty:
		if _, err := d.expectSkipping("methodCall", tagEnd); err != nil {
			return "", nil, err
		}
	case string(tn) == "methodCall" && k == tagEnd:
	default:
		return "", nil, d.errorf(off, "want <params> or </methodCall>, found %s", tagString(string(tn), k))
	}
	if err := d.epilog(); err != nil {
		return "", nil, err
	}
	return method, args, nil
}

// params decodes <param> elements up to </params>. With one set, at most
// one param is allowed and it is returned as first, with no slice.
func (d *decoder) params(one bool) (args []any, first any, err error) {
	for n := 0; ; n++ {
		name, k, off, err := d.tagSkipping()
		if err != nil {
			return nil, nil, err
		}
		if string(name) == "params" && k == tagEnd {
			return args, first, nil
		}
		if string(name) != "param" || k != tagStart {
			return nil, nil, d.errorf(off, "want <param> or </params>, found %s", tagString(string(name), k))
		}
		if one && n == 1 {
			return nil, nil, d.errorf(off, "a methodResponse carries one param, found a second")
		}
		v, err := d.topValue()
		if err != nil {
			return nil, nil, err
		}
		if _, err := d.expectSkipping("param", tagEnd); err != nil {
			return nil, nil, err
		}
		if one {
			first = v
			continue
		}
		if args == nil {
			args = make([]any, 0, 4)
		}
		args = append(args, v)
	}
}

// reply decodes a whole <methodResponse>.
func (d *decoder) reply() (any, error) {
	if err := d.prolog(); err != nil {
		return nil, err
	}
	if _, err := d.expect("methodResponse", tagStart); err != nil {
		return nil, err
	}
	name, k, off, err := d.tagSkipping()
	if err != nil {
		return nil, err
	}
	var result any
	var fault *transport.RemoteError
	switch {
	case string(name) == "params" && k == tagStart:
		if _, result, err = d.params(true); err != nil {
			return nil, err
		}
	case string(name) == "params" && k == tagEmpty:
	case string(name) == "fault" && k == tagStart:
		off := d.pos
		v, err := d.topValue()
		if err != nil {
			return nil, err
		}
		if fault, err = d.fault(v, off); err != nil {
			return nil, err
		}
		if _, err := d.expectSkipping("fault", tagEnd); err != nil {
			return nil, err
		}
	default:
		return nil, d.errorf(off, "want <params> or <fault>, found %s", tagString(string(name), k))
	}
	if _, err := d.expectSkipping("methodResponse", tagEnd); err != nil {
		return nil, err
	}
	if err := d.epilog(); err != nil {
		return nil, err
	}
	if fault != nil {
		return nil, fault
	}
	return result, nil
}

// fault turns a fault's value into a RemoteError.
func (d *decoder) fault(v any, off int) (*transport.RemoteError, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, d.errorf(off, "fault value is not a struct")
	}
	// A fault with neither member is still the server saying the call
	// failed: npm xmlrpc writes a JavaScript Error so, as an empty struct.
	// It is an application error, as a Go function's plain error is.
	re := &transport.RemoteError{Code: transport.CodeApplication}
	if m["faultCode"] == nil && m["faultString"] == nil {
		re.Message = "the server reported a fault without faultCode or faultString"
		return re, nil
	}
	switch c := m["faultCode"].(type) {
	case int64:
		if c < math.MinInt32 || c > math.MaxInt32 {
			return nil, d.errorf(off, "faultCode %d out of range", c)
		}
		re.Code = int(c)
	case string: // some peers send the code as a string
		n, err := strconv.ParseInt(c, 10, 32)
		if err != nil {
			return nil, d.errorf(off, "faultCode %q is not an integer", c)
		}
		re.Code = int(n)
	case nil: // absent, or <nil/>: an application error, as above
	default:
		return nil, d.errorf(off, "faultCode is not an integer")
	}
	switch s := m["faultString"].(type) {
	case string:
		re.Message = s
	case nil:
	default:
		return nil, d.errorf(off, "faultString is not a string")
	}
	return re, nil
}

// topValue reads a <value> element with everything inside it.
func (d *decoder) topValue() (any, error) {
	k, err := d.expectSkipping("value", tagStart)
	if err != nil {
		return nil, err
	}
	return d.value(k == tagEmpty)
}

// frame is an array or struct being decoded.
type frame struct {
	arr    []any
	m      map[string]any
	member string // name of the struct member whose value is being read
	off    int    // where the container started, for messages
}

// value decodes what follows a <value> start tag (empty: it was <value/>)
// up to and including the matching </value>. Containers are kept on an
// explicit stack, so nesting costs heap (bounded by maxDepth), not Go
// stack.
func (d *decoder) value(empty bool) (any, error) {
	var stack []frame
	for {
		var v any
		complete := true
		if empty {
			v = ""
		} else {
			var err error
			if v, complete, err = d.valueBody(&stack); err != nil {
				return nil, err
			}
		}
		for {
			if complete {
				if len(stack) == 0 {
					return v, nil
				}
				top := &stack[len(stack)-1]
				if top.m != nil {
					top.m[top.member] = v
					if _, err := d.expectSkipping("member", tagEnd); err != nil {
						return nil, err
					}
				} else {
					top.arr = append(top.arr, v)
				}
			}
			more, isEmpty, err := d.nextItem(&stack[len(stack)-1])
			if err != nil {
				return nil, err
			}
			if more {
				empty = isEmpty
				break
			}
			top := stack[len(stack)-1]
			if top.m != nil {
				v = top.m
			} else {
				v = top.arr
			}
			stack = stack[:len(stack)-1]
			complete = true
		}
	}
}

// nextItem reads what follows in a container: the start of its next
// <value> (more, with empty telling whether it was <value/>), or its end
// through the enclosing </value>.
func (d *decoder) nextItem(f *frame) (more, empty bool, err error) {
	name, k, off, err := d.tagSkipping()
	if err != nil {
		return false, false, err
	}
	if f.m != nil {
		switch {
		case string(name) == "member" && k == tagStart:
			k, err := d.expectSkipping("name", tagStart)
			if err != nil {
				return false, false, err
			}
			f.member = ""
			if k == tagStart {
				text, err := d.text()
				if err != nil {
					return false, false, err
				}
				f.member = string(text)
				if _, err := d.expect("name", tagEnd); err != nil {
					return false, false, err
				}
			}
			k, err = d.expectSkipping("value", tagStart)
			return err == nil, k == tagEmpty, err
		case string(name) == "struct" && k == tagEnd:
			_, err := d.expect("value", tagEnd)
			return false, false, err
		}
		return false, false, d.errorf(off, "want <member> or </struct>, found %s", tagString(string(name), k))
	}
	switch {
	case string(name) == "value" && k != tagEnd:
		return true, k == tagEmpty, nil
	case string(name) == "data" && k == tagEnd:
		if _, err := d.expectSkipping("array", tagEnd); err != nil {
			return false, false, err
		}
		_, err := d.expect("value", tagEnd)
		return false, false, err
	}
	return false, false, d.errorf(off, "want <value> or </data>, found %s", tagString(string(name), k))
}

// valueBody decodes the inside of a <value> element. For a scalar it
// returns the value with complete set, having read the closing </value>.
// For a non-empty array or struct it pushes a frame and returns with
// complete unset, positioned before the container's first item.
func (d *decoder) valueBody(stack *[]frame) (v any, complete bool, err error) {
	textOff := d.pos
	text, err := d.text()
	if err != nil {
		return nil, false, err
	}
	name, k, off, err := d.tag()
	if err != nil {
		return nil, false, err
	}
	if k == tagEnd {
		if string(name) != "value" {
			return nil, false, d.errorf(off, "want </value>, found %s", tagString(string(name), k))
		}
		return string(text), true, nil // untyped value: a string
	}
	for _, c := range text {
		if !isSpace(c) {
			return nil, false, d.errorf(textOff, "text %s before %s", d.excerpt(textOff), tagString(string(name), k))
		}
	}
	typ := name
	if i := bytes.LastIndexByte(typ, ':'); i >= 0 {
		// Apache XML-RPC's extensions come with a namespace prefix
		// (<ex:nil/>, <ex:i8>); like Python, ignore the prefix.
		typ = typ[i+1:]
	}
	switch string(typ) {
	case "array":
		if k == tagEmpty {
			v = []any{}
			break
		}
		dk, err := d.expectSkipping("data", tagStart)
		if err != nil {
			return nil, false, err
		}
		if dk == tagEmpty {
			if _, err := d.expectSkipping("array", tagEnd); err != nil {
				return nil, false, err
			}
			v = []any{}
			break
		}
		if err := d.push(stack, frame{arr: []any{}, off: off}); err != nil {
			return nil, false, err
		}
		return nil, false, nil
	case "struct":
		if k == tagEmpty {
			v = map[string]any{}
			break
		}
		if err := d.push(stack, frame{m: map[string]any{}, off: off}); err != nil {
			return nil, false, err
		}
		return nil, false, nil
	case "nil":
		if k == tagStart {
			if _, err := d.expect(string(name), tagEnd); err != nil {
				return nil, false, err
			}
		}
		v = nil
	default:
		var body []byte
		bodyOff := d.pos
		if k == tagStart {
			if body, err = d.text(); err != nil {
				return nil, false, err
			}
		}
		if v, err = d.scalar(typ, body, bodyOff); err != nil {
			return nil, false, err
		}
		if k == tagStart {
			if _, err := d.expect(string(name), tagEnd); err != nil {
				return nil, false, err
			}
		}
	}
	if _, err := d.expect("value", tagEnd); err != nil {
		return nil, false, err
	}
	return v, true, nil
}

func (d *decoder) push(stack *[]frame, f frame) error {
	if len(*stack) >= d.maxDepth {
		return d.errorf(f.off, "arrays and structs nested deeper than %d levels", d.maxDepth)
	}
	*stack = append(*stack, f)
	return nil
}

// scalar converts the text of a typed scalar element.
func (d *decoder) scalar(typ, body []byte, off int) (any, error) {
	switch string(typ) {
	case "string":
		return string(body), nil
	case "int", "i4", "i8", "i1", "i2", "biginteger":
		n, ok := parseInt(trimSpace(body))
		if ok {
			return n, nil
		}
		if string(typ) == "int" || string(typ) == "i4" {
			// JavaScript peers (npm xmlrpc) write every whole number as
			// <int>, 1e300 as <int>1e+300</int>: a whole number beyond 64
			// bits is read as the double it is.
			if f, ok := parseDouble(trimSpace(body)); ok && f == math.Trunc(f) && !math.IsInf(f, 0) && (f >= 0x1p63 || f < -0x1p63) {
				return f, nil
			}
		}
		return nil, d.errorf(off, "<%s> %s is not a 64-bit integer", typ, strconv.Quote(string(body)))
	case "boolean":
		switch string(trimSpace(body)) {
		case "0":
			return false, nil
		case "1":
			return true, nil
		}
		return nil, d.errorf(off, "<boolean> %s is not 0 or 1", strconv.Quote(string(body)))
	case "double", "float":
		f, ok := parseDouble(trimSpace(body))
		if !ok {
			return nil, d.errorf(off, "<double> %s is not a number", strconv.Quote(string(body)))
		}
		return f, nil
	case "dateTime.iso8601":
		t, err := wire.ParseTime(string(trimSpace(body)))
		if err != nil {
			return nil, d.errorf(off, "<dateTime.iso8601>: %v", err)
		}
		return t, nil
	case "base64":
		return d.base64(body, off)
	}
	return nil, d.errorf(off, "unknown value type <%s>", typ)
}

func (d *decoder) base64(body []byte, off int) ([]byte, error) {
	// Python wraps base64 at 76 columns; drop all white space first.
	clean := body
	if bytes.ContainsAny(body, " \t\r\n") {
		clean = make([]byte, 0, len(body))
		for _, c := range body {
			if !isSpace(c) {
				clean = append(clean, c)
			}
		}
	}
	enc := base64.StdEncoding
	if len(clean)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	out := make([]byte, enc.DecodedLen(len(clean)))
	n, err := enc.Decode(out, clean)
	if err != nil {
		return nil, d.errorf(off, "<base64>: %v", err)
	}
	return out[:n], nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// parseInt parses an optionally signed decimal integer without
// converting b to a string.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxUint64-9)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// parseDouble parses a decimal floating-point number as Python's float()
// does: digits, sign, point and exponent, or inf and nan.
func parseDouble(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	for _, c := range b {
		if c == '_' || c == 'x' || c == 'X' || c == 'p' || c == 'P' {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}
