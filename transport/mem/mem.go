// Package mem is the in-process transport: mem://name URLs served and
// dialled within one process, for tests, demos and embedding.
//
// It behaves like the network transports because it is one: calls go
// through the same client core and serve path, encoded with the XML-RPC
// codec (the bytes XML-RPC over HTTP and AMQP carry by default), so
// arguments and results get the same conversions (times travel in whole
// seconds, as on the wire), faults arrive as *transport.RemoteError, and
// deadlines, size limits, busy faults, one-way calls and shutdown work the
// same. Only the wire is missing: messages are handed over in memory, and
// the server never shares the caller's memory. Metadata travel as the copy
// the client core makes of the caller's for each call; the Peer says only
// "mem".
package mem

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"sync"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc/xmlcodec"
)

// xml is the encoding of every mem:// message, unless replaced with
// transport.WithCodec.
var xml = transport.BodyOnly(xmlcodec.Codec{})

// Network is a namespace of mem:// servers. Servers listening on one
// Network are reachable only by clients dialled on the same Network.
type Network struct {
	mu      sync.Mutex
	servers map[string]*server
}

// NewNetwork returns an empty namespace.
func NewNetwork() *Network {
	return &Network{servers: map[string]*server{}}
}

// name is the server name a URL addresses: host and path, so mem://demo
// and mem://demo/ name the same server.
func name(u *url.URL) (string, error) {
	n := u.Host + u.Path
	for len(n) > 0 && n[len(n)-1] == '/' {
		n = n[:len(n)-1]
	}
	if n == "" {
		n = u.Opaque
	}
	if n == "" {
		return "", fmt.Errorf("rpcwire: mem URL %q needs a name, e.g. mem://demo", u.Redacted())
	}
	if u.User != nil || u.RawQuery != "" {
		return "", fmt.Errorf("rpcwire: mem URL %s: a mem URL is a name only (mem://demo), with no user or parameters", u.Redacted())
	}
	return n, nil
}

// Listen starts serving d under the URL's name. It implements
// transport.ListenFunc. At most transport.WithMaxInFlight calls (default
// transport.DefaultMaxInFlight) run at once; more get a busy fault.
func (n *Network) Listen(_ context.Context, u *url.URL, d transport.Dispatcher, opts ...transport.ServerOption) (transport.Server, error) {
	nm, err := name(u)
	if err != nil {
		return nil, err
	}
	o, err := transport.NewServerOptions(opts...)
	if err != nil {
		return nil, err
	}
	if err := transport.NoTLS(o.TLSConfig, "mem://"+nm); err != nil {
		return nil, err
	}
	if err := transport.CheckCodecs(o.Codecs, "mem://", xml.Name()); err != nil {
		return nil, err
	}
	if d == nil {
		return nil, fmt.Errorf("rpcwire: listen mem://%s: nil dispatcher", nm)
	}
	// Every call runs under this context, so its Peer costs no allocation
	// per call.
	ctx, cancel := context.WithCancel(transport.NewPeerContext(context.Background(), transport.Peer{Transport: "mem"}))
	s := &server{
		net: n, name: nm, ctx: ctx, cancel: cancel,
		codec: transport.PickCodec(o.Codecs, xml),
		svc:   transport.NewService(d, &o, cmp.Or(o.MaxInFlight, transport.DefaultMaxInFlight)),
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, taken := n.servers[nm]; taken {
		cancel()
		return nil, fmt.Errorf("rpcwire: listen mem://%s: name already in use", nm)
	}
	n.servers[nm] = s
	return s, nil
}

// Dial returns a client for the server named by the URL. The server need
// not exist yet: each call looks it up, and fails with
// transport.ErrNoServer when nothing listens under the name. It implements
// transport.DialFunc.
func (n *Network) Dial(_ context.Context, u *url.URL, opts ...transport.ClientOption) (transport.Client, error) {
	nm, err := name(u)
	if err != nil {
		return nil, err
	}
	o, err := transport.NewClientOptions(opts...)
	if err != nil {
		return nil, err
	}
	if err := transport.NoTLS(o.TLSConfig, "mem://"+nm); err != nil {
		return nil, err
	}
	if err := transport.CheckCodecs(o.Codecs, "mem://", xml.Name()); err != nil {
		return nil, err
	}
	car := &carrier{net: n, name: nm, closed: make(chan struct{})}
	return transport.NewClient(car, transport.PickCodec(o.Codecs, xml), "mem://"+nm, &o), nil
}

func (n *Network) lookup(name string) *server {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.servers[name]
}

// server runs calls for one name. Each call runs on its own goroutine,
// counted in wg, so a client can stop waiting when its context ends while
// Shutdown still waits for the function to return.
type server struct {
	net    *Network
	name   string
	codec  transport.Codec
	svc    *transport.Service
	ctx    context.Context // cancelled by Close, ends calls in flight
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// start takes a call slot and decodes req: the server has accepted the
// call when it returns true. Otherwise reply holds the fault that refuses
// it (busy, too large, malformed) or err says no server is there. Only
// the accepting is under the lock: calls decode in parallel.
func (s *server) start(req, reply *transport.Message) (transport.Request, bool, error) {
	if !s.svc.TryAcquire() {
		if err := s.closedErr(); err != nil {
			return transport.Request{}, false, err
		}
		s.svc.Busy(s.codec, reply)
		return transport.Request{}, false, nil
	}
	call, fault := s.svc.Decode(s.codec, req)
	if fault != nil {
		s.svc.Release()
		s.codec.EncodeFault(reply, fault)
		return transport.Request{}, false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.svc.Release()
		return transport.Request{}, false, s.shuttingDown()
	}
	s.wg.Add(1) // under the lock: Shutdown's wait begins after stop
	return call, true, nil
}

// closedErr says the server is shutting down, nil while it serves.
func (s *server) closedErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.shuttingDown()
	}
	return nil
}

