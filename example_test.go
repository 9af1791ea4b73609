package rpcwire_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rpcwire/rpcwire"
	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
)

// Register a plain Go function once, serve it, call it. Changing the URL
// (http://127.0.0.1:8080/, amqp://guest:guest@127.0.0.1:5672/) changes the
// wire and nothing else.
func Example() {
	ctx := context.Background()
	reg := registry.New()
	reg.MustRegister("fun_add", func(a, b int) int { return a + b })

	srv, err := rpcwire.Listen(ctx, "mem://example", reg)
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	c, err := rpcwire.Dial(ctx, srv.Addr())
	if err != nil {
		panic(err)
	}
	defer c.Close()

	var sum int
	if err := c.Call(ctx, "fun_add", []any{2, 3}, &sum); err != nil {
		panic(err)
	}
	fmt.Println(sum)

	err = c.Call(ctx, "fun_sub", []any{2, 3}, &sum)
	var fault *transport.RemoteError
	fmt.Println(errors.Is(err, transport.ErrMethodNotFound), errors.As(err, &fault), fault.Code)
	// Output:
	// 5
	// true true -32601
}

// Dial and Listen name the schemes they know when given another.
func ExampleDial_unknownScheme() {
	_, err := rpcwire.Dial(context.Background(), "gopher://127.0.0.1/")
	fmt.Println(errors.Is(err, transport.ErrUnknownScheme))
	// Output: true
}

// Call returns the result typed, with no reply variable.
func ExampleCall() {
	ctx := context.Background()
	reg := registry.New()
	reg.MustRegister("fun_add", func(a, b int) int { return a + b })
	reg.MustRegister("split", func(s string) []string { return strings.Fields(s) })
	srv, err := rpcwire.Listen(ctx, "mem://example-call", reg)
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := rpcwire.Dial(ctx, srv.Addr())
	if err != nil {
		panic(err)
	}
	defer c.Close()

	sum, err := rpcwire.Call[int](ctx, c, "fun_add", 2, 3)
	fmt.Println(sum, err)
	words, err := rpcwire.Call[[]string](ctx, c, "split", "to be or not")
	fmt.Println(len(words), words[3], err)
	_, err = rpcwire.Call[string](ctx, c, "fun_add", 2, 3)
	fmt.Println(err != nil)
	// Output:
	// 5 <nil>
	// 4 not <nil>
	// true
}
