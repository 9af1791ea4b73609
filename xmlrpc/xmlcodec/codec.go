// Package xmlcodec is the XML-RPC body codec: it turns calls and replies
// into XML-RPC methodCall and methodResponse bodies and back, with no
// carrier of its own. The xmlrpc package carries these bodies over HTTP,
// the amqp package over RabbitMQ and transport/mem in process, byte for
// byte the same.
//
// The decoder is a scanner for the subset of XML that XML-RPC uses (no
// DTDs, so no entity expansion), bounded in nesting depth and element
// count, and never recursive; the encoder appends to a caller's buffer.
//
// The decoder reads bodies in UTF-8, UTF-16, US-ASCII, ISO-8859-1 (and its
// aliases latin-1, latin1, iso_8859-1, ...) and Windows-1252: the body's
// byte order mark or XML declaration says which, else it is UTF-8. Bodies
// in other encodings get a parse error naming the encoding. The encoder
// always writes UTF-8.
package xmlcodec

import (
	"fmt"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

// Default limits of a zero Codec.
const (
	// DefaultMaxDepth bounds how deeply arrays and structs may nest.
	DefaultMaxDepth = 100
	// DefaultMaxElements bounds the number of XML elements in one body.
	DefaultMaxElements = 1_000_000
)

// Codec is the XML-RPC codec. The zero value is ready to use with the
// default limits; its methods have value receivers, so a Codec is safe for
// concurrent use and cheap to copy.
//
// Decoded values are wire values: <int>, <i4> and <i8> become int64,
// <boolean> bool, <string> and untyped values string, <double> float64,
// <dateTime.iso8601> time.Time, <base64> []byte, <array> []any, <struct>
// map[string]any and <nil/> nil. Like Python, the decoder reads 64-bit
// values in <int> and <i4> (which the specification makes 32-bit), and a
// whole number beyond 64 bits in them, as JavaScript peers write
// <int>1e+300</int>, becomes the float64 it is. Elements XML-RPC does not
// have are skipped where XML-RPC has markup only (between params, members,
// array items), as Python skips them; inside <value> they are errors.
//
// Encoding accepts wire values and anything wire.Convert converts.
// Integers that fit 32 bits are sent as <int>, larger ones as <i8>; times
// are sent in UTC in Python's 20060102T15:04:05 form (whole seconds); struct
// members are sorted by name.
type Codec struct {
	// MaxDepth bounds the nesting of arrays and structs, when decoding and
	// when encoding. Zero means DefaultMaxDepth.
	MaxDepth int
	// MaxElements bounds the number of XML elements a decoded body may
	// hold. Zero means DefaultMaxElements.
	MaxElements int
}

var (
	_ transport.BodyCodec        = Codec{}
	_ transport.BodyReplyLimiter = Codec{}
)

// Name returns "xml", the codec's name in URLs.
func (Codec) Name() string { return "xml" }

// ContentType returns "text/xml", the MIME type XML-RPC bodies travel with.
func (Codec) ContentType() string { return "text/xml" }

func (c Codec) maxDepth() int {
	if c.MaxDepth <= 0 {
		return DefaultMaxDepth
	}
	return c.MaxDepth
}

func (c Codec) maxElements() int {
	if c.MaxElements <= 0 {
		return DefaultMaxElements
	}
	return c.MaxElements
}

// SyntaxError reports a body that is not well-formed XML-RPC. It wraps
// transport.ErrParse, so errors.Is(err, transport.ErrParse) holds.
type SyntaxError struct {
	// Offset is the byte offset in the body (as received, whatever its
	// encoding) where the problem was found.
	Offset int
	// Msg says what was wrong.
	Msg string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%v: xml-rpc: %s (at byte %d)", transport.ErrParse, e.Msg, e.Offset)
}

// Unwrap returns transport.ErrParse.
func (e *SyntaxError) Unwrap() error { return transport.ErrParse }

// AppendCall appends a <methodCall> for method with args to dst. On error
// it returns dst unchanged.
func (c Codec) AppendCall(dst []byte, method string, args []any) ([]byte, error) {
	if method == "" {
		return dst, wire.Within(encodeError("empty"), "method name")
	}
	e := encoder{maxDepth: c.maxDepth()}
	out := append(dst, `<?xml version="1.0"?>`+"\n<methodCall><methodName>"...)
	out, err := appendText(out, method)
	if err != nil {
		return dst, wire.Within(encodeError(err.Error()), "method name")
	}
	out = append(out, "</methodName><params>"...)
	for i, a := range args {
		out = append(out, "<param>"...)
		out, err = e.appendValue(out, a, 0)
		if err != nil {
			return dst, within(err, "args"+wire.Index(i))
		}
		out = append(out, "</param>"...)
	}
	return append(out, "</params></methodCall>\n"...), nil
}

// AppendReply appends a <methodResponse> carrying result to dst. On error
// it returns dst unchanged.
func (c Codec) AppendReply(dst []byte, result any) ([]byte, error) {
	return c.AppendReplyWithin(dst, result, 0)
}

// AppendReplyWithin is AppendReply that stops as soon as the reply passes
// limit bytes, with an error wrapping transport.ErrTooLarge, rather than
// build it whole (it implements transport.BodyReplyLimiter). A limit of
// zero or less means none. On error it returns dst unchanged.
func (c Codec) AppendReplyWithin(dst []byte, result any, limit int64) ([]byte, error) {
	e := encoder{maxDepth: c.maxDepth(), limit: transport.SizeLimit{Max: limit, Start: len(dst)}}
	out := append(dst, `<?xml version="1.0"?>`+"\n<methodResponse><params><param>"...)
	out, err := e.appendValue(out, result, 0)
	if err != nil {
		return dst, within(err, "result")
	}
	out = append(out, "</param></params></methodResponse>\n"...)
	if e.limit.Passed(out) {
		return dst, e.limit.Err()
	}
	return out, nil
}

// AppendFault appends a <methodResponse> carrying fault to dst, as a
// struct with faultCode and faultString. Characters XML cannot carry in
// the message are replaced by U+FFFD. A nil fault is sent as an internal
// error.
func (Codec) AppendFault(dst []byte, fault *transport.RemoteError) []byte {
	if fault == nil {
		fault = &transport.RemoteError{Code: transport.CodeInternal, Message: "unknown error"}
	}
	dst = append(dst, `<?xml version="1.0"?>`+"\n<methodResponse><fault><value><struct>"+
		"<member><name>faultCode</name><value>"...)
	dst = appendInt(dst, int64(fault.Code))
	dst = append(dst, "</value></member><member><name>faultString</name><value><string>"...)
	dst = appendTextLossy(dst, fault.Message)
	return append(dst, "</string></value></member></struct></value></fault></methodResponse>\n"...)
}

// DecodeCall decodes a <methodCall>. Errors wrap transport.ErrParse
// (as *SyntaxError).
func (c Codec) DecodeCall(body []byte) (method string, args []any, err error) {
	d := decoder{buf: body, maxDepth: c.maxDepth(), elemsLeft: c.maxElements()}
	return d.call()
}

// DecodeReply decodes a <methodResponse>. A fault is returned as
// *transport.RemoteError (one without a faultCode, such as the empty
// struct npm xmlrpc sends for a JavaScript Error, with code
// transport.CodeApplication); a malformed body as an error wrapping
// transport.ErrParse (as *SyntaxError). A response without a param
// decodes to nil.
func (c Codec) DecodeReply(body []byte) (result any, err error) {
	d := decoder{buf: body, maxDepth: c.maxDepth(), elemsLeft: c.maxElements()}
	return d.reply()
}
