package xmlrpc

import (
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rpcwire/rpcwire/transport"
)

// Limits of the http.Server that Listen starts; ListenConfig changes them.
// A call that runs longer than the write timeout loses its reply; give the
// server a transport.WithCallTimeout to bound calls explicitly (the write
// timeout then grows to fit it).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = time.Minute
	writeTimeout      = 5 * time.Minute
	idleTimeout       = 2 * time.Minute // longer than the client's idle timeout, see client.go
	maxHeaderBytes    = 64 << 10
	minConns          = 256 // connection cap: max(minConns, connsPerCall*MaxInFlight)
	connsPerCall      = 4
)

// smallReply is the size up to which net/http buffers a reply and sets
// its Content-Length itself (its chunking buffer is 2 kB).
const smallReply = 2000

// Header values shared by every response and request; net/http only reads
// them.
var (
	headerTextXML = []string{"text/xml"}
	headerPost    = []string{http.MethodPost}
	headerClose   = []string{"close"}
)

// Handler serves XML-RPC calls on one HTTP endpoint. It is an
// http.Handler: mount it on any mux or wrap it in middleware (for example
// RequireBasicAuth). One-way calls (OneWayHeader) run in the background
// after their 202 Accepted reply; Shutdown and Close end them, so a
// server that mounts a Handler calls one of them after its own
// http.Server.Shutdown.
type Handler struct {
	svc    *transport.Service
	codec  transport.Codec
	logger *slog.Logger
	// budgetWait bounds the wait for the bytes in flight (budgetWait
	// the constant; tests shorten it).
	budgetWait time.Duration

	// ctx is the parent of one-way calls; Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool           // no more one-way calls start
	oneWay sync.WaitGroup // one-way calls running
}

// NewHandler returns a Handler that serves XML-RPC calls to d.
//
// It takes POST requests only (others get 405 with "Allow: POST"). A
// request with a Transfer-Encoding (chunked) is answered and its
// connection closed, so that nothing after its body runs as a smuggled
// request. A body
// larger than transport.WithMaxMessageSize (4 MiB by default) gets HTTP
// 413 Request Entity Too Large (the Dial client reports
// transport.ErrTooLarge). A body that is not XML-RPC gets a fault reply
// with code transport.CodeParse, as does every other failure, a reply too
// large included: faults travel with HTTP status 200, as the XML-RPC
// specification says. At most transport.WithMaxInFlight calls (default
// transport.DefaultMaxInFlight) run at once; calls beyond that get a fault
// with code transport.CodeBusy at once instead of queuing. Bodies count
// against transport.WithMaxBytesInFlight (32 MiB by default) from before
// they are read until their reply is written: a request beyond it waits
// unread, and gets a busy fault after 10 seconds.
// transport.WithCallTimeout bounds how long one call may run. Bodies may
// be gzip-compressed (Content-Encoding: gzip, as Python's xmlrpc.client
// sends them when asked to); the size limit applies to the inflated body,
// and other encodings get 415. A TLS configuration is refused: TLS is the
// business of the http.Server the handler is mounted on.
//
// Each call runs under the request's context, which net/http cancels when
// the client hangs up. XML-RPC carries no deadline; the Dial client sends
// its caller's remaining time in TimeoutHeader and the method runs under
// that deadline. With other clients, a caller giving up reaches the method
// as the hang-up.
func NewHandler(d transport.Dispatcher, opts ...transport.ServerOption) (*Handler, error) {
	o, err := transport.NewServerOptions(opts...)
	if err != nil {
		return nil, err
	}
	if err := transport.NoTLS(o.TLSConfig, "an xmlrpc.Handler"); err != nil {
		return nil, err
	}
	if err := transport.CheckCodecs(o.Codecs, "xmlrpc", xml.Name()); err != nil {
		return nil, err
	}
	if d == nil {
		return nil, errors.New("rpcwire: xmlrpc.NewHandler: nil dispatcher")
	}
	return newHandler(d, &o), nil
}

