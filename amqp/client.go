package amqp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/rpcwire/rpcwire/transport"
)

// carrier moves a client's calls through the broker: one connection, a
// channel for calls and one for one-way messages, and one exclusive,
// server-named reply queue consumed once for the carrier's lifetime.
// Replies find their caller by correlation id, so many goroutines may have
// calls in flight. When the connection is lost every pending call fails
// with an error wrapping transport.ErrConnection and the carrier
// reconnects with backoff.
type carrier struct {
	cfg     *config
	opts    *transport.ClientOptions
	log     *slog.Logger
	idBase  string // random per client, so ids never repeat across clients
	seq     atomic.Uint64
	calls   sync.Pool       // *pendingCall, reused once their reply is received
	closing context.Context // cancelled by Close
	close   context.CancelFunc
	done    chan struct{} // closed when run returns

	mu      sync.Mutex
	sess    *clientSession // nil while reconnecting
	ready   chan struct{}  // closed when the next connect attempt ends
	lastErr error          // why sess is nil
	pending map[string]*pendingCall
	closed  bool

	hintMu   sync.Mutex // guards the cached consumer count below
	hintAt   time.Time
	hintText string

	// served is set once the request queue was seen with a consumer.
	// Until then each call checks first, so a client that finds no server
	// fails at once with ErrNoServer instead of at its deadline; after
	// that, calls wait in the queue while servers restart or reconnect.
	served atomic.Bool
}

// pendingCall waits for its reply.
type pendingCall struct {
	done chan callResult // buffered 1: the reader never blocks
}

type callResult struct {
	body        []byte
	contentType string
	typ         string // the reply's type property: a text result's type
	headers     map[string]any
	err         error
}

// clientSession is one broker connection of a Client.
type clientSession struct {
	conn       *amqp091.Connection
	ch         *amqp091.Channel // calls: publish requests, consume replies
	nch        *amqp091.Channel // one-way messages, in confirm mode
	cch        *amqp091.Channel // cancel notices; nil when unsupported
	replyQueue string
	dead       chan struct{} // closed by the reader when the session ends
	deadOnce   sync.Once
	err        error         // why it ended, set before dead closes
	readDone   chan struct{} // closed when the reader returns

	nmu      sync.Mutex // serialises one-way publishes with their sequence numbers
	notifyMu sync.Mutex // guards notifies
	notifies map[uint64]*pendingNotify
}

// pendingNotify waits for the broker to confirm a one-way message.
type pendingNotify struct {
	corrID   string
	returned bool
	done     chan error // buffered 1
}

func (cs *clientSession) kill(err error) {
	cs.deadOnce.Do(func() {
		cs.err = err
		close(cs.dead)
	})
}

// Dial connects to the broker and returns a client for the queue the URL
// names. It implements transport.DialFunc. See the package documentation
// for the URL parameters. The URL's timeout and transport.WithTimeout mean
// the same; giving both with different values is an error.
func Dial(ctx context.Context, u *url.URL, opts ...transport.ClientOption) (transport.Client, error) {
	o, err := transport.NewClientOptions(opts...)
	if err != nil {
		return nil, err
	}
	cfg, err := parseURL(u)
	if err != nil {
		return nil, err
	}
	if !cfg.tls {
		if err := transport.NoTLS(o.TLSConfig, cfg.redacted); err != nil {
			return nil, err
		}
	}
	if cfg.codecs, err = cfg.codecs.with(o.Codecs); err != nil {
		return nil, err
	}
	switch {
	case cfg.timeout > 0 && o.Timeout > 0 && cfg.timeout != o.Timeout:
		return nil, fmt.Errorf("rpcwire: amqp URL %s: timeout=%v disagrees with WithTimeout(%v); give one", cfg.redacted, cfg.timeout, o.Timeout)
	case o.Timeout == 0:
		o.Timeout = cfg.timeout
	}
	c := &carrier{
		cfg:     cfg,
		opts:    &o,
		log:     o.Log().With("transport", "amqp", "queue", cfg.queue),
		idBase:  randomHex(6) + ".",
		done:    make(chan struct{}),
		ready:   make(chan struct{}),
		pending: make(map[string]*pendingCall),
	}
	c.closing, c.close = context.WithCancel(context.Background())
	sess, err := c.connect(ctx)
	if err != nil {
		c.close()
		return nil, err
	}
	c.sess = sess
	go c.run(sess)
	return transport.NewClient(c, clientCodec{Codec: cfg.codecs.byName(cfg.codec), all: cfg.codecs}, cfg.redacted, &o), nil
}

