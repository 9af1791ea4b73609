// Package jsoncodec is the JSON body codec of the amqp transport: a small
// envelope around wire values, built on encoding/json.
//
//	call:  {"method": "fun_add", "params": [2, 3]}
//	reply: {"result": 5}
//	fault: {"error": {"code": -32601, "message": "method not found"}}
//
// Values map to JSON as follows:
//
//   - nil, bool and string are null, true/false and strings. Invalid
//     UTF-8 in a string becomes U+FFFD, both ways, as in encoding/json.
//   - An integer (no fraction, no exponent) decodes to int64, or to
//     float64 when it does not fit. Any other number decodes to float64
//     (±Inf when out of range). An encoded float64 always carries a
//     fraction or an exponent ("1.0", "1e+21"), so it comes back a
//     float64; NaN and ±Inf cannot be encoded.
//   - []byte is {"$base64": "..."} (standard base64, padded) and
//     time.Time is {"$datetime": "..."} (RFC 3339 with nanoseconds; the
//     other ISO 8601 forms wire.ParseTime reads are accepted).
//   - []any is an array and map[string]any an object, written with
//     members sorted by name. A struct whose first member name in that
//     order is a tag ($base64, $datetime, $map) is wrapped as
//     {"$map": {...}}, so every wire value round-trips.
//
// Reading tags: an object whose only member is named $base64, $datetime
// or $map is the tagged value ($map: the object inside, taken as a plain
// struct). An object with more members is a plain struct whatever its
// member names, and when a name appears twice the last value counts, as
// in encoding/json. (The rule is deliberately blind to member order;
// members' values must still be well-formed wherever they appear.)
//
// The envelope is never a tag; member names match exactly and unknown
// envelope members (such as a JSON-RPC "jsonrpc" or "id") are ignored,
// though their values must decode too. "params" may be missing or null
// for no arguments. A body is one JSON object with nothing but white
// space after it. Arrays and objects nest at most MaxDepth levels below
// the envelope, when encoding and when decoding.
package jsoncodec

import (
	"github.com/rpcwire/rpcwire/transport"
)

// MaxDepth bounds how deeply arrays and objects nest below a body's
// envelope: a result (or a value of AppendValue and DecodeValue) may nest
// MaxDepth levels, an argument one less, because the params array is one.
// A tagged value counts as one level, a $map-wrapped struct as two.
// Deeper values are an error on both sides.
const MaxDepth = 100

// Codec is the JSON codec, a transport.BodyCodec (transport.BodyOnly makes
// a message codec of it). It has no state: the zero value is ready to use
// and safe for concurrent use.
type Codec struct{}

var _ transport.BodyCodec = Codec{}

// Name returns "json", the codec's name in URLs.
func (Codec) Name() string { return "json" }

// ContentType returns "application/json".
func (Codec) ContentType() string { return "application/json" }
