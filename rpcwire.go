// Package rpcwire serves and calls plain Go functions over any wire:
// XML-RPC over HTTP, RabbitMQ queues (AMQP) or in-process, picked by URL.
//
// Register functions once in a registry.Registry, then Listen on as many
// URLs as you like and Dial any of them:
//
//	reg := registry.New()
//	reg.Register("fun_add", func(a, b int) int { return a + b })
//	srv, err := rpcwire.Listen(ctx, "http://127.0.0.1:8080/", reg)
//	...
//	c, err := rpcwire.Dial(ctx, "http://127.0.0.1:8080/")
//	var sum int
//	err = c.Call(ctx, "fun_add", []any{2, 3}, &sum)
//	sum, err = rpcwire.Call[int](ctx, c, "fun_add", 2, 3) // the same, typed
//
// URL schemes: mem://name (in-process), http:// and https:// (XML-RPC),
// amqp:// and amqps:// (RabbitMQ). Errors are the transport package's
// sentinels and *transport.RemoteError, the same for every scheme.
package rpcwire

import (
	"context"

	"github.com/rpcwire/rpcwire/amqp"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/mem"
	"github.com/rpcwire/rpcwire/xmlrpc"
)

// NewTable returns a scheme table with every transport of the module and
// a mem:// namespace of its own. Build your own transport.Table to use
// fewer transports (and link fewer dependencies).
func NewTable() *transport.Table {
	n := mem.NewNetwork()
	return transport.NewTable(map[string]transport.Scheme{
		"mem":   {Dial: n.Dial, Listen: n.Listen},
		"http":  {Dial: xmlrpc.Dial, Listen: xmlrpc.Listen},
		"https": {Dial: xmlrpc.Dial, Listen: xmlrpc.Listen},
		"amqp":  {Dial: amqp.Dial, Listen: amqp.Listen},
		"amqps": {Dial: amqp.Dial, Listen: amqp.Listen},
	})
}

// defaultTable serves the package-level Dial and Listen. It is built once
// and never changed; its mem:// namespace is the process's, as the
// loopback interface is for TCP.
var defaultTable = NewTable()

// Dial opens a client for rawURL, choosing the transport by scheme.
func Dial(ctx context.Context, rawURL string, opts ...transport.ClientOption) (transport.Client, error) {
	return defaultTable.Dial(ctx, rawURL, opts...)
}

// Listen starts serving d on rawURL, choosing the transport by scheme.
// The returned server is already serving; stop it with Shutdown or Close.
func Listen(ctx context.Context, rawURL string, d transport.Dispatcher, opts ...transport.ServerOption) (transport.Server, error) {
	return defaultTable.Listen(ctx, rawURL, d, opts...)
}

// Schemes lists the URL schemes Dial and Listen understand.
func Schemes() []string { return defaultTable.Schemes() }

// Call calls method with args on c and returns the result as a T, for
// the common case that needs no reply variable:
//
//	sum, err := rpcwire.Call[int](ctx, c, "fun_add", 2, 3)
//
// The result converts to T as Client.Call's reply does (T = any keeps the
// wire value). On an error it returns T's zero value and the error
// Client.Call returned.
func Call[T any](ctx context.Context, c transport.Client, method string, args ...any) (T, error) {
	var out T
	if err := c.Call(ctx, method, args, &out); err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}