func newHandler(d transport.Dispatcher, o *transport.ServerOptions) *Handler {
	h := &Handler{
		svc:        transport.NewService(d, o, cmp.Or(o.MaxInFlight, transport.DefaultMaxInFlight)),
		codec:      transport.PickCodec(o.Codecs, xml),
		logger:     o.Log(),
		budgetWait: budgetWait,
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	closeIfTransferEncoded(w, r)
	if r.Method != http.MethodPost {
		w.Header()["Allow"] = headerPost
		http.Error(w, "XML-RPC takes POST requests", http.StatusMethodNotAllowed)
		return
	}
	in, out := transport.GetMessage(), transport.GetMessage()
	defer transport.PutMessage(in)
	defer transport.PutMessage(out)
	held, ok := h.reserve(w, r, out)
	if !ok {
		return
	}
	defer func() { h.svc.Unreserve(held) }() // unless a one-way call took them
	var (
		status int
		msg    string
	)
	if in.Body, status, msg = h.readRequest(w, r, in.Body); status != 0 {
		http.Error(w, msg, status)
		return
	}
	in.ContentType = r.Header.Get("Content-Type")
	in.Metadata, r = incomingMetadata(r.Header), withPeer(r)
	// The slot is taken once the body is in: a client trickling its body
	// holds a connection (bounded by the server's connection cap and read
	// timeout), never a call slot that honest callers need.
	if !h.svc.TryAcquire() {
		h.svc.Busy(h.codec, out)
		h.reply(w, out.Body)
		return
	}
	if len(r.Header[OneWayHeader]) > 0 {
		if h.startOneWay(h.oneWayContext(r), w, in, out, held) {
			held = 0
		}
		return
	}
	h.serve(r, in, out)
	h.reply(w, out.Body)
}

// budgetWait bounds how long a request waits for the server's bytes in
// flight (transport.WithMaxBytesInFlight) before it gets a busy fault.
const budgetWait = 10 * time.Second

// reserve takes the bytes of r's body from the server's bytes in flight
// before the body is read, so that requests beyond them wait unread (in
// the kernel's buffers, not the server's memory). A body of unknown
// length, or compressed, counts as the largest allowed. When the bytes do
// not come within budgetWait (or the client goes away) it answers a busy
// fault, closing the connection as the body stays unread, and reports
// false.
func (h *Handler) reserve(w http.ResponseWriter, r *http.Request, out *transport.Message) (int64, bool) {
	limit := h.svc.MaxMessageSize()
	n := limit
	if ce := r.Header["Content-Encoding"]; r.ContentLength >= 0 && (len(ce) == 0 || strings.EqualFold(ce[0], "identity")) {
		if r.ContentLength > limit {
			return 0, true // refused unread with 413
		}
		n = r.ContentLength
	}
	if h.svc.TryReserve(n) {
		return n, true
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.budgetWait)
	defer cancel()
	if err := h.svc.Reserve(ctx, n); err != nil {
		w.Header()["Connection"] = headerClose
		h.codec.EncodeFault(out, &transport.RemoteError{Code: transport.CodeBusy,
			Message: fmt.Sprintf("server busy: %d bytes of requests in flight; retry later", h.svc.MaxBytesInFlight())})
		h.reply(w, out.Body)
		return 0, false
	}
	return n, true
}

// serve runs a call that holds a slot, and gives the slot back before the
// reply goes out: a caller that has its reply may call again at once.
func (h *Handler) serve(r *http.Request, in, out *transport.Message) {
	defer h.svc.Release()
	ctx := r.Context()
	if dl := callTimeout(r.Header); dl > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, dl)
		defer cancel()
	}
	h.svc.Serve(ctx, h.codec, in, out)
}

