package main

import (
	"net/url"
	"strings"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc"
)

// codecFor returns the codec whose bodies a client of u sends and
// receives, to count the bytes a call puts on the wire, or nil when the
// transport has no wire (mem) or the codec is not known here.
func codecFor(u *url.URL) transport.Codec {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return xmlrpc.Codec{}
	case "amqp", "amqps":
		switch strings.ToLower(u.Query().Get("codec")) {
		case "", "xml", "xmlrpc", "xml-rpc":
			return xmlrpc.Codec{}
		}
	}
	return nil
}
