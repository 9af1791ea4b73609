// Package xmlrpc is rpcwire's XML-RPC over HTTP transport: the article's
// SimpleXMLRPCServer and xmlrpc.client.ServerProxy, done so that many
// calls share keep-alive connections, every call honours its context, and
// Python's, PHP's, Ruby's and Node's XML-RPC libraries interoperate with
// it both ways.
//
// # URLs
//
//	http://host:port/path            (the server also answers on / and /RPC2)
//	https://host:port/path           (TLS from transport.WithTLSConfig)
//	http://user:secret@host:port/    (basic auth: the client sends it, the server requires it)
//
// Dial and Listen are the transport's entries in a transport.Table;
// DialConfig and ListenConfig set what a URL cannot say (following
// redirects; the server's timeouts and connection limit), and NewHandler
// serves a transport.Dispatcher on a mux of your own.
//
// # On the wire
//
// A call is a POST of a methodCall body (text/xml), its reply a
// methodResponse or a fault, encoded and decoded by xmlrpc/xmlcodec. The
// caller's deadline travels in TimeoutHeader, so the server stops a call
// its caller gave up on; a one-way call (transport.Client.Notify) sets
// OneWayHeader and gets 202 Accepted once the server took it. Call
// metadata travel as header fields. An HTTP status other than 200 is a
// *StatusError that matches the transport sentinel errors: 401/403
// ErrUnauthorized, 404 ErrNotFound, 413 ErrTooLarge, 429/503 ErrBusy,
// 500 ErrInternal. Redirects are not followed unless DialConfig asks.
package xmlrpc
