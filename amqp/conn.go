package amqp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/rpcwire/rpcwire/transport"
)

// defaultDialTimeout bounds connecting and the AMQP handshake when the
// context has no deadline.
const defaultDialTimeout = 15 * time.Second

// dial opens a broker connection for c, honouring ctx during the TCP
// connect, the TLS and the AMQP handshakes. role names the connection in
// the broker's management UI ("client", "server").
func dial(ctx context.Context, c *config, tlsConf *tls.Config, role string) (*amqp091.Connection, error) {
	if err := ctx.Err(); err != nil {
		return nil, transport.ContextError(ctx, "amqp: connect to "+c.redacted)
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
	conn, err := amqp091.DialConfig(c.brokerURL, cfg)
	if !stop() && err == nil {
		// ctx ended after the handshake: the deadline it set would kill
		// the connection later, so give up now.
		closeConn(conn)
		err = ctx.Err()
	}
	if err != nil {
		if raw != nil && conn == nil {
			raw.Close()
		}
		return nil, dialError(ctx, c, err)
	}
	return conn, nil
}

// dialError maps a failed connect to our sentinels, keeping the cause.
func dialError(ctx context.Context, c *config, err error) error {
	what := "amqp: connect to " + c.redacted
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", transport.ContextError(ctx, what), err)
	}
	var ae *amqp091.Error
	if errors.As(err, &ae) && ae.Code == amqp091.AccessRefused {
		return fmt.Errorf("%s: %w: the broker refused the user name, password or vhost: %w", what, transport.ErrUnauthorized, err)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return &wrapped{
			msg:  fmt.Sprintf("%s: %v: no broker is listening there (is RabbitMQ running?): %v", what, transport.ErrNoServer, err),
			errs: []error{transport.ErrNoServer, transport.ErrConnection, err},
		}
	}
	return fmt.Errorf("%s: %w: %w", what, transport.ErrConnection, err)
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