// startOneWay decodes a one-way call that holds a slot, answers 202
// Accepted and runs the call in the background (or answers the fault that
// refuses it). It reports whether the call started; it then gives back
// the slot and the request's reserved bytes when it is done.
func (h *Handler) startOneWay(ctx context.Context, w http.ResponseWriter, in, out *transport.Message, bytes int64) bool {
	call, fault := h.svc.Decode(h.codec, in)
	if fault == nil {
		h.mu.Lock()
		if h.closed {
			fault = &transport.RemoteError{Code: transport.CodeBusy, Message: "server shutting down"}
		} else {
			h.oneWay.Add(1)
		}
		h.mu.Unlock()
	}
	if fault != nil {
		h.svc.Release()
		h.codec.EncodeFault(out, fault)
		h.reply(w, out.Body)
		return false
	}
	go func() {
		defer h.oneWay.Done()
		defer h.svc.Unreserve(bytes)
		defer h.svc.Release()
		h.svc.Run(ctx, h.codec, call, nil)
	}()
	w.WriteHeader(http.StatusAccepted)
	return true
}

// stop lets no more one-way calls start.
func (h *Handler) stop() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
}

// Shutdown lets no more one-way calls start and waits for those running
// to finish, or for ctx to end (then they are cancelled as by Close).
// Calls (not one-way) end with their requests, which the http.Server's
// own Shutdown waits for.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.stop()
	done := make(chan struct{})
	go func() { h.oneWay.Wait(); close(done) }()
	select {
	case <-done:
		h.cancel()
		return nil
	case <-ctx.Done():
		h.cancel()
		<-done
		return transport.ContextError(ctx, "xmlrpc: handler shutdown")
	}
}

// Close cancels the one-way calls running and waits for them to return.
func (h *Handler) Close() error {
	h.stop()
	h.cancel()
	h.oneWay.Wait()
	return nil
}

// readRequest appends the request body to dst, inflating a gzip body
// (which Python's xmlrpc.client sends when its encode_threshold is set).
// A non-zero status means the request is refused with that HTTP status
// and message.
func (h *Handler) readRequest(w http.ResponseWriter, r *http.Request, dst []byte) ([]byte, int, string) {
	body, length := io.Reader(r.Body), r.ContentLength
	if length < 0 {
		// Unknown length (chunked): MaxBytesReader also tells net/http to
		// close the connection once the limit is hit. A known length is
		// checked up front and enforced by net/http.
		body = http.MaxBytesReader(w, r.Body, h.svc.MaxMessageSize())
	}
	if ce := r.Header["Content-Encoding"]; len(ce) > 0 {
		switch strings.ToLower(ce[0]) {
		case "", "identity":
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(body)
			if err != nil {
				return dst, http.StatusBadRequest, "malformed gzip request body: " + err.Error()
			}
			defer zr.Close()
			body, length = zr, -1 // the limit applies to the inflated body
		default:
			return dst, http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported Content-Encoding %q: send gzip or none", ce[0])
		}
	}
	dst, err := readBody(body, dst, length, h.svc.MaxMessageSize())
	if err == nil {
		return dst, 0, ""
	}
	var mbe *http.MaxBytesError
	if errors.Is(err, errBodyTooLarge) || errors.As(err, &mbe) {
		// The rest of the body is not read: close the connection rather
		// than drain it.
		w.Header().Set("Connection", "close")
		return dst, http.StatusRequestEntityTooLarge, fmt.Sprintf("XML-RPC request body exceeds the server's limit of %d bytes (its transport.WithMaxMessageSize)", h.svc.MaxMessageSize())
	}
	// Usually the client hung up or stalled past the read timeout, and
	// nobody is left to read the answer.
	h.logger.Debug("xmlrpc: reading request body", "remote", r.RemoteAddr, "err", err)
	return dst, http.StatusBadRequest, "cannot read the request body: " + err.Error()
}

// closeIfTransferEncoded makes the reply to a request that came with a
// Transfer-Encoding the last on its connection. net/http reads such a
// body by its chunks and drops a Content-Length sent with it, then reads
// what follows as the next request; a proxy in front may have framed the
// body by the Content-Length instead, and then what follows is another
// client's bytes, or an attacker's smuggled request. RFC 9112 section 6.1
// says to close the connection after answering. Honest clients of XML-RPC
// send a Content-Length, so they lose nothing; chunked ones reconnect.
// (net/http itself refuses codings other than chunked, and closes.)
func closeIfTransferEncoded(w http.ResponseWriter, r *http.Request) {
	if len(r.TransferEncoding) > 0 {
		w.Header()["Connection"] = headerClose
	}
}

