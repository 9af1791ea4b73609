// Package rawecho holds the raw floors rpcwire measures itself against:
// the simplest correct echo RPCs the client libraries alone can do, with
// no codec, no registry and no framework. examples/compare and the
// transports' benchmarks share them, so every "vs floor" ratio is against
// the same code.
//
// The AMQP echo is the minimal one: one amqp091-go connection per side; on
// the server a single goroutine that publishes each body back to its
// reply_to and acks it, with prefetch as given (at least the calls in
// flight); on the client one channel to publish on and an exclusive,
// server-named reply queue consumed with auto-ack, replies matched to
// callers by correlation id in a map. No publisher confirms, one ack per
// message.
//
// The HTTP echo is a net/http server whose handler reads the body into a
// pooled buffer and writes it back, and a client with a keep-alive pool
// large enough for every caller, posting a *bytes.Reader so headers and
// body go out in one write.
package rawecho

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// AMQP is the minimal amqp091-go echo RPC.
type AMQP struct {
	srvConn, cliConn *amqp091.Connection
	cliCh            *amqp091.Channel
	queue            string
	replyQueue       string
	prefix           string
	seq              atomic.Uint64
	mu               sync.Mutex
	pending          map[string]chan []byte
	wg               sync.WaitGroup
}

// NewAMQP starts the echo server and client on the broker at brokerURL
// (an amqp091 URL, with no rpcwire parameters), on a new exclusive queue,
// with prefetch unacked requests at most on the server.
func NewAMQP(brokerURL string, prefetch int) (*AMQP, error) {
	e := &AMQP{pending: map[string]chan []byte{}, prefix: randomHex(4) + "-"}
	var err error
	if e.srvConn, err = amqp091.Dial(brokerURL); err != nil {
		return nil, fmt.Errorf("raw amqp echo: %w", err)
	}
	fail := func(err error) (*AMQP, error) {
		e.Close()
		return nil, fmt.Errorf("raw amqp echo: %w", err)
	}
	sch, err := e.srvConn.Channel()
	if err != nil {
		return fail(err)
	}
	if err := sch.Qos(prefetch, 0, false); err != nil {
		return fail(err)
	}
	q, err := sch.QueueDeclare("rpcwire-raw-echo-"+randomHex(6), false, true, true, false, nil)
	if err != nil {
		return fail(err)
	}
	e.queue = q.Name
	requests, err := sch.Consume(q.Name, "", false, true, false, false, nil)
	if err != nil {
		return fail(err)
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for d := range requests {
			_ = sch.Publish("", d.ReplyTo, false, false, amqp091.Publishing{
				ContentType: d.ContentType, CorrelationId: d.CorrelationId, Body: d.Body,
			})
			_ = d.Ack(false)
		}
	}()

	if e.cliConn, err = amqp091.Dial(brokerURL); err != nil {
		return fail(err)
	}
	if e.cliCh, err = e.cliConn.Channel(); err != nil {
		return fail(err)
	}
	rq, err := e.cliCh.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		return fail(err)
	}
	e.replyQueue = rq.Name
	replies, err := e.cliCh.Consume(rq.Name, "", true, true, false, false, nil)
	if err != nil {
		return fail(err)
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for d := range replies {
			e.mu.Lock()
			ch := e.pending[d.CorrelationId]
			delete(e.pending, d.CorrelationId)
			e.mu.Unlock()
			if ch != nil {
				ch <- d.Body // buffered: never blocks
			}
		}
	}()
	return e, nil
}

// Call sends body and waits for it to come back, within ctx.
func (e *AMQP) Call(ctx context.Context, body []byte, contentType string) ([]byte, error) {
	id := e.prefix + strconv.FormatUint(e.seq.Add(1), 36)
	ch := make(chan []byte, 1)
	e.mu.Lock()
	e.pending[id] = ch
	e.mu.Unlock()
	err := e.cliCh.Publish("", e.queue, false, false, amqp091.Publishing{
		ContentType: contentType, CorrelationId: id, ReplyTo: e.replyQueue, Body: body,
	})
	if err == nil {
		select {
		case reply := <-ch:
			return reply, nil
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	e.mu.Lock()
	delete(e.pending, id)
	e.mu.Unlock()
	return nil, err
}

// Close closes both connections and waits for the echo's goroutines.
func (e *AMQP) Close() error {
	var errs []error
	for _, c := range []*amqp091.Connection{e.cliConn, e.srvConn} {
		if c != nil {
			if err := c.Close(); err != nil && !errors.Is(err, amqp091.ErrClosed) {
				errs = append(errs, err)
			}
		}
	}
	e.wg.Wait()
	return errors.Join(errs...)
}

// HTTP is the minimal net/http echo.
type HTTP struct {
	// URL is where the echo server listens.
	URL    string
	u      *url.URL
	srv    *http.Server
	tr     *http.Transport
	client *http.Client
	served chan struct{}
}

// NewHTTP starts the echo server on 127.0.0.1 and a client whose pool
// keeps a connection for each of up to conns callers.
func NewHTTP(conns int) (*HTTP, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("raw http echo: %w", err)
	}
	bufs := sync.Pool{New: func() any { return new(bytes.Buffer) }}
	e := &HTTP{
		URL:    "http://" + ln.Addr().String() + "/",
		served: make(chan struct{}),
		srv: &http.Server{
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				buf := bufs.Get().(*bytes.Buffer)
				defer bufs.Put(buf)
				buf.Reset()
				if _, err := buf.ReadFrom(req.Body); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				h := w.Header()
				h["Content-Type"] = req.Header["Content-Type"]
				_, _ = w.Write(buf.Bytes())
			}),
		},
		tr: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: max(conns, 512),
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
	e.u = &url.URL{Scheme: "http", Host: ln.Addr().String(), Path: "/"}
	e.client = &http.Client{Transport: e.tr}
	go func() {
		defer close(e.served)
		_ = e.srv.Serve(ln) // returns when shut down
	}()
	return e, nil
}

// Call posts body and returns what comes back, appended to dst.
func (e *HTTP) Call(ctx context.Context, dst, body []byte, contentType []string) ([]byte, error) {
	u := e.u // shared: net/http does not modify it
	req := (&http.Request{
		Method:        http.MethodPost,
		URL:           u,
		Header:        http.Header{"Content-Type": contentType},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Host:          u.Host,
	}).WithContext(ctx)
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b := bytes.NewBuffer(dst)
	if _, err := b.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("raw http echo: %s", resp.Status)
	}
	return b.Bytes(), nil
}

// Close shuts the server down (cutting it off when ctx ends first) and
// closes the client's idle connections.
func (e *HTTP) Close(ctx context.Context) error {
	e.tr.CloseIdleConnections()
	err := e.srv.Shutdown(ctx)
	if err != nil {
		_ = e.srv.Close()
	}
	<-e.served
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
