// Command hello is the article's one-way "hello" example over rpcwire's
// AMQP transport, interoperable with its pika producer and consumer
// (simple_producer.py, simple_consumer.py):
//
//	go run ./examples/hello receive              # like simple_consumer.py
//	go run ./examples/hello send                 # like simple_producer.py: "Hello World!"
//	go run ./examples/hello send some other text
//
// Both use queue "hello" on amqp://guest:guest@127.0.0.1:5672/ (flags -url
// and -queue, env AMQP_URL). Messages travel as the tutorial's plain text
// body, so the pika consumer prints what send sends, and receive prints
// what the pika producer sends. receive declares the queue as the
// tutorial does; send fails at once with "no server" when no one has
// declared it yet (start receive, or the pika consumer, first).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rpcwire/rpcwire/amqp"
	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
)

const defaultURL = "amqp://guest:guest@127.0.0.1:5672/"

// method is the name the received messages are dispatched to: the
// tutorial's messages carry no method, so the server's default applies.
const method = "hello"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hello", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := os.Getenv("AMQP_URL")
	if def == "" {
		def = defaultURL
	}
	rawURL := fs.String("url", def, "broker URL (env AMQP_URL)")
	queue := fs.String("queue", "hello", "queue to send to or receive from")
	count := fs.Int("count", 0, "receive: exit after this many messages (0: until interrupted)")
	timeout := fs.Duration("timeout", 10*time.Second, "send: give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hello [flags] send [MESSAGE...] | receive")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() < 1 {
		fs.Usage()
		return 2
	}
	u, err := url.Parse(*rawURL)
	if err != nil {
		fmt.Fprintf(stderr, "hello: bad -url: %v\n", err)
		return 2
	}
	q := u.Query()
	q.Set("queue", *queue)
	q.Set("codec", "text")
	q.Set("method", method)
	u.RawQuery = q.Encode()

	switch fs.Arg(0) {
	case "send":
		msg := "Hello World!"
		if fs.NArg() > 1 {
			msg = strings.Join(fs.Args()[1:], " ")
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		return send(ctx, u, msg, stdout, stderr)
	case "receive":
		return receive(ctx, u, *count, stdout, stderr)
	}
	fs.Usage()
	return 2
}

func send(ctx context.Context, u *url.URL, msg string, stdout, stderr io.Writer) int {
	c, err := amqp.Dial(ctx, u)
	if err != nil {
		fmt.Fprintf(stderr, "hello: %v\n", err)
		return 1
	}
	defer c.Close()
	if err := c.Notify(ctx, method, []any{msg}); err != nil {
		if errors.Is(err, transport.ErrNoServer) {
			fmt.Fprintf(stderr, "hello: %v\n(start `hello receive` or simple_consumer.py first: it declares the queue)\n", err)
		} else {
			fmt.Fprintf(stderr, "hello: %v\n", err)
		}
		return 1
	}
	fmt.Fprintf(stdout, " [x] Sent %q\n", msg)
	return 0
}

func receive(ctx context.Context, u *url.URL, count int, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		received int
	)
	reg := registry.New(registry.WithoutIntrospection())
	// Variadic, so any tutorial body fits: "Hello World!" is one string,
	// "2 3" two numbers.
	reg.MustRegister(method, func(args ...any) {
		parts := make([]string, len(args))
		for i, a := range args {
			parts[i] = fmt.Sprint(a)
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stdout, " [x] Received %q\n", strings.Join(parts, " "))
		if received++; count > 0 && received >= count {
			cancel()
		}
	})
	srv, err := amqp.Listen(ctx, u, reg, transport.WithMaxInFlight(1)) // one at a time: messages print in order
	if err != nil {
		fmt.Fprintf(stderr, "hello: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, " [*] Waiting for messages. To exit press CTRL+C")
	<-ctx.Done()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "hello: shutdown: %v\n", err)
		return 1
	}
	return 0
}
