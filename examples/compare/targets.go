package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/rpcwire/rpcwire/transport"
)

// Names of the raw floors -baseline measures.
const (
	rawHTTP = "raw-http"
	rawAMQP = "raw-amqp"
)

// probeTimeout bounds the first call made to a target before it is
// loaded, and the setup of each server and client.
const probeTimeout = 10 * time.Second

// target is one thing the tool puts under load: an rpcwire client of an
// embedded server or of a -url server, or a raw floor.
type target struct {
	name    string // row label: mem, http, amqp, raw-http, raw-amqp or a redacted URL
	url     string // redacted URL the client dials
	scheme  string
	floor   string // the raw floor this target is compared to, "" for none
	isFloor bool
	bytes   float64 // request+reply body bytes per call, < 0 when nothing crosses a wire
	// newCaller makes a worker's caller.
	newCaller func() caller
}

// closer releases something set up for a run.
type closer struct {
	what string
	fn   func(ctx context.Context) error
}

// slowStep is how long a setup or shutdown step may take before the
// tool says so: a stalled broker or server should not look like a slow
// tool.
const slowStep = 3 * time.Second

// env holds what a run set up, to release it in reverse order.
type env struct {
	closers []closer
	slow    func(what string, took time.Duration) // told about slow steps
}

func (e *env) onClose(what string, fn func(ctx context.Context) error) {
	e.closers = append(e.closers, closer{what, fn})
}

// close releases everything, the newest first, and returns the first error.
func (e *env) close(ctx context.Context) error {
	var first error
	for _, c := range slices.Backward(e.closers) {
		start := time.Now()
		if err := c.fn(ctx); err != nil && first == nil {
			first = err
		}
		if took := time.Since(start); took > slowStep && e.slow != nil {
			e.slow("closing "+c.what, took)
		}
	}
	e.closers = nil
	return first
}

// listenURL is the URL an embedded server of the named transport listens
// on. Names not listed get name://127.0.0.1:0/, so a scheme added to the
// table later works without a change here when that form suits it.
func listenURL(name string, cfg *config) string {
	switch name {
	case "mem":
		return "mem://compare"
	case "http":
		return "http://127.0.0.1:0/RPC2"
	case "amqp", "amqps":
		return cfg.amqpQueueURL
	}
	return name + "://127.0.0.1:0/"
}

// uniqueQueue returns a queue name no other run uses.
func uniqueQueue() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	return "rpcwire-compare-" + hex.EncodeToString(b[:])
}

// queueURL returns the amqp:// URL raw with a queue of its own, which
// goes when the run ends: auto-deleted with its server, or, when raw asks
// for a durable or quorum queue (which cannot be auto-deleted), deleted
// by the run (persistent reports so).
func queueURL(raw string) (u string, persistent bool, err error) {
	set := url.Values{"queue": {uniqueQueue()}}
	if p, err := transport.ParseURL(raw); err == nil {
		q := p.Query()
		persistent = q.Get("durable") == "true" || q.Get("quorum") == "true"
	}
	if !persistent {
		set.Set("auto_delete", "true")
	}
	u, err = withQuery(raw, set)
	return u, persistent, err
}