// connect opens a session: connection, channels, reply queue, reader.
func (c *carrier) connect(ctx context.Context) (*clientSession, error) {
	conn, err := dial(ctx, c.cfg, c.opts.TLSConfig, "client")
	if err != nil {
		return nil, err
	}
	cs, err := c.setup(conn)
	if err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("rpcwire: amqp: client for %s: %w: %w", c.cfg.redacted, transport.ErrConnection, err)
	}
	return cs, nil
}

func (c *carrier) setup(conn *amqp091.Connection) (*clientSession, error) {
	cs := &clientSession{
		conn:     conn,
		dead:     make(chan struct{}),
		readDone: make(chan struct{}),
		notifies: make(map[uint64]*pendingNotify),
	}
	var err error
	if cs.ch, err = conn.Channel(); err != nil {
		return nil, fmt.Errorf("open channel: %w", err)
	}
	q, err := cs.ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		return nil, fmt.Errorf("declare reply queue: %w", err)
	}
	cs.replyQueue = q.Name
	deliveries, err := cs.ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		return nil, fmt.Errorf("consume reply queue: %w", err)
	}
	if cs.nch, err = conn.Channel(); err != nil {
		return nil, fmt.Errorf("open channel: %w", err)
	}
	if err := cs.nch.Confirm(false); err != nil {
		return nil, fmt.Errorf("confirm mode: %w", err)
	}
	if cch, err := conn.Channel(); err == nil {
		if err := declareCancelExchange(cch); err == nil {
			cs.cch = cch
		} else {
			c.log.Debug("amqp: cannot declare the cancel exchange; cancelled calls run to the end on the server", "err", err)
		}
	}
	// The return and confirm listeners are unbuffered and served by one
	// goroutine: amqp091 sends a message's basic.return before its
	// basic.ack, so the reader sees them in that order.
	r := reader{
		deliveries: deliveries,
		returns:    cs.ch.NotifyReturn(make(chan amqp091.Return)),
		nreturns:   cs.nch.NotifyReturn(make(chan amqp091.Return)),
		confirms:   cs.nch.NotifyPublish(make(chan amqp091.Confirmation)),
		connClosed: conn.NotifyClose(make(chan *amqp091.Error, 1)),
	}
	go c.read(cs, r)
	return cs, nil
}

// reader holds the channels one session's reader drains.
type reader struct {
	deliveries <-chan amqp091.Delivery
	returns    <-chan amqp091.Return
	nreturns   <-chan amqp091.Return
	confirms   <-chan amqp091.Confirmation
	connClosed <-chan *amqp091.Error
}

// read routes replies, returns and confirms until every channel it
// drains is closed. The first one to close ends the session.
func (c *carrier) read(cs *clientSession, r reader) {
	defer close(cs.readDone)
	var cause error
	end := func() {
		if cause == nil && r.connClosed != nil {
			// amqp091 reports the connection's error before it closes
			// the channels: pick it up for a useful message.
			select {
			case err := <-r.connClosed:
				if err != nil {
					cause = err
				}
			default:
			}
		}
		if cause == nil {
			cause = errors.New("channel closed")
		}
		cs.kill(cause)
	}
	for r.deliveries != nil || r.returns != nil || r.nreturns != nil || r.confirms != nil || r.connClosed != nil {
		select {
		case d, ok := <-r.deliveries:
			if !ok {
				r.deliveries = nil
				end()
				continue
			}
			c.deliver(&d)
		case ret, ok := <-r.returns:
			if !ok {
				r.returns = nil
				end()
				continue
			}
			c.returned(&ret)
		case ret, ok := <-r.nreturns:
			if !ok {
				r.nreturns = nil
				end()
				continue
			}
			cs.notifyReturned(ret.CorrelationId)
		case cf, ok := <-r.confirms:
			if !ok {
				r.confirms = nil
				end()
				continue
			}
			cs.confirmed(cf, c.cfg.queue)
		case err, ok := <-r.connClosed:
			if !ok {
				r.connClosed = nil
				end()
				continue
			}
			if err != nil {
				cause = err
			}
		}
	}
	cs.failNotifies(fmt.Errorf("%w: connection to the broker lost: %v", transport.ErrConnection, cs.err))
}