// closeTransferEncoded applies closeIfTransferEncoded to every request
// of the server Listen starts, those it answers with 401 or 404 too.
type closeTransferEncoded struct{ next http.Handler }

func (c closeTransferEncoded) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	closeIfTransferEncoded(w, r)
	c.next.ServeHTTP(w, r)
}

// TimeoutHeader carries the caller's remaining time, in whole
// milliseconds rounded up, from the Dial client to the handler, which runs
// the call under that deadline. XML-RPC itself has no deadlines; other
// clients simply do not send the header.
const TimeoutHeader = "X-Rpcwire-Timeout"

// callTimeout is the caller's remaining time from TimeoutHeader; zero
// when there is none (or it makes no sense).
func callTimeout(h http.Header) time.Duration {
	v := h[TimeoutHeader]
	if len(v) == 0 {
		return 0
	}
	ms, err := strconv.ParseInt(v[0], 10, 64)
	if err != nil || ms <= 0 || ms > math.MaxInt64/int64(time.Millisecond) {
		return 0 // not ours to judge: run without it
	}
	return time.Duration(ms) * time.Millisecond
}

// reply writes an XML-RPC response body with status 200.
func (h *Handler) reply(w http.ResponseWriter, body []byte) {
	hdr := w.Header()
	hdr["Content-Type"] = headerTextXML
	if len(body) > smallReply {
		hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
	} // else net/http buffers the reply and sets Content-Length itself

	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(body); err != nil {
		h.logger.Debug("xmlrpc: writing reply", "err", err)
	}
}

// RequireBasicAuth returns a handler that passes a request to next only
// when it carries HTTP basic authentication with user and password, and
// answers any other request with 401 Unauthorized and a WWW-Authenticate
// challenge. Credentials are compared in constant time. The user becomes
// the User of the calls' transport.Peer; the Authorization header never
// becomes metadata.
//
// Basic authentication sends the password in the clear on every request:
// use it over https:// only, except on a trusted network.
func RequireBasicAuth(user, password string, next http.Handler) http.Handler {
	return &basicAuth{user: sha256.Sum256([]byte(user)), password: sha256.Sum256([]byte(password)), next: next}
}

type basicAuth struct {
	// Hashes, so the comparison takes the same time whatever the lengths.
	user, password [sha256.Size]byte
	next           http.Handler
}

func (a *basicAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, password, ok := r.BasicAuth()
	u := sha256.Sum256([]byte(user))
	p := sha256.Sum256([]byte(password))
	if subtle.ConstantTimeCompare(u[:], a.user[:])&subtle.ConstantTimeCompare(p[:], a.password[:]) != 1 || !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="rpcwire", charset="UTF-8"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	a.next.ServeHTTP(w, authenticated(r, user))
}

// paths routes the XML-RPC endpoint's path, "/" and "/RPC2" (where Python's
// ServerProxy posts when its URL has no path) to one handler.
type paths struct {
	path string
	next http.Handler
}

func (p paths) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case p.path, "/", "/RPC2":
		p.next.ServeHTTP(w, r)
	default:
		http.Error(w, "no XML-RPC endpoint at "+r.URL.Path+"; try "+p.path, http.StatusNotFound)
	}
}

// Listen serves d over XML-RPC at u, an http:// or https:// URL, and
// returns at once. It implements transport.ListenFunc.
//
// The handler (see NewHandler) answers at the URL's path and also at "/"
// and "/RPC2", where Python's xmlrpc.client posts by default. Port 0 picks
// a free port; Addr reports it. https:// needs a certificate, given
// with transport.WithTLSConfig. Credentials in the URL (http://user:pass@host/)
// require every request to carry them as HTTP basic authentication.
//
// ctx bounds only the start; stop the server with Shutdown or Close.
// Listen uses the default limits; ListenConfig.Listen sets others.
func Listen(ctx context.Context, u *url.URL, d transport.Dispatcher, opts ...transport.ServerOption) (transport.Server, error) {
	var lc ListenConfig
	return lc.Listen(ctx, u, d, opts...)
}

