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
	"syscall"
	"time"

	"github.com/rpcwire/rpcwire/transport"
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

// xml is the one codec of XML-RPC over HTTP, unless replaced with
// transport.WithCodec (for other decoding limits, say).
var xml = transport.BodyOnly(xmlcodec.Codec{})

// OneWayHeader marks a one-way call (transport.Client.Notify). A server of
// this package answers it with 202 Accepted as soon as it has taken the
// call, and runs it in the background; other servers run it as a call, and
// the client discards the result.
const OneWayHeader = "X-Rpcwire-Oneway"

// Dial returns a client that calls the XML-RPC server at u, an http:// or
// https:// URL. It implements transport.DialFunc.
//
// Dial does not connect: connections are opened (and kept alive for reuse)
// by the calls. A URL without a path posts to /RPC2, as Python's
// xmlrpc.client does. Credentials in the URL (http://user:pass@host/) are
// sent as HTTP basic authentication and never appear in errors or logs.
// transport.WithTLSConfig configures https:// (and is refused for
// http://), WithTimeout bounds calls whose context has no deadline and
// WithMaxMessageSize bounds request and reply bodies. A call's deadline
// travels to the server in TimeoutHeader.
//
// Replies other than 200 OK fail with *StatusError. Redirects are not
// followed: a redirect is a *StatusError naming its status and Location,
// as in Python's xmlrpc.client, so a call and its credentials never go
// anywhere but the dialled URL, and no answer to anything but the call's
// POST is taken as its result. DialConfig.FollowRedirects follows
// redirects within the dialled origin.
//
// A call sent on a kept-alive connection that the server closes before any
// byte of the reply (as a server does with its idle connections when it
// shuts down gracefully, racing the call) is sent again on another
// connection, as net/http does for idempotent requests: rolling restarts
// then lose no call. A server shutting down never ran such a call; one that
// crashed mid-call may have, so, as over AMQP, delivery is at-least-once.
func Dial(ctx context.Context, u *url.URL, opts ...transport.ClientOption) (transport.Client, error) {
	var dc DialConfig
	return dc.Dial(ctx, u, opts...)
}

// DialConfig holds settings of the client Dial returns that only XML-RPC
// over HTTP has. A zero field means its default; the zero DialConfig is
// what Dial uses. To use one with rpcwire.Dial's URL switching, put its
// Dial method in your own transport.Table.
type DialConfig struct {
	// FollowRedirects makes the client follow a 307 or 308 redirect
	// (which keep the method and the body) to a URL of the dialled
	// origin, the same scheme, host and port, resending the call with its
	// credentials, at most 10 redirects in a row. Any other redirect
	// stays an error: to another origin (the credentials would go with
	// the call), or 301, 302 and 303, which would turn the call's POST
	// into a GET. Off by default, as in Python's xmlrpc.client.
	FollowRedirects bool
}

// maxRedirects bounds the redirects a call follows in a row, as net/http
// does.
const maxRedirects = 10