func (s *server) shuttingDown() error {
	return fmt.Errorf("%w: mem://%s is shutting down", transport.ErrNoServer, s.name)
}

// run runs an accepted call under the server's context and the caller's
// deadline; with done set (a call, not a one-way message), the caller's
// cancellation too: a one-way call outlives its sender. The reply goes
// to done.
func (s *server) run(caller context.Context, call transport.Request, done chan<- *transport.Message) {
	defer s.wg.Done()
	ctx := s.ctx
	if dl, ok := caller.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl)
		defer cancel()
	}
	if done == nil {
		s.svc.Run(ctx, s.codec, call, nil)
		s.svc.Release()
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer context.AfterFunc(caller, cancel)()
	defer cancel()
	out := transport.GetMessage()
	s.svc.Run(ctx, s.codec, call, out)
	s.svc.Release() // before the reply: a caller that has it may call again at once
	done <- out
}

func (s *server) Addr() string { return "mem://" + s.name }

func (s *server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.net.mu.Lock()
	if s.net.servers[s.name] == s {
		delete(s.net.servers, s.name)
	}
	s.net.mu.Unlock()
}

// Shutdown stops taking calls and waits for those in flight.
func (s *server) Shutdown(ctx context.Context) error {
	s.stop()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		// Cut the calls off; a function that ignores its context still
		// returns on its own, and Close waits for that (as does the
		// goroutine above, which ends with it).
		s.cancel()
		return transport.ContextError(ctx, "shutdown mem://"+s.name)
	}
}

// Close stops the server and cancels the calls in flight.
func (s *server) Close() error {
	s.stop()
	s.cancel()
	s.wg.Wait()
	return nil
}

// carrier hands a client's messages to the server of its name.
type carrier struct {
	net       *Network
	name      string
	closeOnce sync.Once
	closed    chan struct{}
}

func (c *carrier) server() (*server, error) {
	if s := c.net.lookup(c.name); s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("%w listening on mem://%s", transport.ErrNoServer, c.name)
}

// RoundTrip implements transport.Carrier.
func (c *carrier) RoundTrip(ctx context.Context, req, reply *transport.Message) error {
	s, err := c.server()
	if err != nil {
		return err
	}
	call, ok, err := s.start(req, reply)
	if !ok {
		return err
	}
	done := make(chan *transport.Message, 1)
	go s.run(ctx, call, done)
	select {
	case out := <-done:
		reply.Body = append(reply.Body, out.Body...)
		reply.ContentType, reply.Type, reply.Headers = out.ContentType, out.Type, out.Headers
		transport.PutMessage(out)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closed:
		return transport.ErrClosed
	}
}

// Send implements transport.Carrier: the call is accepted once the server
// has a slot for it and has decoded it; it then runs in the background.
func (c *carrier) Send(_ context.Context, req, reply *transport.Message) error {
	s, err := c.server()
	if err != nil {
		return err
	}
	call, ok, err := s.start(req, reply)
	if ok {
		go s.run(context.Background(), call, nil)
	}
	return err
}

// Close implements transport.Carrier.
func (c *carrier) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}
