package amqp_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"time"

	"github.com/rpcwire/rpcwire/amqp"
	"github.com/rpcwire/rpcwire/examples/funcs"
)

// Serve the article's functions on the tutorial's queue, with fib as the
// default method of plain-text requests (what the tutorial's pika client
// sends), and call fib over the same queue.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	srvURL, _ := url.Parse("amqp://guest:guest@127.0.0.1:5672/?queue=rpc_queue&method=fib")
	srv, err := amqp.Listen(ctx, srvURL, funcs.NewRegistry())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(context.Background())

	// Any codec reaches the same server: xml (default), json or text.
	cliURL, _ := url.Parse("amqp://guest:guest@127.0.0.1:5672/?queue=rpc_queue&codec=json")
	c, err := amqp.Dial(ctx, cliURL)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var n int
	if err := c.Call(ctx, "fib", []any{7}, &n); err != nil {
		log.Fatal(err)
	}
	fmt.Println(n)
}
