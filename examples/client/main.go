// Command client calls one method on an rpcwire server and prints the
// result alone on stdout:
//
//	go run ./examples/client -url http://127.0.0.1:8080/ fib 7
//	13
//
// The URL picks the transport (http://, https://, amqp://, amqps://,
// mem://); it defaults to $RPC_URL, else http://127.0.0.1:8080/. Arguments
// are parsed as int, float, bool, else string. A remote fault prints its
// text on stderr and exits 1; a transport failure exits 2.
//
// Tracing follows the standard OpenTelemetry environment variables
// (OTEL_TRACES_EXPORTER=console prints the call's span on stderr, =otlp
// exports it, unset exports nothing; see examples/internal/otelsetup),
// and the trace context travels to the server in the call's metadata. A
// trace context in TRACEPARENT (and TRACESTATE, BAGGAGE) makes the call
// part of that trace.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/rpcwire/rpcwire"
	"github.com/rpcwire/rpcwire/examples/internal/otelsetup"
	"github.com/rpcwire/rpcwire/internal/scalar"
	"github.com/rpcwire/rpcwire/transport"
)

const defaultURL = "http://127.0.0.1:8080/"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command without the process around it, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := os.Getenv("RPC_URL")
	if def == "" {
		def = defaultURL
	}
	url := fs.String("url", def, "server URL (env RPC_URL); the scheme picks the transport: "+fmt.Sprint(rpcwire.Schemes()))
	timeout := fs.Duration("timeout", 10*time.Second, "give up on the call after this long")
	notify := fs.Bool("notify", false, "send a one-way call and do not wait for a result")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: client [-url URL] [-timeout D] [-notify] METHOD [ARGS...]\n"+
			"  arguments are parsed as int, float, bool, else string\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() < 1 {
		fs.Usage()
		return 2
	}
	method, params := fs.Arg(0), parseArgs(fs.Args()[1:])

	tel, err := otelsetup.New(ctx, otelsetup.Config{Service: "rpcwire-client", SpanOutput: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "client: %v\n", err)
		return 2
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tel.Shutdown(sctx); err != nil {
			fmt.Fprintf(stderr, "client: telemetry: %v\n", err)
		}
	}()
	ctx = tel.FromEnvironment(ctx)

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	c, err := rpcwire.Dial(ctx, *url, tel.ClientOptions()...)
	if err != nil {
		fmt.Fprintf(stderr, "client: %v\n", err)
		return 2
	}
	defer c.Close()
	if *notify {
		if err := c.Notify(ctx, method, params); err != nil {
			return fail(stderr, err)
		}
		return 0
	}
	var result any
	if err := c.Call(ctx, method, params, &result); err != nil {
		return fail(stderr, err)
	}
	if err := printValue(stdout, result); err != nil {
		fmt.Fprintf(stderr, "client: print result: %v\n", err)
		return 2
	}
	return 0
}

// fail prints err: a fault's own text (exit 1) or the transport failure
// (exit 2).
func fail(stderr io.Writer, err error) int {
	var re *transport.RemoteError
	if errors.As(err, &re) {
		fmt.Fprintln(stderr, re.Message)
		return 1
	}
	fmt.Fprintf(stderr, "client: %v\n", err)
	return 2
}

// parseArgs turns words into call arguments as the text codec does: int,
// float, bool, else string.
func parseArgs(words []string) []any {
	out := make([]any, len(words))
	for i, w := range words {
		out[i] = scalar.Parse(w)
	}
	return out
}

// printValue prints scalars as they are and everything else as JSON.
func printValue(w io.Writer, v any) error {
	switch x := v.(type) {
	case nil:
		_, err := fmt.Fprintln(w, "nil")
		return err
	case string:
		_, err := fmt.Fprintln(w, x)
		return err
	case int64, bool:
		_, err := fmt.Fprintln(w, x)
		return err
	case float64:
		_, err := fmt.Fprintln(w, strconv.FormatFloat(x, 'g', -1, 64))
		return err
	case time.Time:
		_, err := fmt.Fprintln(w, x.Format(time.RFC3339))
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