// Dial is the package's Dial with cfg's settings.
func (cfg *DialConfig) Dial(ctx context.Context, u *url.URL, opts ...transport.ClientOption) (transport.Client, error) {
	o, err := transport.NewClientOptions(opts...)
	if err != nil {
		return nil, err
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("%w: xmlrpc dials http:// and https://, not %q", transport.ErrUnknownScheme, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("xmlrpc: dial %s: URL has no host", u.Redacted())
	}
	if scheme == "http" {
		if err := transport.NoTLS(o.TLSConfig, u.Redacted()); err != nil {
			return nil, err
		}
	}
	if err := transport.CheckCodecs(o.Codecs, "xmlrpc", xml.Name()); err != nil {
		return nil, err
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
	// The proxy the environment names for the target, looked up once: a
	// client posts to one origin (a redirect it follows stays in it), and
	// net/http reads the environment once per process anyway.
	proxy, err := http.ProxyFromEnvironment(&http.Request{URL: target})
	if err != nil {
		return nil, fmt.Errorf("xmlrpc: dial %s: proxy from the environment: %w", u.Redacted(), err)
	}
	tr := &http.Transport{
		Proxy:                  http.ProxyURL(proxy),
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
	car := &carrier{
		target:  target,
		auth:    auth,
		tr:      tr,
		conns:   conns,
		maxSize: o.MaxSize(),
		follow:  cfg.FollowRedirects,
	}
	car.hc = &http.Client{Transport: tr, CheckRedirect: car.checkRedirect}
	return transport.NewClient(car, transport.PickCodec(o.Codecs, xml), u.Redacted(), &o), nil
}

// carrier moves a client's calls as HTTP POST requests, each on a pooled
// keep-alive connection. It is safe for concurrent use.
type carrier struct {
	target  *url.URL // without credentials
	auth    []string // Authorization header value, nil without credentials
	tr      *http.Transport
	hc      *http.Client
	conns   *connSet // every connection tr opened, so Close can end calls in flight
	maxSize int64
	follow  bool // DialConfig.FollowRedirects
}

// checkRedirect lets net/http follow a redirect only as
// DialConfig.FollowRedirects says; otherwise the redirect is the reply,
// which the carrier turns into a *StatusError. net/http keeps the method,
// the body and every header (Authorization included) on a 307 or 308 to
// the same host.
func (c *carrier) checkRedirect(req *http.Request, via []*http.Request) error {
	code := req.Response.StatusCode
	if !c.follow || len(via) > maxRedirects ||
		(code != http.StatusTemporaryRedirect && code != http.StatusPermanentRedirect) || !sameOrigin(req.URL, c.target) {
		return http.ErrUseLastResponse
	}
	return nil
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// port is u's port, or its scheme's default.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// RoundTrip implements transport.Carrier: it posts req and reads the 200
// OK reply into reply.
func (c *carrier) RoundTrip(ctx context.Context, req, reply *transport.Message) error {
	resp, err := c.post(ctx, req, false)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return newStatusError(resp)
	}
	return c.read(resp, reply)
}

// Send implements transport.Carrier: it posts req marked one-way. Our
// servers answer 202 Accepted (or a refusal fault); others answer the
// call, whose reply goes to reply for the client to check for refusals.
func (c *carrier) Send(ctx context.Context, req, reply *transport.Message) error {
	resp, err := c.post(ctx, req, true)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusAccepted:
		return nil
	case http.StatusOK:
		return c.read(resp, reply)
	}
	return newStatusError(resp)
}

// Close implements transport.Carrier: requests in flight fail and
// connections are closed.
func (c *carrier) Close() error {
	c.conns.closeAll()
	c.tr.CloseIdleConnections()
	return nil
}

// post sends one request. The body is a copy of req's: net/http may still
// read the body after Do returns (when a server answers before reading it
// all), and it must be a plain *bytes.Reader (behind io.NopCloser) for
// net/http to send headers and body in one write; any other reader type
// makes it flush the headers first: one more packet and write syscall per
// call.
func (c *carrier) post(ctx context.Context, req *transport.Message, oneWay bool) (*http.Response, error) {
	payload := bytes.Clone(req.Body)
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
	setMetadata(r.Header, req.Metadata)
	if oneWay {
		// No deadline: ctx bounds handing the call over, not its run.
		r.Header[OneWayHeader] = headerOne
	} else if dl, ok := ctx.Deadline(); ok {
		ms := (time.Until(dl) + time.Millisecond - 1) / time.Millisecond // rounded up: the caller gives up first
		r.Header[TimeoutHeader] = []string{strconv.FormatInt(int64(max(ms, 1)), 10)}
	}
	var (
		resp *http.Response
		err  error
	)
	if c.follow {
		resp, err = c.hc.Do(r.WithContext(ctx))
	} else {
		// Following no redirect, the client has nothing to add to the
		// transport: a 3xx comes back as it is (see StatusError), and the
		// call skips http.Client's redirect bookkeeping.
		resp, err = c.tr.RoundTrip(r.WithContext(ctx))
		var tlsErr tls.RecordHeaderError
		if errors.As(err, &tlsErr) && string(tlsErr.RecordHeader[:]) == "HTTP/" {
			err = http.ErrSchemeMismatch // as http.Client says it
		}
	}
	if err != nil {
		return nil, c.transportError(err)
	}
	return resp, nil
}

var headerOne = []string{"1"}

// read reads a reply body into reply, bounded by the size limit.
func (c *carrier) read(resp *http.Response, reply *transport.Message) error {
	var err error
	reply.Body, err = readBody(resp.Body, reply.Body, resp.ContentLength, c.maxSize)
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return fmt.Errorf("%w: reply exceeds %d bytes (the client's transport.WithMaxMessageSize)", transport.ErrTooLarge, c.maxSize)
		}
		return c.transportError(err)
	}
	reply.ContentType = resp.Header.Get("Content-Type")
	return nil
}