// deliver hands a reply to its caller; late and unknown replies are dropped.
func (c *carrier) deliver(d *amqp091.Delivery) {
	c.mu.Lock()
	p := c.pending[d.CorrelationId]
	delete(c.pending, d.CorrelationId)
	c.mu.Unlock()
	if p == nil {
		c.log.Debug("amqp: dropping a reply nobody waits for", "correlation_id", d.CorrelationId)
		return
	}
	p.done <- callResult{body: d.Body, contentType: d.ContentType, typ: d.Type, headers: d.Headers}
}

// returned fails a call the broker could not route: no queue of that name.
func (c *carrier) returned(r *amqp091.Return) {
	c.mu.Lock()
	p := c.pending[r.CorrelationId]
	delete(c.pending, r.CorrelationId)
	c.mu.Unlock()
	if p != nil {
		p.done <- callResult{err: noRouteError(r, c.cfg.queue)}
	}
}

func noRouteError(r *amqp091.Return, queue string) error {
	return fmt.Errorf("%w: queue %q does not exist, so no server is listening on it (broker returned %d %s)",
		transport.ErrNoServer, queue, r.ReplyCode, r.ReplyText)
}

func (cs *clientSession) notifyReturned(corrID string) {
	cs.notifyMu.Lock()
	defer cs.notifyMu.Unlock()
	for _, n := range cs.notifies {
		if n.corrID == corrID {
			n.returned = true
			return
		}
	}
}

func (cs *clientSession) confirmed(cf amqp091.Confirmation, queue string) {
	cs.notifyMu.Lock()
	n := cs.notifies[cf.DeliveryTag]
	delete(cs.notifies, cf.DeliveryTag)
	cs.notifyMu.Unlock()
	if n == nil {
		return
	}
	switch {
	case n.returned:
		n.done <- fmt.Errorf("%w: queue %q does not exist, so no server is listening on it", transport.ErrNoServer, queue)
	case !cf.Ack:
		n.done <- fmt.Errorf("%w: the broker refused the message (basic.nack)", transport.ErrConnection)
	default:
		n.done <- nil
	}
}

func (cs *clientSession) failNotifies(err error) {
	cs.notifyMu.Lock()
	defer cs.notifyMu.Unlock()
	for tag, n := range cs.notifies {
		delete(cs.notifies, tag)
		n.done <- err
	}
}

// run owns the sessions: when one ends it fails the pending calls, closes
// it and reconnects with backoff until Close.
func (c *carrier) run(cs *clientSession) {
	defer close(c.done)
	failures := 0
	for {
		start := time.Now()
		select {
		case <-cs.dead:
		case <-c.closing.Done():
			closeConn(cs.conn)
			<-cs.readDone
			return
		}
		lost := fmt.Errorf("%w: connection to the broker at %s lost: %v", transport.ErrConnection, c.cfg.redacted, cs.err)
		c.mu.Lock()
		c.sess, c.lastErr = nil, lost
		pending := c.pending
		c.pending = make(map[string]*pendingCall)
		c.mu.Unlock()
		for _, p := range pending {
			p.done <- callResult{err: lost}
		}
		closeConn(cs.conn)
		<-cs.readDone
		if c.closing.Err() != nil {
			return
		}
		c.log.Warn("amqp: client lost the broker connection; reconnecting", "err", cs.err, "failed_calls", len(pending))
		if time.Since(start) > maxBackoff {
			failures = 0
		}
		for cs = nil; cs == nil; failures++ {
			if !sleep(backoff(failures), c.closing.Done()) {
				return
			}
			next, err := c.connect(c.closing)
			c.mu.Lock()
			if err == nil && c.closed {
				err = transport.ErrClosed
			}
			if err == nil {
				c.sess, cs = next, next
			} else {
				c.lastErr = fmt.Errorf("%w: reconnecting: %w", transport.ErrConnection, err)
			}
			close(c.ready)
			c.ready = make(chan struct{})
			c.mu.Unlock()
			if err != nil {
				if next != nil {
					closeConn(next.conn)
					<-next.readDone
				}
				if c.closing.Err() != nil {
					return
				}
				c.log.Warn("amqp: client reconnect failed", "attempt", failures+1, "err", err)
			}
		}
		c.log.Info("amqp: client reconnected")
	}
}