// deleteQueue deletes the request queue of the amqp:// URL raw.
func deleteQueue(raw string) error {
	u, err := transport.ParseURL(raw)
	if err != nil {
		return err
	}
	conn, err := dialBroker(raw, probeTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	_, err = ch.QueueDelete(u.Query().Get("queue"), false, false, false)
	return err
}

// withQuery returns raw with the query parameters of set added unless the
// URL already has them.
func withQuery(raw string, set url.Values) (string, error) {
	u, err := transport.ParseURL(raw)
	if err != nil {
		return "", fmt.Errorf("invalid URL: %w", errors.Unwrap(err))
	}
	q := u.Query()
	for k, vs := range set {
		if !q.Has(k) {
			q[k] = vs
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// redact returns raw with any password replaced.
func redact(raw string) string {
	u, err := transport.ParseURL(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}

// clientTarget dials rawURL, checks one call works and returns the target
// that loads the client. label names the row.
func clientTarget(ctx context.Context, r *runner, label, rawURL string, opts ...transport.ClientOption) (*target, error) {
	u, err := transport.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("invalid URL: %w", errors.Unwrap(err))
	}
	dctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	c, err := r.table.Dial(dctx, rawURL, opts...)
	if err != nil {
		return nil, err
	}
	r.env.onClose(label+" client", func(context.Context) error { return c.Close() })

	var got any
	if err := c.Call(dctx, r.cfg.method, r.cfg.args, &got); err != nil {
		return nil, fmt.Errorf("%s(%s) failed: %w", r.cfg.method, r.cfg.argText, err)
	}
	if r.want != nil && !reflect.DeepEqual(got, r.want) {
		r.note("%s: warning: %s(%s) returned %#v, the local registry says %#v", label, r.cfg.method, r.cfg.argText, got, r.want)
	}
	scheme := strings.ToLower(u.Scheme)
	t := &target{
		name:   label,
		url:    u.Redacted(),
		scheme: scheme,
		bytes:  -1,
		newCaller: func() caller {
			var reply any
			return func(ctx context.Context) error { return c.Call(ctx, r.cfg.method, r.cfg.args, &reply) }
		},
	}
	if codec := codecFor(u); codec != nil {
		n, err := wireBytes(codec, r.cfg.method, r.cfg.args, got)
		if err != nil {
			return nil, err
		}
		t.bytes = float64(n)
	}
	switch scheme {
	case "http", "https":
		t.floor = rawHTTP
	case "amqp", "amqps":
		t.floor = rawAMQP
	}
	return t, nil
}

// embedded starts a server of the named transport serving the registry
// and returns the target that loads a client of it.
func embedded(ctx context.Context, r *runner, name string) (*target, error) {
	return serveAndLoad(ctx, r, name, listenURL(name, r.cfg), nil, nil)
}

// embeddedOtel is embedded with OpenTelemetry on client and server, in
// a server of its own (another mem name, port or queue), compared to the
// transport without.
func embeddedOtel(ctx context.Context, r *runner, name string) (*target, error) {
	if r.tel == nil {
		r.tel = newTelemetry(&r.env)
	}
	raw := listenURL(name, r.cfg)
	switch name {
	case "mem":
		raw += "-otel"
	case "amqp", "amqps":
		var err error
		if raw, _, err = queueURL(r.cfg.amqpURL); err != nil {
			return nil, err
		}
	}
	t, err := serveAndLoad(ctx, r, name+otelSuffix, raw, r.tel.server, r.tel.client)
	if err != nil {
		return nil, err
	}
	t.floor = name
	return t, nil
}

// serveAndLoad starts a server at raw serving the registry with sopts and
// returns the target (labelled label) that loads a client of it with copts.
func serveAndLoad(ctx context.Context, r *runner, label, raw string, sopts []transport.ServerOption, copts []transport.ClientOption) (*target, error) {
	name := label
	lctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	srv, err := r.table.Listen(lctx, raw, r.reg, sopts...)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "amqp") && r.cfg.persistent { // closed after the server
		r.env.onClose(name+" queue", func(context.Context) error { return deleteQueue(raw) })
	}
	r.env.onClose(name+" server", func(ctx context.Context) error {
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
			return fmt.Errorf("shut down %s server: %w", name, err)
		}
		return nil
	})
	return clientTarget(ctx, r, label, srv.Addr(), copts...)
}

// wireBytes is the size of one call's request and reply bodies in codec.
func wireBytes(codec transport.Codec, method string, args []any, reply any) (int, error) {
	var req, rep transport.Message
	if err := codec.EncodeCall(&req, method, args); err != nil {
		return 0, fmt.Errorf("encode %s call with the %s codec: %w", method, codec.Name(), err)
	}
	if err := codec.EncodeReply(&rep, reply); err != nil {
		return 0, fmt.Errorf("encode %s reply with the %s codec: %w", method, codec.Name(), err)
	}
	return len(req.Body) + len(rep.Body), nil
}
