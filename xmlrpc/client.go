package xmlrpc

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
	"github.com/rpcwire/rpcwire/xmlrpc/xmlcodec"
)

// Settings of the client's http.Transport. The idle pool is large so that
// many concurrent callers reuse connections instead of reconnecting (the
// net/http default keeps 2 per host); idle connections are dropped sooner
// than our server drops them, so the client rarely reuses one the server is
// closing.
const (
	maxIdleConnsPerHost = 512
	idleConnTimeout     = 90 * time.Second
	dialTimeout         = 30 * time.Second
	tlsHandshakeTimeout = 10 * time.Second
	maxResponseHeader   = 64 << 10
)

var headerUserAgent = []string{"rpcwire-xmlrpc/1"}

// Dial returns a client that calls the XML-RPC server at u, an http:// or
// https:// URL. It implements transport.DialFunc.
//
// Dial does not connect: connections are opened (and kept alive for reuse)
// by the calls. A URL without a path posts to /RPC2, as Python's
// xmlrpc.client does. Credentials in the URL (http://user:pass@host/) are
// sent as HTTP basic authentication and never appear in errors or logs.
// Options.TLSConfig configures https://, Options.Timeout bounds calls
// whose context has no deadline and Options.MaxMessageSize bounds reply
// bodies. A call's deadline travels to the server in TimeoutHeader.
//
// Replies other than 200 OK fail with *StatusError; redirects (307, 308)
// are followed as net/http does.
//
// A call sent on a kept-alive connection that the server closes before any
// byte of the reply (as a server does with its idle connections when it
// shuts down gracefully, racing the call) is sent again on another
// connection, as net/http does for idempotent requests: rolling restarts
// then lose no call. A server shutting down never ran such a call; one that
// crashed mid-call may have, so, as over AMQP, delivery is at-least-once.
func Dial(ctx context.Context, u *url.URL, opts ...transport.Option) (transport.Client, error) {
	o := transport.Apply(opts...)
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("%w: xmlrpc dials http:// and https://, not %q", transport.ErrUnknownScheme, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("xmlrpc: dial %s: URL has no host", u.Redacted())
	}
	if err := ctx.Err(); err != nil {
		return nil, transport.ContextError(ctx, "xmlrpc: dial "+u.Redacted())
	}
	target := &url.URL{Scheme: scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}
	if target.Path == "" {
		target.Path = "/RPC2"
	}
	var auth []string
	if u.User != nil {
		password, _ := u.User.Password()
		auth = []string{"Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+password))}
	}
	var tlsConf *tls.Config
	if o.TLSConfig != nil {
		tlsConf = o.TLSConfig.Clone()
	}
	conns := &connSet{
		dialer: net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second},
		open:   map[*trackedConn]struct{}{},
	}
	tr := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            conns.dial,
		TLSClientConfig:        tlsConf,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		MaxIdleConns:           0, // no limit across hosts; one host here
		MaxIdleConnsPerHost:    maxIdleConnsPerHost,
		IdleConnTimeout:        idleConnTimeout,
		MaxResponseHeaderBytes: maxResponseHeader,
		// Replies are read raw, bounded by MaxMessageSize; a transparent
		// gzip layer would only cost time on the networks RPC runs on.
		DisableCompression: true,
	}
	return &client{
		target:  target,
		display: u.Redacted(),
		auth:    auth,
		tr:      tr,
		hc:      &http.Client{Transport: tr},
		conns:   conns,
		maxSize: o.MaxMessageSize,
		timeout: o.Timeout,
	}, nil
}

// client is what Dial returns. It is safe for concurrent use: each call is
// one HTTP request on a pooled keep-alive connection.
type client struct {
	target  *url.URL // without credentials
	display string   // the dialled URL with the password redacted, for errors
	auth    []string // Authorization header value, nil without credentials
	tr      *http.Transport
	hc      *http.Client
	conns   *connSet // every connection tr opened, so Close can end calls in flight
	codec   xmlcodec.Codec
	maxSize int64
	timeout time.Duration
	closed  atomic.Bool
}

