// Package mem is the in-process transport: mem://name URLs served and
// dialled within one process, for tests, demos and embedding. It behaves
// like the network transports: arguments and results go through the same
// wire-value conversions (a copy, never shared memory), faults arrive as
// *transport.RemoteError, and contexts, one-way calls, limits and shutdown
// work the same.
package mem

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

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
	return n, nil
}

// Listen starts serving d under the URL's name. It implements
// transport.ListenFunc.
func (n *Network) Listen(_ context.Context, u *url.URL, d transport.Dispatcher, opts ...transport.Option) (transport.Server, error) {
	nm, err := name(u)
	if err != nil {
		return nil, err
	}
	o := transport.Apply(opts...)
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{
		net: n, name: nm, d: d, ctx: ctx, cancel: cancel,
		slots: make(chan struct{}, o.MaxInFlight),
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
func (n *Network) Dial(_ context.Context, u *url.URL, opts ...transport.Option) (transport.Client, error) {
	nm, err := name(u)
	if err != nil {
		return nil, err
	}
	o := transport.Apply(opts...)
	return &client{net: n, name: nm, timeout: o.Timeout, closed: make(chan struct{})}, nil
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
	d      transport.Dispatcher
	ctx    context.Context // cancelled by Close, ends calls in flight
	cancel context.CancelFunc
	slots  chan struct{} // MaxInFlight semaphore

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// reply is what a call sends back: a wire value or a fault.
type reply struct {
	result any
	fault  *transport.RemoteError
}

// start runs one call in the background and reports on done (when not
// nil). It fails when the server is closed or at its limit.
func (s *server) start(ctx context.Context, method string, args []any, done chan<- reply) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("%w: mem://%s is shutting down", transport.ErrNoServer, s.name)
	}
	select {
	case s.slots <- struct{}{}:
	default:
		s.mu.Unlock()
		return &transport.RemoteError{Code: transport.CodeBusy, Message: fmt.Sprintf("server busy: %d calls in flight", cap(s.slots))}
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() { <-s.slots }()
		// The call runs under the server's context and the caller's
		// deadline, not the caller's cancel: like a network server, it
		// sees the request's deadline.
		cctx := s.ctx
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			cctx, cancel = context.WithDeadline(cctx, dl)
			defer cancel()
		}
		if done != nil {
			var cancel context.CancelFunc
			cctx, cancel = withCancelFrom(cctx, ctx)
			defer cancel()
		}
		result, err := s.d.Dispatch(cctx, method, args)
		var r reply
		if err != nil {
			r.fault = transport.ToRemote(err)
		} else if r.result, err = wire.Convert(result); err != nil {
			r.fault = &transport.RemoteError{Code: transport.CodeInternal, Message: "encode result of " + method + ": " + err.Error()}
		}
		if done != nil {
			done <- r
		}
	}()
	return nil
}

// withCancelFrom returns ctx, also cancelled when caller is: the caller
// hanging up cancels its call, as a closed HTTP connection does.
func withCancelFrom(ctx, caller context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(caller, cancel)
	return c, func() { stop(); cancel() }
}

func (s *server) Addr() string { return "mem://" + s.name }

func (s *server) stop() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.closed = true
	s.net.mu.Lock()
	if s.net.servers[s.name] == s {
		delete(s.net.servers, s.name)
	}
	s.net.mu.Unlock()
	return true
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
		// returns on its own, and Close waits for that.
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

type client struct {
	net       *Network
	name      string
	timeout   time.Duration
	closeOnce sync.Once
	closed    chan struct{}
}

func (c *client) prepare(ctx context.Context, method string, args []any) (*server, []any, error) {
	select {
	case <-c.closed:
		return nil, nil, fmt.Errorf("call %s: %w", method, transport.ErrClosed)
	default:
	}
	if err := transport.ContextError(ctx, "call "+method); err != nil {
		return nil, nil, err
	}
	s := c.net.lookup(c.name)
	if s == nil {
		return nil, nil, fmt.Errorf("call %s: %w listening on mem://%s", method, transport.ErrNoServer, c.name)
	}
	wargs, err := toWireArgs(args)
	if err != nil {
		return nil, nil, fmt.Errorf("call %s: %w", method, err)
	}
	return s, wargs, nil
}

// Call implements transport.Client.
func (c *client) Call(ctx context.Context, method string, args []any, result any) error {
	if c.timeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.timeout)
			defer cancel()
		}
	}
	s, wargs, err := c.prepare(ctx, method, args)
	if err != nil {
		return err
	}
	done := make(chan reply, 1)
	if err := s.start(ctx, method, wargs, done); err != nil {
		return err
	}
	select {
	case r := <-done:
		if r.fault != nil {
			return transport.FaultError(ctx, "call "+method, r.fault)
		}
		if err := wire.Assign(result, r.result); err != nil {
			return fmt.Errorf("call %s: reply: %w", method, err)
		}
		return nil
	case <-ctx.Done():
		return transport.ContextError(ctx, "call "+method)
	case <-c.closed:
		return fmt.Errorf("call %s: %w", method, transport.ErrClosed)
	}
}

// Notify implements transport.Client: the call runs in the background and
// its result is dropped.
func (c *client) Notify(ctx context.Context, method string, args []any) error {
	s, wargs, err := c.prepare(ctx, method, args)
	if err != nil {
		return err
	}
	return s.start(context.Background(), method, wargs, nil)
}

// Close implements transport.Client.
func (c *client) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}

// toWireArgs converts arguments to wire values, copying byte slices so the
// server never shares the caller's memory.
func toWireArgs(args []any) ([]any, error) {
	out := make([]any, len(args))
	for i, a := range args {
		w, err := wire.Convert(a)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		out[i] = copyBytes(w)
	}
	return out, nil
}

func copyBytes(v any) any {
	switch x := v.(type) {
	case []byte:
		return append([]byte(nil), x...)
	case []any:
		for i, e := range x {
			x[i] = copyBytes(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = copyBytes(e)
		}
	}
	return v
}