// ListenConfig holds the limits of the HTTP server that Listen starts,
// which protect it from slow and idle clients. A zero field means its
// default; the zero ListenConfig is what Listen uses.
type ListenConfig struct {
	// ReadHeaderTimeout bounds reading a request's headers (default
	// 10s): a client that trickles its headers is cut off after it.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, headers and body
	// (default 1m): a client that trickles its body is cut off after it.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the
	// end of its reply (default 5m, or the server's
	// transport.WithCallTimeout plus 30s when that is longer).
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection waits for its
	// next request (default 2m).
	IdleTimeout time.Duration
	// MaxConns caps the connections open at once (default 256 or 4 per
	// transport.WithMaxInFlight slot, whichever is more). Further clients
	// wait in the kernel's accept backlog until a connection closes.
	MaxConns int
}

// or returns d, or def when d is not positive.
func or[T time.Duration | int](d, def T) T {
	if d > 0 {
		return d
	}
	return def
}

// Listen is the package's Listen with cfg's limits.
func (cfg *ListenConfig) Listen(ctx context.Context, u *url.URL, d transport.Dispatcher, opts ...transport.ServerOption) (transport.Server, error) {
	if d == nil {
		return nil, fmt.Errorf("rpcwire: xmlrpc: listen %s: nil dispatcher", u.Redacted())
	}
	o, err := transport.NewServerOptions(opts...)
	if err != nil {
		return nil, err
	}
	if err := transport.CheckCodecs(o.Codecs, "xmlrpc", xml.Name()); err != nil {
		return nil, err
	}
	scheme := strings.ToLower(u.Scheme)
	port := "80"
	var tlsConf *tls.Config
	switch scheme {
	case "http":
		if err := transport.NoTLS(o.TLSConfig, u.Redacted()); err != nil {
			return nil, err
		}
	case "https":
		port = "443"
		c := o.TLSConfig
		if c == nil || (len(c.Certificates) == 0 && c.GetCertificate == nil && c.GetConfigForClient == nil) {
			return nil, fmt.Errorf("xmlrpc: listen %s: https needs a server certificate: pass transport.WithTLSConfig "+
				"with Certificates or GetCertificate set", u.Redacted())
		}
		tlsConf = c.Clone()
	default:
		return nil, fmt.Errorf("%w: xmlrpc listens on http:// and https://, not %q", transport.ErrUnknownScheme, u.Scheme)
	}
	if u.Port() != "" {
		port = u.Port()
	}
	path := u.Path
	if path == "" {
		path = "/"
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, fmt.Errorf("xmlrpc: listen %s: %w", u.Redacted(), err)
	}
	addr := (&url.URL{Scheme: scheme, Host: ln.Addr().String(), Path: u.Path}).String()

	h := newHandler(d, &o)
	var root http.Handler = paths{path: path, next: h}
	if u.User != nil {
		password, _ := u.User.Password()
		root = RequireBasicAuth(u.User.Username(), password, root)
	}
	root = closeTransferEncoded{root}
	baseCtx, cancel := context.WithCancel(context.Background())
	wt := writeTimeout
	if o.CallTimeout > 0 {
		wt = max(wt, o.CallTimeout+30*time.Second)
	}
	wt = or(cfg.WriteTimeout, wt)
	s := &server{
		addr:     addr,
		h:        h,
		cancel:   cancel,
		done:     make(chan struct{}),
		finished: make(chan struct{}),
		hs: &http.Server{
			Handler:           root,
			TLSConfig:         tlsConf,
			ReadHeaderTimeout: or(cfg.ReadHeaderTimeout, readHeaderTimeout),
			ReadTimeout:       or(cfg.ReadTimeout, readTimeout),
			WriteTimeout:      wt,
			IdleTimeout:       or(cfg.IdleTimeout, idleTimeout),
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(o.Log().Handler(), slog.LevelWarn),
			BaseContext:       func(net.Listener) context.Context { return baseCtx },
			ConnContext:       connPeer(scheme, u.User.Username()),
		},
	}
	s.hs.ConnState = s.connState
	s.ln = newLimitListener(ln, or(cfg.MaxConns, max(minConns, connsPerCall*h.svc.MaxInFlight())))
	go s.serve(s.ln, tlsConf != nil)
	o.Log().Debug("xmlrpc: listening", "addr", addr)
	return s, nil
}

