package amqp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/rpcwire/rpcwire/transport"
)

// defaultDialTimeout bounds connecting and the AMQP handshake when the
// context has no deadline.
const defaultDialTimeout = 15 * time.Second

// addresses is the order in which a client or server tries the broker
// addresses of its URL: shuffled once (unless shuffle=false), then taken
// in turn, each attempt starting after the address last used, so a lost
// or failed connection moves on to the next address at once.
type addresses struct {
	mu    sync.Mutex
	order []int // indexes into config.brokerURLs
	next  int   // position in order to try first
}

func newAddresses(c *config) *addresses {
	a := &addresses{order: make([]int, len(c.brokerURLs))}
	for i := range a.order {
		a.order[i] = i
	}
	if c.shuffle {
		rand.Shuffle(len(a.order), func(i, j int) { a.order[i], a.order[j] = a.order[j], a.order[i] })
	}
	return a
}

// round returns the addresses to try, in order, for one round.
func (a *addresses) round() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]int, 0, len(a.order))
	for i := range a.order {
		out = append(out, a.order[(a.next+i)%len(a.order)])
	}
	return out
}

// used records that the address at index i is the one in use (or the
// last tried), so the next round starts after it.
func (a *addresses) used(i int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for p, idx := range a.order {
		if idx == i {
			a.next = (p + 1) % len(a.order)
			return
		}
	}
}

// dial opens a broker connection for c, trying each address of a's
// round in turn until one answers. role names the connection in the
// broker's management UI ("client", "server"). It returns the index of
// the address connected to. When every address fails it returns one
// error naming each failure; bad credentials end the round at once (a
// cluster shares its users).
func dial(ctx context.Context, c *config, a *addresses, tlsConf *tls.Config, role string) (*amqp091.Connection, int, error) {
	var errs []error
	for _, i := range a.round() {
		conn, err := dialOne(ctx, c, c.brokerURLs[i], tlsConf, role)
		a.used(i)
		if err == nil {
			return conn, i, nil
		}
		if len(c.brokerURLs) == 1 {
			return nil, i, dialError(ctx, c, err)
		}
		errs = append(errs, fmt.Errorf("%s: %w", c.hosts[i], err))
		if ctx.Err() != nil || isCode(err, amqp091.AccessRefused) {
			break
		}
	}
	return nil, -1, dialError(ctx, c, addrErrors(errs))
}

// addrErrors are the failures of a round of addresses, on one line.
type addrErrors []error

func (e addrErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e addrErrors) Unwrap() []error { return e }

// dialOne opens a connection to one broker address, honouring ctx during
// the TCP connect and the TLS and AMQP handshakes.
func dialOne(ctx context.Context, c *config, brokerURL string, tlsConf *tls.Config, role string) (*amqp091.Connection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var (
		raw  net.Conn
		stop = func() bool { return true }
	)
	cfg := amqp091.Config{
		Properties: amqp091.Table{"connection_name": "rpcwire " + role + " " + c.queue, "product": "rpcwire"},
		Dial: func(network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: defaultDialTimeout}
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			deadline := time.Now().Add(defaultDialTimeout)
			if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
				deadline = dl
			}
			// The deadline covers the TLS and AMQP handshakes; amqp091
			// clears it once the connection is open. A cancelled ctx cuts
			// the handshake short.
			if err := conn.SetDeadline(deadline); err != nil {
				conn.Close()
				return nil, err
			}
			raw = conn
			stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
			return conn, nil
		},
	}
	if c.tls && tlsConf != nil {
		cfg.TLSClientConfig = tlsConf.Clone() // amqp091 writes ServerName into it
	}
	conn, err := amqp091.DialConfig(brokerURL, cfg)
	if !stop() && err == nil {
		// ctx ended after the handshake: the deadline it set would kill
		// the connection later, so give up now.
		closeConn(conn)
		err = ctx.Err()
	}
	if err != nil && raw != nil && conn == nil {
		raw.Close()
	}
	return conn, err
}

// dialError maps a failed connect to our sentinels, keeping the cause.
func dialError(ctx context.Context, c *config, err error) error {
	what := "amqp: connect to " + c.redacted
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", transport.ContextError(ctx, what), err)
	}
	if isCode(err, amqp091.AccessRefused) {
		return fmt.Errorf("%s: %w: the broker refused the user name, password or vhost: %w", what, transport.ErrUnauthorized, err)
	}
	if refusedAll(err) {
		return &wrapped{
			msg:  fmt.Sprintf("%s: %v: no broker is listening there (is RabbitMQ running?): %v", what, transport.ErrNoServer, err),
			errs: []error{transport.ErrNoServer, transport.ErrConnection, err},
		}
	}
	return fmt.Errorf("%s: %w: %w", what, transport.ErrConnection, err)
}

// refusedAll reports whether err is a refused TCP connection, or several
// joined errors that all are.
func refusedAll(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !refusedAll(e) {
				return false
			}
		}
		return len(j.Unwrap()) > 0
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// backoff returns the pause before reconnect attempt n (0-based): a
// random time between half and all of minBackoff<<n, capped at
// maxBackoff (so 50-100 ms first, 2.5-5 s at most), so many clients do not
// reconnect in lockstep.
func backoff(n int) time.Duration {
	d := maxBackoff
	if n < 16 {
		d = min(minBackoff<<n, maxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until done is closed; it reports whether d passed.
func sleep(d time.Duration, done <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}

// closeError describes why a connection or channel went away.
func closeError(err *amqp091.Error) error {
	if err == nil {
		return errors.New("closed")
	}
	return err
}

// isCode reports whether err is an AMQP error with the given reply code.
func isCode(err error, code int) bool {
	var ae *amqp091.Error
	return errors.As(err, &ae) && ae.Code == code
}

// wrapped is an error with its own message that matches several errors
// (errors.Is), for a cause that is more than one sentinel at once.
type wrapped struct {
	msg  string
	errs []error
}

func (e *wrapped) Error() string   { return e.msg }
func (e *wrapped) Unwrap() []error { return e.errs }

// closeTimeout bounds closing a connection: a broker that stopped reading
// (a blocked connection, a dead peer) must not hang Close.
const closeTimeout = 2 * time.Second

func closeConn(conn *amqp091.Connection) {
	_ = conn.CloseDeadline(time.Now().Add(closeTimeout))
}
