package main

import (
	"net/url"
	"strings"

	"github.com/rpcwire/rpcwire/amqp"
	"github.com/rpcwire/rpcwire/amqp/jsoncodec"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc/xmlcodec"
)

// defaultAMQPPrefetch is the amqp transport's prefetch when its URL sets
// neither prefetch nor workers.
const defaultAMQPPrefetch = amqp.DefaultWorkers

// codecFor returns the codec whose messages a client of u sends and
// receives, to count the bytes a call puts on the wire, or nil when it is
// not known here.
func codecFor(u *url.URL) transport.Codec {
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mem":
		return transport.BodyOnly(xmlcodec.Codec{})
	case "amqp", "amqps":
		switch strings.ToLower(u.Query().Get("codec")) {
		case "", "xml", "xmlrpc", "xml-rpc":
			return transport.BodyOnly(xmlcodec.Codec{})
		case "json":
			return transport.BodyOnly(jsoncodec.Codec{})
		case "text", "plain":
			return amqp.TextCodec{}
		}
	}
	return nil
}
