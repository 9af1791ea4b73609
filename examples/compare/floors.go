package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/rpcwire/rpcwire/internal/rawecho"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc/xmlcodec"
)

// The raw floors are what the client libraries alone achieve: the same
// bodies moved by net/http or amqp091-go with no codec, no registry and no
// framework, server and client in this process like the transports'.
// They are internal/rawecho's minimal echoes, the ones the benchmarks
// use too.

// rawHTTPFloor serves a POST echo on 127.0.0.1 and returns the target that
// posts body to it.
func rawHTTPFloor(ctx context.Context, r *runner, body []byte, contentType string) (*target, error) {
	e, err := rawecho.NewHTTP(slices.Max(r.cfg.concurrency))
	if err != nil {
		return nil, err
	}
	r.env.onClose(rawHTTP, e.Close)
	ct := []string{contentType}
	t := &target{
		name:    rawHTTP,
		url:     e.URL,
		scheme:  "http",
		isFloor: true,
		bytes:   float64(2 * len(body)),
		newCaller: func() caller {
			var buf []byte
			return func(ctx context.Context) error {
				var err error
				buf, err = e.Call(ctx, buf[:0], body, ct)
				switch {
				case err != nil:
					return err
				case len(buf) != len(body):
					return fmt.Errorf("raw http echo: got %d bytes back, sent %d", len(buf), len(body))
				}
				return nil
			}
		},
	}
	// One call proves the floor works before it is measured.
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if err := t.newCaller()(pctx); err != nil {
		return nil, err
	}
	return t, nil
}

// ourAMQPParams are the query parameters of an rpcwire amqp:// URL that
// amqp091-go must not see (the amqp package's list).
var ourAMQPParams = []string{
	"queue", "codec", "method", "prefetch", "workers",
	"durable", "quorum", "exclusive", "auto_delete", "timeout", "dead_letter",
	"dead_letter_queue", "shuffle",
}

// brokerURL strips rpcwire's parameters from an amqp:// URL, and keeps
// only the first address of a host list (amqp091-go dials one): the raw
// floor of a cluster runs on its first node.
func brokerURL(raw string) (string, error) {
	u, err := transport.ParseURL(raw)
	if err != nil {
		return "", fmt.Errorf("invalid AMQP URL: %w", errors.Unwrap(err))
	}
	u.Host, _, _ = strings.Cut(u.Host, ",")
	q := u.Query()
	for _, k := range ourAMQPParams {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// dialBroker connects to the broker of an amqp:// URL, giving up after
// timeout.
func dialBroker(raw string, timeout time.Duration) (*amqp091.Connection, error) {
	b, err := brokerURL(raw)
	if err != nil {
		return nil, err
	}
	conn, err := amqp091.DialConfig(b, amqp091.Config{
		Dial:       amqp091.DefaultDial(timeout),
		Properties: amqp091.Table{"connection_name": "rpcwire compare"},
	})
	if err != nil {
		return nil, fmt.Errorf("no AMQP broker at %s: %w", redact(b), err)
	}
	return conn, nil
}

// prefetchOf is the prefetch an rpcwire amqp:// URL asks its server for:
// the prefetch parameter, else workers, else the transport's default.
func prefetchOf(raw string) int {
	u, err := transport.ParseURL(raw)
	if err != nil {
		return defaultAMQPPrefetch
	}
	for _, k := range []string{"prefetch", "workers"} {
		if n, err := strconv.Atoi(u.Query().Get(k)); err == nil && n > 0 {
			return n
		}
	}
	return defaultAMQPPrefetch
}

// rawAMQPFloor runs the minimal amqp091-go echo RPC on the broker of
// brokerRaw, with prefetch unacked requests on its server: at least the
// most calls in flight of the run, so the floor never queues a call the
// broker could have handed over.
func rawAMQPFloor(ctx context.Context, r *runner, brokerRaw string, prefetch int, body []byte, contentType string) (*target, error) {
	b, err := brokerURL(brokerRaw)
	if err != nil {
		return nil, err
	}
	prefetch = max(prefetch, slices.Max(r.cfg.concurrency))
	e, err := rawecho.NewAMQP(b, prefetch)
	if err != nil {
		return nil, fmt.Errorf("no AMQP broker at %s: %w", redact(b), err)
	}
	r.env.onClose(rawAMQP, func(context.Context) error { return e.Close() })
	t := &target{
		name:    rawAMQP,
		url:     redact(brokerRaw),
		scheme:  "amqp",
		isFloor: true,
		bytes:   float64(2 * len(body)),
		newCaller: func() caller {
			return func(ctx context.Context) error {
				reply, err := e.Call(ctx, body, contentType)
				if err == nil && len(reply) != len(body) {
					return fmt.Errorf("raw amqp echo: got %d bytes back, sent %d", len(reply), len(body))
				}
				return err
			}
		},
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if err := t.newCaller()(pctx); err != nil {
		return nil, fmt.Errorf("raw amqp echo: %w", err)
	}
	return t, nil
}

// floorBody is the body a raw floor moves: the call as the compared
// transport's codec encodes it, so both carry the same bytes.
func floorBody(t *target, r *runner) ([]byte, string, error) {
	u, err := transport.ParseURL(t.url)
	if err != nil {
		return nil, "", err
	}
	codec := codecFor(u)
	if codec == nil {
		codec = transport.BodyOnly(xmlcodec.Codec{})
	}
	var m transport.Message
	if err := codec.EncodeCall(&m, r.cfg.method, r.cfg.args); err != nil {
		return nil, "", fmt.Errorf("encode the floor's body: %w", err)
	}
	return m.Body, codec.ContentType(), nil
}