// server is what Listen returns.
type server struct {
	addr   string
	hs     *http.Server
	ln     *limitListener
	h      *Handler
	cancel context.CancelFunc // cancels every request's context
	done   chan struct{}      // closed when serve returns
	// finished is closed when the server has stopped: serve returned,
	// no call holds a slot and every connection is closed. Only the
	// first of Shutdown and Close waits for that and closes it.
	finished chan struct{}

	// conns counts the connections net/http serves, each on a goroutine
	// of its own; stopping waits for them. Add happens on the serve
	// goroutine only, so it never races with Wait after serve returns.
	conns sync.WaitGroup

	mu      sync.Mutex
	stopped bool
}

func (s *server) connState(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		s.conns.Add(1)
	case http.StateClosed, http.StateHijacked:
		s.conns.Done()
	}
}

// wait waits for the serve goroutine and every connection's goroutine to
// end, then closes finished; only the first of Shutdown and Close calls it.
// A connection that was closed after a refused body lingers for up to half
// a second (net/http's reset avoidance) so its client reads the reply.
func (s *server) wait() {
	<-s.done
	s.h.svc.Drain()
	s.conns.Wait()
	close(s.finished)
}

func (s *server) serve(ln net.Listener, useTLS bool) {
	defer close(s.done)
	var err error
	if useTLS {
		err = s.hs.ServeTLS(ln, "", "")
	} else {
		err = s.hs.Serve(ln)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.hs.ErrorLog.Printf("xmlrpc: serving %s stopped: %v", s.addr, err)
	}
}

// Addr implements transport.Server.
func (s *server) Addr() string { return s.addr }

// stop marks the server stopped and reports whether it was running.
func (s *server) stop() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	was := !s.stopped
	s.stopped = true
	return was
}

// Shutdown implements transport.Server: it stops accepting connections,
// lets the calls in flight finish and their replies go out, then returns.
// When ctx ends first, it cuts the remaining calls off as Close does. If
// the server is already stopping, Shutdown waits for that (or ctx).
func (s *server) Shutdown(ctx context.Context) error {
	if !s.stop() {
		select {
		case <-s.finished:
			return nil
		case <-ctx.Done():
			return transport.ContextError(ctx, "xmlrpc: shutdown "+s.addr)
		}
	}
	err := s.hs.Shutdown(ctx)
	if err == nil {
		err = s.h.Shutdown(ctx) // one-way calls still running
	}
	if err != nil {
		_ = s.hs.Close()
		_ = s.h.Close()
	}
	s.cancel()
	s.wait()
	if err != nil {
		if cerr := transport.ContextError(ctx, "xmlrpc: shutdown "+s.addr); cerr != nil {
			return cerr
		}
		return fmt.Errorf("xmlrpc: shutdown %s: %w", s.addr, err)
	}
	return nil
}

// Close implements transport.Server: it closes every connection, cancels
// the calls in flight and waits for their methods to return. During a
// Shutdown it cuts off the calls that Shutdown is waiting for.
func (s *server) Close() error {
	first := s.stop()
	err := s.hs.Close()
	s.cancel()
	_ = s.h.Close()
	if !first {
		<-s.finished
		return nil
	}
	s.wait()
	if err != nil {
		return fmt.Errorf("xmlrpc: close %s: %w", s.addr, err)
	}
	return nil
}

// limitListener caps the connections open at once: Accept waits while the
// cap is reached, leaving further clients in the kernel's backlog.
type limitListener struct {
	net.Listener
	sem       chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), closed: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitConn gives its slot back once, on the first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite lets net/http half-close the connection before closing it,
// as it does for a bare *net.TCPConn.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