// Call implements transport.Client. A fault reply is returned as
// *transport.RemoteError carrying the server's code and message.
func (c *client) Call(ctx context.Context, method string, args []any, reply any) error {
	result, err := c.roundTrip(ctx, method, args, false)
	if err != nil {
		return err
	}
	if err := wire.Assign(reply, result); err != nil {
		return fmt.Errorf("xmlrpc: call %s: reply: %w", method, err)
	}
	return nil
}

// Notify implements transport.Client. XML-RPC has no one-way calls, so
// Notify makes an ordinary call, waits for the HTTP reply and discards the
// result. It returns the errors that mean the server did not take the call
// (transport errors such as transport.ErrNoServer, ErrTimeout or
// ErrUnauthorized, and busy, too-large and parse faults) and ignores the
// faults of the method itself, as one-way transports do.
func (c *client) Notify(ctx context.Context, method string, args []any) error {
	_, err := c.roundTrip(ctx, method, args, true)
	return err
}

// Close implements transport.Client: calls in flight fail with
// transport.ErrClosed and idle connections are closed.
func (c *client) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.conns.closeAll()
		c.tr.CloseIdleConnections()
	}
	return nil
}

// roundTrip sends one call and decodes its reply. oneWay drops faults that
// the method raised (see Notify).
func (c *client) roundTrip(ctx context.Context, method string, args []any, oneWay bool) (any, error) {
	if c.closed.Load() {
		return nil, fmt.Errorf("%s: %w", what(method), transport.ErrClosed)
	}
	if ctx.Err() != nil {
		return nil, transport.ContextError(ctx, what(method))
	}
	if c.timeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.timeout)
			defer cancel()
		}
	}
	payload, err := c.encodeCall(method, args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what(method), err)
	}

	// A value, not a pointer: WithContext below copies it to the heap once.
	r := http.Request{
		Method:        http.MethodPost,
		URL:           c.target, // shared: net/http does not modify it
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": headerTextXML, "User-Agent": headerUserAgent, "Idempotency-Key": nil}, // empty key: not sent, but net/http may retry (see Dial)
		Body:          io.NopCloser(bytes.NewReader(payload)),
		GetBody:       func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(payload)), nil },
		ContentLength: int64(len(payload)),
		Host:          c.target.Host,
	}
	if c.auth != nil {
		r.Header["Authorization"] = c.auth
	}
	if dl, ok := ctx.Deadline(); ok {
		ms := (time.Until(dl) + time.Millisecond - 1) / time.Millisecond // rounded up: the caller gives up first
		r.Header[TimeoutHeader] = []string{strconv.FormatInt(int64(max(ms, 1)), 10)}
	}
	req := r.WithContext(ctx)

	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, method, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s on %s: %w", what(method), c.display, newStatusError(resp))
	}
	in := getBuffer()
	defer putBuffer(in)
	in.b, err = readBody(resp.Body, in.b[:0], resp.ContentLength, c.maxSize)
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return nil, fmt.Errorf("%s on %s: %w: reply exceeds %d bytes", what(method), c.display, transport.ErrTooLarge, c.maxSize)
		}
		return nil, c.transportError(ctx, method, err)
	}
	result, err := c.codec.DecodeReply(in.b)
	if err != nil {
		var fault *transport.RemoteError
		if errors.As(err, &fault) {
			if oneWay && !refused(fault) {
				return nil, nil
			}
			return nil, transport.FaultError(ctx, what(method), fault)
		}
		return nil, fmt.Errorf("%s on %s: reply: %w", what(method), c.display, err)
	}
	return result, nil
}

// what names a call in errors. It is built only when there is an error.
func what(method string) string { return "xmlrpc: call " + method }

// refused reports whether a fault means the server did not run the call.
func refused(f *transport.RemoteError) bool {
	switch f.Code {
	case transport.CodeBusy, transport.CodeTooLarge, transport.CodeParse, transport.CodeInvalidRequest:
		return true
	}
	return false
}