// session returns the current session, waiting for a reconnect in
// progress to finish (or fail) within ctx.
func (c *carrier) session(ctx context.Context) (*clientSession, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, transport.ErrClosed
	}
	if cs := c.sess; cs != nil {
		c.mu.Unlock()
		return cs, nil
	}
	ready := c.ready
	c.mu.Unlock()
	select {
	case <-ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the broker connection: %w", ctx.Err())
	case <-c.closing.Done():
		return nil, transport.ErrClosed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, transport.ErrClosed
	}
	if c.sess == nil {
		return nil, c.lastErr
	}
	return c.sess, nil
}

// publishing builds a request message from req. Requests to a durable
// (or quorum) queue are persistent, so they survive a broker restart.
func (c *carrier) publishing(req *transport.Message) amqp091.Publishing {
	msg := amqp091.Publishing{ContentType: req.ContentType, Type: req.Type, Body: req.Body}
	if len(req.Headers) > 0 {
		msg.Headers = amqp091.Table(maps.Clone(req.Headers))
	}
	addMetadata(&msg, req.Metadata)
	if c.cfg.durable {
		msg.DeliveryMode = amqp091.Persistent
	}
	return msg
}

// withDeadline sets a call's expiration and deadline header from ctx, so
// neither the broker nor a server keeps a request its caller gave up on.
func withDeadline(ctx context.Context, msg *amqp091.Publishing) {
	if dl, ok := ctx.Deadline(); ok {
		ms := time.Until(dl).Milliseconds() + 1
		msg.Expiration = strconv.FormatInt(max(ms, 1), 10)
		if msg.Headers == nil {
			msg.Headers = amqp091.Table{}
		}
		msg.Headers[headerDeadline] = dl.UnixMilli()
	}
}

// RoundTrip implements transport.Carrier: it publishes req to the request
// queue with a correlation id and the reply queue in reply_to, and waits
// for the reply.
func (c *carrier) RoundTrip(ctx context.Context, req, reply *transport.Message) error {
	cs, err := c.session(ctx)
	if err != nil {
		return err
	}
	if !c.served.Load() {
		if hint := c.consumersHint(cs, time.Now()); hint != "" {
			return fmt.Errorf("%w: %s, so no server is listening (start one, or check the queue name)", transport.ErrNoServer, hint)
		}
		c.served.Store(true)
	}
	sent := time.Now()
	id := c.nextID()
	p, _ := c.calls.Get().(*pendingCall)
	if p == nil {
		p = &pendingCall{done: make(chan callResult, 1)}
	}
	c.mu.Lock()
	if c.closed || c.sess != cs {
		// Closed, or the session died between session() and here.
		c.mu.Unlock()
		if c.closed {
			return transport.ErrClosed
		}
		return fmt.Errorf("%w: connection to the broker lost", transport.ErrConnection)
	}
	c.pending[id] = p
	c.mu.Unlock()

	msg := c.publishing(req)
	withDeadline(ctx, &msg)
	msg.CorrelationId = id
	msg.ReplyTo = cs.replyQueue
	if err := cs.ch.Publish("", c.cfg.queue, true, false, msg); err != nil {
		c.forget(id)
		return fmt.Errorf("%w: publish: %w", transport.ErrConnection, err)
	}
	select {
	case r := <-p.done:
		// Each registration gets exactly one send, now received: p is
		// free for the next call. (Other paths drop p, since a send may
		// still be on its way.)
		c.calls.Put(p)
		if r.err != nil {
			return r.err
		}
		reply.Body, reply.ContentType, reply.Type, reply.Headers = r.body, r.contentType, r.typ, r.headers
		return nil
	case <-ctx.Done():
		c.forget(id)
		err := ctx.Err()
		if errors.Is(err, context.Canceled) && cs.cch != nil {
			// Tell the server; it knows the deadline already.
			_ = cs.cch.Publish(cancelExchange, c.cfg.queue, false, false, amqp091.Publishing{CorrelationId: id, ReplyTo: cs.replyQueue})
		}
		if errors.Is(err, context.DeadlineExceeded) {
			if hint := c.consumersHint(cs, sent); hint != "" {
				return fmt.Errorf("%w (%w: %s)", err, transport.ErrNoServer, hint)
			}
		}
		return err
	}
}

