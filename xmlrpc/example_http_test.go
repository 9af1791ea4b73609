package xmlrpc_test

import (
	"context"
	"fmt"
	"net/url"

	"github.com/rpcwire/rpcwire/registry"
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
