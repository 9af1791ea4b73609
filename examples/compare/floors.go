package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc/xmlcodec"
)

// The raw floors are what the client libraries alone achieve: the same
// bodies moved by net/http or amqp091-go with no codec, no registry and no
// framework, server and client in this process like the transports'.

// httpClientTransport is the HTTP client transport of the raw floor, tuned
// as the xmlrpc client tunes its own: a large idle pool so that every
// caller keeps its keep-alive connection, no transparent compression.
func httpClientTransport(conc int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: max(conc, 512),
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// rawHTTPFloor serves a POST echo on 127.0.0.1 and returns the target that
// posts body to it.
func rawHTTPFloor(ctx context.Context, r *runner, body []byte, contentType string) (*target, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("raw http echo: %w", err)
	}
	bufs := sync.Pool{New: func() any { return new(bytes.Buffer) }}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			buf := bufs.Get().(*bytes.Buffer)
			defer bufs.Put(buf)
			buf.Reset()
			if _, err := buf.ReadFrom(http.MaxBytesReader(w, req.Body, transport.DefaultMaxMessageSize)); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", contentType)
			w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
			_, _ = w.Write(buf.Bytes())
		}),
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln) // returns when shut down
	}()
	maxConc := slices.Max(r.cfg.concurrency)
	tr := httpClientTransport(maxConc)
	client := &http.Client{Transport: tr}
	r.env.onClose(rawHTTP, func(ctx context.Context) error {
		tr.CloseIdleConnections()
		err := srv.Shutdown(ctx)
		if err != nil {
			_ = srv.Close()
		}
		<-served
		return err
	})
	u := "http://" + ln.Addr().String() + "/"
	pu, err := transport.ParseURL(u)
	if err != nil {
		return nil, fmt.Errorf("raw http echo: %w", err)
	}
	ctHeader := []string{contentType}
	t := &target{
		name:    rawHTTP,
		url:     u,
		scheme:  "http",
		isFloor: true,
		bytes:   float64(2 * len(body)),
		newCaller: func() caller {
			var buf bytes.Buffer
			return func(ctx context.Context) error {
				// Built as a tuned client builds it: the URL parsed once, a
				// *bytes.Reader body so net/http sends headers and body in
				// one write.
				req := (&http.Request{
					Method:        http.MethodPost,
					URL:           pu,
					Header:        http.Header{"Content-Type": ctHeader},
					Body:          io.NopCloser(bytes.NewReader(body)),
					ContentLength: int64(len(body)),
					Host:          pu.Host,
				}).WithContext(ctx)
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				buf.Reset()
				_, err = buf.ReadFrom(resp.Body)
				resp.Body.Close()
				switch {
				case err != nil:
					return err
				case resp.StatusCode != http.StatusOK:
					return fmt.Errorf("raw http echo: %s", resp.Status)
				case buf.Len() != len(body):
					return fmt.Errorf("raw http echo: got %d bytes back, sent %d", buf.Len(), len(body))
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
// amqp091-go must not see.
var ourAMQPParams = []string{
	"queue", "codec", "method", "prefetch", "workers",
	"durable", "quorum", "exclusive", "auto_delete", "timeout",
}

// brokerURL strips rpcwire's parameters from an amqp:// URL.
func brokerURL(raw string) (string, error) {
	u, err := transport.ParseURL(raw)
	if err != nil {
		return "", fmt.Errorf("invalid AMQP URL: %w", errors.Unwrap(err))
	}
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

// rawAMQPFloor runs an amqp091-go echo RPC server and client on the broker
// of brokerRaw: a server consuming a queue of its own with prefetch and as
// many workers, publishing each body back to the reply-to queue and acking
// after the reply, and a client with one exclusive reply queue and a
// pending map keyed by correlation id.
func rawAMQPFloor(ctx context.Context, r *runner, brokerRaw string, prefetch int, body []byte, contentType string) (*target, error) {
	srvConn, err := dialBroker(brokerRaw, 5*time.Second)
	if err != nil {
		return nil, err
	}
	cliConn, err := dialBroker(brokerRaw, 5*time.Second)
	if err != nil {
		_ = srvConn.Close()
		return nil, err
	}
	var wg sync.WaitGroup
	srvCtx, srvCancel := context.WithCancel(context.Background())
	r.env.onClose(rawAMQP, func(context.Context) error {
		srvCancel()
		err := errors.Join(ignoreClosed(cliConn.Close()), ignoreClosed(srvConn.Close()))
		wg.Wait() // the closed connections end the delivery loops
		return err
	})

	// Server.
	sch, err := srvConn.Channel()
	if err != nil {
		return nil, fmt.Errorf("raw amqp echo: %w", err)
	}
	if err := sch.Qos(prefetch, 0, false); err != nil {
		return nil, fmt.Errorf("raw amqp echo: qos: %w", err)
	}
	q, err := sch.QueueDeclare(uniqueQueue()+"-raw", false, true, true, false, nil)
	if err != nil {
		return nil, fmt.Errorf("raw amqp echo: declare: %w", err)
	}
	reqs, err := sch.Consume(q.Name, "", false, true, false, false, nil)
	if err != nil {
		return nil, fmt.Errorf("raw amqp echo: consume: %w", err)
	}
	// As many echo workers as the prefetch lets messages in, as a server
	// with a worker pool runs them (the amqp transport runs one per
	// prefetched message by default).
	for range min(prefetch, 256) {
		wg.Go(func() {
			for d := range reqs {
				_ = sch.PublishWithContext(srvCtx, "", d.ReplyTo, false, false, amqp091.Publishing{
					ContentType:   d.ContentType,
					CorrelationId: d.CorrelationId,
					Body:          d.Body,
				})
				_ = d.Ack(false)
			}
		})
	}

	// Client.
	cch, err := cliConn.Channel()
	if err != nil {
		return nil, fmt.Errorf("raw amqp echo: %w", err)
	}
	rq, err := cch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		return nil, fmt.Errorf("raw amqp echo: declare reply queue: %w", err)
	}
	replies, err := cch.Consume(rq.Name, "", true, true, false, false, nil)
	if err != nil {
		return nil, fmt.Errorf("raw amqp echo: consume replies: %w", err)
	}
	var (
		mu      sync.Mutex
		pending = map[string]chan []byte{}
		seq     atomic.Uint64
		prefix  = uniqueQueue()[len("rpcwire-compare-"):] + "-"
	)
	wg.Go(func() {
		for d := range replies {
			mu.Lock()
			ch := pending[d.CorrelationId]
			delete(pending, d.CorrelationId)
			mu.Unlock()
			if ch != nil {
				ch <- d.Body // buffered: never blocks
			}
		}
	})
	t := &target{
		name:    rawAMQP,
		url:     redact(brokerRaw),
		scheme:  "amqp",
		isFloor: true,
		bytes:   float64(2 * len(body)),
		newCaller: func() caller {
			return func(ctx context.Context) error {
				id := prefix + strconv.FormatUint(seq.Add(1), 36)
				ch := make(chan []byte, 1)
				mu.Lock()
				pending[id] = ch
				mu.Unlock()
				err := cch.PublishWithContext(ctx, "", q.Name, false, false, amqp091.Publishing{
					ContentType:   contentType,
					CorrelationId: id,
					ReplyTo:       rq.Name,
					Body:          body,
				})
				if err == nil {
					select {
					case b := <-ch:
						if len(b) != len(body) {
							return fmt.Errorf("raw amqp echo: got %d bytes back, sent %d", len(b), len(body))
						}
						return nil
					case <-ctx.Done():
						err = ctx.Err()
					}
				}
				mu.Lock()
				delete(pending, id)
				mu.Unlock()
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

// ignoreClosed treats closing an already closed connection as success.
func ignoreClosed(err error) error {
	if errors.Is(err, amqp091.ErrClosed) {
		return nil
	}
	return err
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
