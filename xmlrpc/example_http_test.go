package xmlrpc_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc"
)

// ExampleListen serves fun_add over XML-RPC on a free port and calls it.
func ExampleListen() {
	ctx := context.Background()
	reg := registry.New()
	reg.MustRegister("fun_add", func(a, b int) int { return a + b })

	srv, err := xmlrpc.Listen(ctx, &url.URL{Scheme: "http", Host: "127.0.0.1:0", Path: "/RPC2"}, reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(ctx)

	u, _ := url.Parse(srv.Addr()) // e.g. http://127.0.0.1:41234/RPC2
	c, err := xmlrpc.Dial(ctx, u)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	var sum int
	if err := c.Call(ctx, "fun_add", []any{2, 3}, &sum); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sum)
	// Output: 5
}

// ExampleDialConfig follows redirects within the dialled origin: a server
// that moved its endpoint to another path answers 308, and the call is
// sent again there, credentials included. To keep choosing transports by
// URL, put cfg.Dial in a transport.Table of your own.
func ExampleDialConfig() {
	ctx := context.Background()
	reg := registry.New()
	reg.MustRegister("fun_add", func(a, b int) int { return a + b })
	h, err := xmlrpc.NewHandler(reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Close()
	mux := http.NewServeMux()
	mux.Handle("/v2/rpc", h)
	mux.Handle("/RPC2", http.RedirectHandler("/v2/rpc", http.StatusPermanentRedirect))
	hs := httptest.NewServer(mux)
	defer hs.Close()

	cfg := xmlrpc.DialConfig{FollowRedirects: true}
	table := transport.NewTable(map[string]transport.Scheme{"http": {Dial: cfg.Dial}})
	c, err := table.Dial(ctx, hs.URL+"/RPC2")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	var sum int
	if err := c.Call(ctx, "fun_add", []any{2, 3}, &sum); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sum)
	// Output: 5
}