// transportError maps a failed request to the package's sentinels. ctx is
// the call's context (with the client's timeout applied).
func (c *client) transportError(ctx context.Context, method string, err error) error {
	what := what(method)
	if cerr := transport.ContextError(ctx, what); cerr != nil {
		return cerr
	}
	if c.closed.Load() {
		return fmt.Errorf("%s: %w", what, transport.ErrClosed)
	}
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Errorf("%s: %w at %s: %w", what, transport.ErrNoServer, c.display, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return fmt.Errorf("%s on %s: %w: %w", what, c.display, transport.ErrTimeout, err)
	}
	return fmt.Errorf("%s on %s: %w: %w", what, c.display, transport.ErrConnection, err)
}

// StatusError is a reply with an HTTP status other than 200 OK: the server
// (or a proxy in front of it) refused the request before XML-RPC began.
// errors.Is matches it with transport.ErrUnauthorized (401, 403),
// ErrTooLarge (413), ErrNoServer (404: nothing serves the URL's path) and
// ErrBusy (429, 503).
type StatusError struct {
	// StatusCode is the HTTP status code, e.g. 404.
	StatusCode int
	// Status is the status line's text, e.g. "404 Not Found".
	Status string
	// Body is the start of the reply body, for the message.
	Body string
}

// Error implements error.
func (e *StatusError) Error() string {
	if e.Body == "" {
		return "HTTP " + e.Status
	}
	return fmt.Sprintf("HTTP %s: %s", e.Status, e.Body)
}

// Is maps the status to the transport package's sentinel errors.
func (e *StatusError) Is(target error) bool {
	switch target {
	case transport.ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case transport.ErrTooLarge:
		return e.StatusCode == http.StatusRequestEntityTooLarge
	case transport.ErrNoServer:
		return e.StatusCode == http.StatusNotFound
	case transport.ErrBusy:
		return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusServiceUnavailable
	}
	return false
}

// maxErrorBody bounds how much of a non-200 reply goes into the error.
const maxErrorBody = 256

func newStatusError(resp *http.Response) *StatusError {
	var b [maxErrorBody]byte
	n, _ := io.ReadFull(resp.Body, b[:])
	text := strings.TrimSpace(strings.ToValidUTF8(string(b[:n]), "?"))
	return &StatusError{StatusCode: resp.StatusCode, Status: resp.Status, Body: text}
}

// encodeCall encodes a call into a pooled buffer and returns a copy of
// its own. The request body cannot be pooled: net/http may still read it
// after Do returns (when a server answers before reading it all), and it
// must be a plain *bytes.Reader (behind io.NopCloser) for net/http to send
// headers and body in one write; any other reader type makes it flush the
// headers first: one more packet and write syscall per call.
func (c *client) encodeCall(method string, args []any) ([]byte, error) {
	scratch := getBuffer()
	defer putBuffer(scratch)
	var err error
	scratch.b, err = c.codec.AppendCall(scratch.b[:0], method, args)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(scratch.b), nil
}

// connSet dials the client's connections and remembers the open ones:
// Close closes them all, which ends the calls in flight on them (net/http
// itself only closes idle connections). The cost is per connection, not
// per call.
type connSet struct {
	dialer net.Dialer

	mu     sync.Mutex
	open   map[*trackedConn]struct{}
	closed bool
}

func (s *connSet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := s.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: conn, set: s}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		conn.Close()
		return nil, transport.ErrClosed
	}
	s.open[tc] = struct{}{}
	return tc, nil
}

func (s *connSet) closeAll() {
	s.mu.Lock()
	s.closed = true
	open := s.open
	s.open = nil
	s.mu.Unlock()
	for tc := range open {
		tc.Conn.Close()
	}
}

// trackedConn leaves its set when closed.
type trackedConn struct {
	net.Conn
	set *connSet
}

func (tc *trackedConn) Close() error {
	tc.set.mu.Lock()
	delete(tc.set.open, tc)
	tc.set.mu.Unlock()
	return tc.Conn.Close()
}