// nextID returns a correlation id: the client's random prefix and a counter.
func (c *carrier) nextID() string {
	var b [40]byte
	return string(strconv.AppendUint(append(b[:0], c.idBase...), c.seq.Add(1), 36))
}

// forget drops a pending call; a reply arriving later is discarded.
func (c *carrier) forget(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// consumersHint says why a call cannot be answered: the queue has no
// consumer, or does not exist; "" when it has a consumer (or the check
// failed). A check begun at or after since is reused, so callers waiting
// on one another share one passive declare.
func (c *carrier) consumersHint(cs *clientSession, since time.Time) string {
	c.hintMu.Lock()
	defer c.hintMu.Unlock()
	if !c.hintAt.Before(since) {
		return c.hintText
	}
	c.hintAt, c.hintText = time.Now(), ""
	ch, err := cs.conn.Channel()
	if err != nil {
		return ""
	}
	defer ch.Close()
	q, err := ch.QueueDeclarePassive(c.cfg.queue, false, false, false, false, nil)
	switch {
	case isCode(err, amqp091.NotFound):
		c.hintText = fmt.Sprintf("queue %s does not exist", c.cfg.queue)
	case err == nil && q.Consumers == 0:
		c.hintText = fmt.Sprintf("queue %s has 0 consumers", c.cfg.queue)
	}
	return c.hintText
}

// Send implements transport.Carrier: it publishes a one-way message (no
// reply_to) and returns once the broker has confirmed it. A queue that
// does not exist fails with transport.ErrNoServer.
func (c *carrier) Send(ctx context.Context, req, _ *transport.Message) error {
	cs, err := c.session(ctx)
	if err != nil {
		return err
	}
	// No expiration: ctx bounds the publish, not how long the message may
	// wait for a server.
	msg := c.publishing(req)
	msg.CorrelationId = c.nextID()
	n := &pendingNotify{corrID: msg.CorrelationId, done: make(chan error, 1)}

	cs.nmu.Lock()
	tag := cs.nch.GetNextPublishSeqNo()
	cs.notifyMu.Lock()
	cs.notifies[tag] = n
	cs.notifyMu.Unlock()
	err = cs.nch.Publish("", c.cfg.queue, true, false, msg)
	cs.nmu.Unlock()
	if err != nil {
		cs.dropNotify(tag)
		return fmt.Errorf("%w: publish: %w", transport.ErrConnection, err)
	}
	select {
	case err := <-n.done:
		return err
	case <-ctx.Done():
		cs.dropNotify(tag)
		return ctx.Err()
	}
}

func (cs *clientSession) dropNotify(tag uint64) {
	cs.notifyMu.Lock()
	delete(cs.notifies, tag)
	cs.notifyMu.Unlock()
}

// Close implements transport.Carrier: it fails the calls in flight with
// transport.ErrClosed, closes the connection and stops the carrier's
// goroutines.
func (c *carrier) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.done
		return nil
	}
	c.closed = true
	pending := c.pending
	c.pending = make(map[string]*pendingCall)
	c.mu.Unlock()
	closedErr := fmt.Errorf("%w: the client was closed", transport.ErrClosed)
	for _, p := range pending {
		p.done <- callResult{err: closedErr}
	}
	c.close()
	<-c.done
	return nil
}