// transportError maps a failed request to the package's sentinels (the
// client core maps a context that ended, and a closed client).
func (c *carrier) transportError(err error) error {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Errorf("%w: %w", transport.ErrNoServer, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return fmt.Errorf("%w: %w", transport.ErrTimeout, err)
	}
	return fmt.Errorf("%w: %w", transport.ErrConnection, err)
}

// StatusError is a reply with an HTTP status other than 200 OK: the server
// (or a proxy in front of it) refused the request before XML-RPC began, or
// redirected it. errors.Is matches it with transport.ErrUnauthorized (401,
// 403), ErrTooLarge (413), ErrNotFound (404: no XML-RPC endpoint at the
// path, or a server that answers an unknown method so, as npm's xmlrpc
// does), ErrInternal (500: Ruby's server answers so when it cannot write
// a result) and ErrBusy (429, 503). A redirect matches none of them.
type StatusError struct {
	// StatusCode is the HTTP status code, e.g. 404.
	StatusCode int
	// Status is the status line's text, e.g. "404 Not Found".
	Status string
	// Path is the URL path of the request that got the reply, e.g. "/RPC2".
	Path string
	// Location is where a redirect pointed (without credentials), empty
	// for other replies.
	Location string
	// Body is the start of the reply body, for the message.
	Body string
}

// Error implements error.
func (e *StatusError) Error() string {
	var b strings.Builder
	b.WriteString("HTTP ")
	b.WriteString(e.Status)
	if e.Path != "" {
		b.WriteString(" for ")
		b.WriteString(e.Path)
	}
	switch {
	case isRedirect(e.StatusCode) || e.Location != "":
		b.WriteString(": redirect")
		if e.Location != "" {
			b.WriteString(" to ")
			b.WriteString(e.Location)
		}
		b.WriteString(" not followed (XML-RPC calls follow 307 and 308 within their origin only, with xmlrpc.DialConfig.FollowRedirects)")
	case e.Body != "":
		b.WriteString(": ")
		b.WriteString(e.Body)
	}
	return b.String()
}

// isRedirect reports whether code is one of the redirects net/http would
// follow.
func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// Is maps the status to the transport package's sentinel errors.
func (e *StatusError) Is(target error) bool {
	switch target {
	case transport.ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case transport.ErrTooLarge:
		return e.StatusCode == http.StatusRequestEntityTooLarge
	case transport.ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case transport.ErrInternal:
		return e.StatusCode == http.StatusInternalServerError
	case transport.ErrBusy:
		return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusServiceUnavailable
	}
	return false
}

// maxErrorBody bounds how much of a non-200 reply (and of a redirect's
// Location) goes into the error.
const maxErrorBody = 256

func newStatusError(resp *http.Response) *StatusError {
	var b [maxErrorBody]byte
	n, _ := io.ReadFull(resp.Body, b[:])
	text := strings.TrimSpace(strings.ToValidUTF8(string(b[:n]), "?"))
	se := &StatusError{StatusCode: resp.StatusCode, Status: resp.Status, Body: text}
	if resp.Request != nil && resp.Request.URL != nil {
		se.Path = resp.Request.URL.Path
	}
	if loc, err := resp.Location(); err == nil {
		se.Location = loc.Redacted()
	} else if raw := resp.Header.Get("Location"); raw != "" {
		se.Location = strconv.Quote(raw) // unparsable: quoted, so it cannot pass for a URL
	}
	if len(se.Location) > maxErrorBody {
		se.Location = strings.ToValidUTF8(se.Location[:maxErrorBody], "") + "..."
	}
	return se
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
