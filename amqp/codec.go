package amqp

import (
	"fmt"
	"strings"

	"github.com/rpcwire/rpcwire/amqp/jsoncodec"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc/xmlcodec"
)

// The body codecs, as message codecs. xml is the XML-RPC codec: the same
// bodies as XML-RPC over HTTP, on another carrier; json is jsoncodec's.
var (
	xmlCodec  = transport.BodyOnly(xmlcodec.Codec{})
	jsonCodec = transport.BodyOnly(jsoncodec.Codec{})
)

func codecNames() []string { return []string{"xml", "json", "text"} }

// codecs are the codecs a client or server speaks: XML-RPC, JSON, and the
// text codec with the server's default method; transport.WithCodec may
// replace any of them.
type codecs struct {
	xml, json, text transport.Codec
}

func newCodecs(method string) codecs {
	return codecs{xml: xmlCodec, json: jsonCodec, text: TextCodec{Method: method}}
}

// with returns cs with the codecs of the same names in given instead.
func (cs codecs) with(given []transport.Codec) (codecs, error) {
	if err := transport.CheckCodecs(given, "amqp", codecNames()...); err != nil {
		return cs, err
	}
	cs.xml = transport.PickCodec(given, cs.xml)
	cs.json = transport.PickCodec(given, cs.json)
	cs.text = transport.PickCodec(given, cs.text)
	return cs, nil
}

// byName returns the codec a URL's codec parameter names, or nil.
func (cs codecs) byName(name string) transport.Codec {
	switch strings.ToLower(name) {
	case "xml", "xmlrpc", "xml-rpc":
		return cs.xml
	case "json":
		return cs.json
	case "text", "plain":
		return cs.text
	}
	return nil
}

// byContentType returns the codec for a message's content_type
// (parameters such as charset ignored), or nil when it names none of ours.
func (cs codecs) byContentType(ct string) transport.Codec {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	switch strings.ToLower(strings.TrimSpace(ct)) {
	case "text/xml", "application/xml":
		return cs.xml
	case "application/json":
		return cs.json
	case "text/plain":
		return cs.text
	}
	return nil
}

// sniff picks the codec of a body that came without a content_type (as
// pika's tutorial sends): an XML-RPC body starts with '<', a JSON envelope
// with '{', anything else is the tutorial's plain text.
func (cs codecs) sniff(body []byte) transport.Codec {
	for _, b := range body {
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		case '<':
			return cs.xml
		case '{':
			return cs.json
		default:
			return cs.text
		}
	}
	return cs.text
}

// of picks the codec of a received message: by its content_type, or by
// its body when it has none or says only "bytes" (application/octet-stream,
// what several AMQP clients put on a message by default). Any other
// content type of no codec of ours is an error: the message is not ours
// to read.
func (cs codecs) of(contentType string, body []byte) (transport.Codec, error) {
	if ct, _, _ := strings.Cut(contentType, ";"); ct == "" || strings.EqualFold(strings.TrimSpace(ct), "application/octet-stream") {
		return cs.sniff(body), nil
	}
	if c := cs.byContentType(contentType); c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("%w: unsupported content type %q (want text/xml, application/json, text/plain, or none)",
		transport.ErrParse, contentType)
}

// clientCodec encodes calls with the client's codec and decodes each
// reply in the codec it came in, as a server answers in the codec of the
// request (and a foreign server may label its reply).
type clientCodec struct {
	transport.Codec
	all codecs
}

// DecodeReply implements transport.Codec.
func (c clientCodec) DecodeReply(m *transport.Message) (any, error) {
	if m.ContentType != "" {
		if byType := c.all.byContentType(m.ContentType); byType != nil {
			return byType.DecodeReply(m)
		}
	}
	return c.Codec.DecodeReply(m)
}
