package amqp

import (
	"strings"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc/xmlcodec"
)

// codec is a message body format on the queue.
type codec = transport.Codec

// The codecs, by URL name. xml is the xmlrpc package's codec: the same
// bodies as XML-RPC over HTTP, on another carrier.
var (
	xmlCodec  codec = xmlcodec.Codec{}
	jsonCodec codec = JSONCodec{}
	textCodec codec = TextCodec{}
)

func codecNames() []string { return []string{"xml", "json", "text"} }

// codecByName returns the codec a URL's codec parameter names, or nil.
func codecByName(name string) codec {
	switch strings.ToLower(name) {
	case "xml", "xmlrpc", "xml-rpc":
		return xmlCodec
	case "json":
		return jsonCodec
	case "text", "plain":
		return textCodec
	}
	return nil
}

// codecByContentType returns the codec for a message's content_type
// (parameters such as charset ignored), or nil when it names none of ours.
func codecByContentType(ct string) codec {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	switch strings.ToLower(strings.TrimSpace(ct)) {
	case "text/xml", "application/xml":
		return xmlCodec
	case "application/json":
		return jsonCodec
	case "text/plain":
		return textCodec
	}
	return nil
}

// sniff picks the codec of a body that came without a content_type (as
// pika's tutorial sends): an XML-RPC body starts with '<', a JSON envelope
// with '{', anything else is the tutorial's plain text.
func sniff(body []byte) codec {
	for _, b := range body {
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		case '<':
			return xmlCodec
		case '{':
			return jsonCodec
		default:
			return textCodec
		}
	}
	return textCodec
}

// codecOf picks the codec of a received message.
func codecOf(contentType string, body []byte) codec {
	if contentType != "" {
		if c := codecByContentType(contentType); c != nil {
			return c
		}
	}
	return sniff(body)
}
