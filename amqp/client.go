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

// carrier moves a client's calls through the broker: one connection at a
// time (to one of the URL's broker addresses), with a channel in confirm
// mode that calls and one-way messages are published on (see publisher),
// one that consumes an exclusive, server-named reply queue for the
// connection's lifetime, and one for cancel notices.
// Replies find their caller by correlation id, so many goroutines may have
// calls in flight.
//
// When the connection is lost the carrier reconnects at once to the next
// address (with backoff only after every address failed), and each call
// still waiting publishes its request again on the new connection, with
// the same correlation id and the new reply queue: a call survives the
// loss of its broker node, at the price that its function may run twice
// (at-least-once, as a server crash already implies).
type carrier struct {
	cfg      *config
	opts     *transport.ClientOptions
	log      *slog.Logger
	addrs    *addresses
	idBase   string // random per client, so ids never repeat across clients
	seq      atomic.Uint64
	calls    sync.Pool       // *pendingCall, reused once their reply is received
	closing  context.Context // cancelled by Close
	close    context.CancelFunc
	done     chan struct{}  // closed when run returns
	bg       sync.WaitGroup // goroutines of publishes, publishers and queue checks; see addBG
	bgMu     sync.Mutex
	bgClosed bool // set by Close before it waits for bg

	mu      sync.Mutex
	sess    *clientSession // nil while reconnecting
	ready   chan struct{}  // closed, and replaced, when a reconnect round ends
	lastErr error          // why sess is nil
	pending map[string]*pendingCall
	closed  bool

	hintMu sync.Mutex
	hint   *hintCheck // the latest check of the request queue

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

// clientSession is one broker connection of a client.
type clientSession struct {
	conn       *amqp091.Connection
	host       string           // the address connected to, for messages
	ch         *amqp091.Channel // consumes replies from the reply queue
	cch        *amqp091.Channel // cancel notices; nil when unsupported
	replyQueue string
	dead       chan struct{} // closed by the reader when the session ends
	deadOnce   sync.Once
	err        error         // why it ended, set before dead closes
	readDone   chan struct{} // closed when the reader returns

	// blocked holds the broker's reason while it blocks this
	// connection's publishers (a memory or disk alarm).
	blocked atomic.Pointer[string]
	flowMu  sync.Mutex
	blockC  chan struct{} // closed when the broker starts blocking; renewed when it stops

	pubMu sync.Mutex // serialises renewing pub
	pub   atomic.Pointer[publisher]
}

func (cs *clientSession) kill(err error) {
	cs.deadOnce.Do(func() {
		cs.err = err
		close(cs.dead)
	})
}

// close closes the session's connection: gracefully, unless the broker
// blocks it (then it would not read the close either), so Close never
// waits on a blocked broker.
func (cs *clientSession) close() {
	if cs.blocked.Load() != nil {
		_ = cs.conn.CloseDeadline(time.Now())
		return
	}
	closeConn(cs.conn)
}

// busy returns the error for a call made while the broker blocks the
// session's publishers, or nil.
func (cs *clientSession) busy() error {
	if reason := cs.blocked.Load(); reason != nil {
		return fmt.Errorf("%w: the broker at %s is blocking publishers (%s); retry when it recovers", transport.ErrBusy, cs.host, *reason)
	}
	return nil
}

// blockSignal returns a channel that is closed once the broker blocks
// the session's publishers.
func (cs *clientSession) blockSignal() <-chan struct{} {
	cs.flowMu.Lock()
	defer cs.flowMu.Unlock()
	return cs.blockC
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
		addrs:   newAddresses(cfg),
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

// connect opens a session: connection, channels, reply queue, reader. The
// setup's synchronous broker methods are bounded by ctx too: when it ends
// the connection is closed, which ends them.
func (c *carrier) connect(ctx context.Context) (*clientSession, error) {
	conn, i, err := dial(ctx, c.cfg, c.addrs, c.opts.TLSConfig, "client")
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { closeConn(conn) })
	cs, err := c.setup(conn, c.cfg.hosts[i])
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		closeConn(conn)
		if cs != nil {
			<-cs.readDone
		}
		if ctx.Err() != nil {
			return nil, transport.ContextError(ctx, "amqp: connect to "+c.cfg.redacted)
		}
		return nil, fmt.Errorf("rpcwire: amqp: client for %s: %w: %w", c.cfg.redacted, transport.ErrConnection, err)
	}
	return cs, nil
}

// setup opens the session's channels and reply queue and starts its
// reader, which ends when the connection closes.
func (c *carrier) setup(conn *amqp091.Connection, host string) (*clientSession, error) {
	cs := &clientSession{
		conn:     conn,
		host:     host,
		dead:     make(chan struct{}),
		readDone: make(chan struct{}),
		blockC:   make(chan struct{}),
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
	pub, err := newPublisher(conn, c)
	if err != nil {
		return nil, err
	}
	cs.pub.Store(pub)
	if cch, err := conn.Channel(); err == nil {
		if err := declareCancelExchange(cch); err == nil {
			cs.cch = cch
		} else {
			c.log.Debug("amqp: cannot declare the cancel exchange; cancelled calls run to the end on the server", "err", err)
		}
	}
	r := reader{
		deliveries: deliveries,
		blocked:    conn.NotifyBlocked(make(chan amqp091.Blocking, 1)),
		connClosed: conn.NotifyClose(make(chan *amqp091.Error, 1)),
	}
	go c.read(cs, r)
	return cs, nil
}

// renew replaces the session's publisher old with a new channel, unless
// another caller did already (see publisher).
func (c *carrier) renew(cs *clientSession, old *publisher) {
	cs.pubMu.Lock()
	defer cs.pubMu.Unlock()
	if cs.pub.Load() != old || isDead(cs) {
		return
	}
	p, err := newPublisher(cs.conn, c)
	if err != nil {
		return // the connection is going: the session ends
	}
	cs.pub.Store(p)
	_ = old.ch.Close()
	c.log.Debug("amqp: the broker refused a message; publishing on a new channel", "broker", cs.host)
}

// reader holds the channels one session's reader drains.
type reader struct {
	deliveries <-chan amqp091.Delivery
	blocked    <-chan amqp091.Blocking
	connClosed <-chan *amqp091.Error
}

// read routes replies and flow control until every channel it drains is
// closed. The first one to close ends the session.
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
	for r.deliveries != nil || r.blocked != nil || r.connClosed != nil {
		select {
		case d, ok := <-r.deliveries:
			if !ok {
				r.deliveries = nil
				end()
				continue
			}
			c.deliver(&d)
		case b, ok := <-r.blocked:
			if !ok {
				r.blocked = nil
				continue
			}
			c.flow(cs, b)
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
}

// flow records the broker blocking or unblocking the session's
// publishers (connection.blocked, an alarm): while blocked, new calls
// fail at once with ErrBusy instead of hanging in a publish the broker
// does not read.
func (c *carrier) flow(cs *clientSession, b amqp091.Blocking) {
	if b.Active {
		reason := b.Reason
		if reason == "" {
			reason = "resource alarm"
		}
		cs.flowMu.Lock()
		cs.blocked.Store(&reason)
		select {
		case <-cs.blockC:
		default:
			close(cs.blockC)
		}
		cs.flowMu.Unlock()
		c.log.Warn("amqp: the broker blocks publishers; calls fail with ErrBusy until it recovers", "broker", cs.host, "reason", reason)
		return
	}
	cs.flowMu.Lock()
	if cs.blocked.Swap(nil) != nil {
		cs.blockC = make(chan struct{})
	}
	cs.flowMu.Unlock()
	c.log.Info("amqp: the broker unblocked publishers", "broker", cs.host)
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

// run owns the sessions: when one ends it reconnects, trying each broker
// address in turn at once and backing off only after all of them failed,
// until Close. Calls waiting for replies are not failed: they publish
// again on the next session.
func (c *carrier) run(cs *clientSession) {
	defer close(c.done)
	for {
		select {
		case <-cs.dead:
		case <-c.closing.Done():
			cs.close()
			<-cs.readDone
			return
		}
		lost := fmt.Errorf("%w: connection to the broker at %s lost: %v", transport.ErrConnection, cs.host, cs.err)
		c.mu.Lock()
		c.sess, c.lastErr = nil, lost
		waiting := len(c.pending)
		c.mu.Unlock()
		cs.close()
		<-cs.readDone
		if c.closing.Err() != nil {
			return
		}
		c.log.Warn("amqp: client lost the broker connection; reconnecting", "broker", cs.host, "err", cs.err, "calls_waiting", waiting)
		if cs = c.reconnect(); cs == nil {
			return
		}
		c.log.Info("amqp: client reconnected", "broker", cs.host)
	}
}

// reconnect opens the next session, trying every address once a round
// and backing off between rounds; nil means the client was closed.
func (c *carrier) reconnect() *clientSession {
	for round := 0; ; round++ {
		next, err := c.connect(c.closing)
		c.mu.Lock()
		if err == nil && c.closed {
			err = transport.ErrClosed
		}
		if err == nil {
			c.sess = next
		} else {
			c.lastErr = fmt.Errorf("%w: reconnecting: %w", transport.ErrConnection, err)
		}
		close(c.ready)
		c.ready = make(chan struct{})
		c.mu.Unlock()
		if err == nil {
			return next
		}
		if next != nil {
			closeConn(next.conn)
			<-next.readDone
		}
		if c.closing.Err() != nil {
			return nil
		}
		c.log.Warn("amqp: client reconnect failed at every broker address", "round", round+1, "err", err)
		if !sleep(backoff(round), c.closing.Done()) {
			return nil
		}
	}
}

// session returns the current session, other than not (a session the
// caller saw die), waiting within ctx for a reconnect in progress. A new
// call (waitAll false) fails when the next reconnect round fails; a call
// already published (waitAll true) waits for a session until ctx ends,
// since its request may yet be answered.
func (c *carrier) session(ctx context.Context, waitAll bool, not *clientSession) (*clientSession, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, transport.ErrClosed
		}
		if cs := c.sess; cs != nil && cs != not {
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
		cs, lastErr, closed := c.sess, c.lastErr, c.closed
		c.mu.Unlock()
		switch {
		case closed:
			return nil, transport.ErrClosed
		case cs != nil && cs != not:
			return cs, nil
		case cs == nil && !waitAll:
			return nil, lastErr
		}
	}
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

// publish publishes msg on ch with a deferred confirmation, within ctx:
// amqp091's Publish takes no context and waits while the broker does not
// read (a blocked connection), so it runs on a goroutine of its own and
// publish returns when ctx ends. The goroutine ends when the publish
// does, at the latest when the connection closes.
func (c *carrier) publish(ctx context.Context, ch *amqp091.Channel, exchange, key string, mandatory bool, msg amqp091.Publishing) (*amqp091.DeferredConfirmation, error) {
	type result struct {
		dc  *amqp091.DeferredConfirmation
		err error
	}
	done := make(chan result, 1)
	if !c.addBG() {
		return nil, fmt.Errorf("%w: the client was closed", transport.ErrClosed)
	}
	go func() {
		defer c.bg.Done()
		dc, err := ch.PublishWithDeferredConfirm(exchange, key, mandatory, false, msg)
		done <- result{dc, err}
	}()
	select {
	case r := <-done:
		return r.dc, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// addBG counts a goroutine about to start in bg, unless Close has begun
// (then it reports false and the goroutine must not start): the check and
// the count share bgMu with Close, so no count races its wait.
func (c *carrier) addBG() bool {
	c.bgMu.Lock()
	defer c.bgMu.Unlock()
	if c.bgClosed {
		return false
	}
	c.bg.Add(1)
	return true
}

// published handles the error of publishing on pub within ctx, in session
// cs: nil when the message is to be published again (the session died,
// or another caller renewed the channel under it), else the error to
// return. req.Body is dropped when ctx ended: the abandoned publish may
// still read it, so it must not go back to the message pool.
func (c *carrier) published(ctx context.Context, err error, cs *clientSession, pub *publisher, req *transport.Message) error {
	switch {
	case ctx.Err() != nil:
		req.Body = nil
		return ctx.Err()
	case errors.Is(err, transport.ErrClosed):
		return err
	case isDead(cs) || cs.pub.Load() != pub:
		return nil
	}
	return fmt.Errorf("%w: publish: %w", transport.ErrConnection, err)
}

// refused handles a message the broker did not confirm on pub (the
// nacks-th in a row): the broker's reason when it closed the channel
// refusing something; else, unless the session died, a new channel and
// a pause within ctx before the message goes out again (nil). what names
// the message in the error when ctx ends during the pause.
func (c *carrier) refused(ctx context.Context, cs *clientSession, pub *publisher, nacks *int, what string) error {
	if err := refusal(pub.closeErr()); err != nil {
		return err
	}
	if isDead(cs) {
		return nil
	}
	// The broker did not store the message (a quorum queue electing a
	// leader, say): publish it again, on a new channel, after a pause.
	*nacks++
	c.renew(cs, pub)
	if !sleep(nackBackoff(*nacks), ctx.Done()) {
		return fmt.Errorf("%w (the broker refused the %s %d times with basic.nack: its queue is unavailable)", ctx.Err(), what, *nacks)
	}
	return nil
}

// RoundTrip implements transport.Carrier: it publishes req to the request
// queue with a correlation id and the reply queue in reply_to, with a
// publisher confirm, and waits for the reply. When the connection is lost
// first, it publishes req again on the next connection (same id, new
// reply queue), so a call survives the loss of its broker node.
func (c *carrier) RoundTrip(ctx context.Context, req, reply *transport.Message) error {
	var (
		id   string
		p    *pendingCall
		sent time.Time
		cs   *clientSession
	)
	defer func() {
		if p != nil {
			c.forget(id)
		}
	}()
	nacks := 0
	for attempt := 0; ; attempt++ {
		if cs == nil || isDead(cs) {
			next, err := c.session(ctx, attempt > 0, cs)
			if err != nil {
				return err
			}
			cs = next
		}
		if err := cs.busy(); err != nil {
			return err
		}
		if !c.served.Load() {
			if err := c.checkServed(ctx, cs); err != nil {
				return err
			}
		}
		if p == nil {
			id, sent = c.nextID(), time.Now()
			p, _ = c.calls.Get().(*pendingCall)
			if p == nil {
				p = &pendingCall{done: make(chan callResult, 1)}
			}
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return transport.ErrClosed
		}
		c.pending[id] = p
		c.mu.Unlock()

		msg := c.publishing(req)
		withDeadline(ctx, &msg)
		msg.CorrelationId = id
		msg.ReplyTo = cs.replyQueue
		pub := cs.pub.Load()
		dc, err := c.publish(ctx, pub.ch, "", c.cfg.queue, true, msg)
		if err != nil {
			if err := c.published(ctx, err, cs, pub, req); err != nil {
				return err
			}
			continue
		}
		// A broker that starts blocking publishers before the request is
		// confirmed (a new connection is blocked as it first publishes)
		// will not store it until its alarm clears: say so now rather than
		// at the deadline. A request confirmed already gets its reply.
		confirmed, blocked := dc.Done(), cs.blockSignal()
	wait:
		for {
			select {
			case r := <-p.done:
				// Each registration gets one send at most, now received:
				// p is free for the next call. (Other paths drop p, since
				// a send may still be on its way.)
				c.calls.Put(p)
				p = nil
				if r.err != nil {
					return r.err
				}
				reply.Body, reply.ContentType, reply.Type, reply.Headers = r.body, r.contentType, r.typ, r.headers
				return nil
			case <-confirmed:
				confirmed = nil
				if !dc.Acked() {
					if err := c.refused(ctx, cs, pub, &nacks, "request"); err != nil {
						return err
					}
					break wait // closed with the connection, or refused: publish again
				}
				nacks = 0
				blocked = nil
			case <-blocked:
				blocked = nil
				select {
				case <-confirmed:
					continue // stored after all: handled on the next turn
				default:
				}
				if err := cs.busy(); err != nil {
					return err
				}
			case <-cs.dead:
				if err := refusal(cs.err); err != nil {
					return err
				}
				break wait
			case <-ctx.Done():
				err := ctx.Err()
				if errors.Is(err, context.Canceled) && cs.cch != nil {
					// Tell the servers of the queue; they know the deadline already.
					c.forget(id)
					c.publishCancel(cs, id)
				}
				if errors.Is(err, context.DeadlineExceeded) {
					// Say why nobody answered, if a look at the queue
					// can tell at once.
					hctx, cancel := context.WithTimeout(c.closing, hintGrace)
					h := c.lookAtQueue(hctx, cs, sent)
					cancel()
					if h != nil && h.text != "" {
						return fmt.Errorf("%w (%w: %s)", err, transport.ErrNoServer, h.text)
					}
				}
				return err
			}
		}
		c.log.Debug("amqp: publishing a call again after the connection was lost", "correlation_id", id)
	}
}

// checkServed fails a call of a client that has not yet seen a server
// on its request queue, when the queue does not exist or has no
// consumer. A queue without consumers is looked at again twice, 300 ms
// apart: a quorum queue electing a new leader briefly reports none. The
// client counts as served only once a look saw a consumer; a look that
// could not finish lets the call go on and the next call look again.
func (c *carrier) checkServed(ctx context.Context, cs *clientSession) error {
	for look := 0; ; look++ {
		h := c.lookAtQueue(ctx, cs, time.Now().Add(-hintGrace))
		switch {
		case h == nil: // ctx ended: the call will say so
			return nil
		case h.err != nil:
			return h.err
		case h.served:
			c.served.Store(true)
			return nil
		case h.text == "": // the look failed (no channel, say)
			return nil
		case look < 2 && h.noConsumers:
			if !sleep(300*time.Millisecond, ctx.Done()) {
				return nil // the call will say its context ended
			}
			continue
		}
		return fmt.Errorf("%w: %s, so no server is listening (start one, or check the queue name)", transport.ErrNoServer, h.text)
	}
}

// hintGrace bounds how long a call whose deadline passed waits for a look
// at the request queue that could say why nobody answered.
const hintGrace = 100 * time.Millisecond

// nackBackoff is the pause before publishing a message again that the
// broker refused (nack) for the n-th time in a row: 20 ms doubling to
// 500 ms.
func nackBackoff(n int) time.Duration {
	return min(20*time.Millisecond<<min(n-1, 5), 500*time.Millisecond)
}

// publishCancel tells the servers of the queue that the call id of this
// session's reply queue was cancelled. It does not wait: the publish runs
// on a goroutine of its own (a blocked broker takes nothing) that ends
// with the connection at the latest.
func (c *carrier) publishCancel(cs *clientSession, id string) {
	if !c.addBG() {
		return
	}
	go func() {
		defer c.bg.Done()
		_ = cs.cch.Publish(cancelExchange, c.cfg.queue, false, false, amqp091.Publishing{CorrelationId: id, ReplyTo: cs.replyQueue})
	}()
}

// isDead reports whether the session has ended.
func isDead(cs *clientSession) bool {
	select {
	case <-cs.dead:
		return true
	default:
		return false
	}
}

// refusal returns an error naming the broker's reason when a session
// ended because the broker refused something on a channel (access,
// a locked or missing resource, a failed precondition): publishing again
// would only be refused again. Lost connections give nil.
func refusal(err error) error {
	var ae *amqp091.Error
	if !errors.As(err, &ae) {
		return nil
	}
	switch ae.Code {
	case amqp091.AccessRefused:
		return fmt.Errorf("%w: the broker refused the call: %w", transport.ErrUnauthorized, ae)
	case amqp091.NotFound, amqp091.ResourceLocked, amqp091.PreconditionFailed, amqp091.NotAllowed:
		return fmt.Errorf("%w: the broker refused the call: %w", transport.ErrConnection, ae)
	}
	return nil
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

// hintCheck is one look at the request queue: a passive declare on a
// channel of its own, run on a goroutine so callers wait for it within
// their context (a blocked broker does not answer).
type hintCheck struct {
	at          time.Time
	done        chan struct{} // closed when the fields below are set
	served      bool          // a consumer is there, or may be (an exclusive queue of another connection)
	noConsumers bool          // the queue is there without a consumer
	text        string        // why no server answers; "" when one may or the look failed
	err         error         // a refusal that names the broker's reason
}

// lookAtQueue returns a finished look at the request queue begun at or
// after since (shared, so callers waiting on one another make one
// passive declare), or nil when none finished within ctx.
func (c *carrier) lookAtQueue(ctx context.Context, cs *clientSession, since time.Time) *hintCheck {
	c.hintMu.Lock()
	h := c.hint
	if h == nil || h.at.Before(since) {
		if !c.addBG() {
			c.hintMu.Unlock()
			return nil
		}
		h = &hintCheck{at: time.Now(), done: make(chan struct{})}
		c.hint = h
		go c.checkQueue(cs, h)
	}
	c.hintMu.Unlock()
	select {
	case <-h.done:
		return h
	case <-ctx.Done():
		return nil
	}
}

// checkQueue looks at the request queue for h. It ends with the
// connection at the latest.
func (c *carrier) checkQueue(cs *clientSession, h *hintCheck) {
	defer c.bg.Done()
	defer close(h.done)
	ch, err := cs.conn.Channel()
	if err != nil {
		return
	}
	defer ch.Close()
	q, err := ch.QueueDeclarePassive(c.cfg.queue, false, false, false, false, nil)
	switch {
	case isCode(err, amqp091.NotFound):
		h.text = fmt.Sprintf("queue %s does not exist", c.cfg.queue)
	case isCode(err, amqp091.ResourceLocked):
		// An exclusive queue of another connection: its owner may serve
		// it (publishing to it works), so this is said, not refused.
		h.served = true
		c.log.Debug("amqp: the request queue is exclusive to another connection", "err", err)
	case isCode(err, amqp091.AccessRefused):
		h.err = fmt.Errorf("%w: the broker refused access to queue %s: %w", transport.ErrUnauthorized, c.cfg.queue, err)
	case err == nil && q.Consumers == 0:
		h.noConsumers = true
		h.text = fmt.Sprintf("queue %s has 0 consumers", c.cfg.queue)
	case err == nil:
		h.served = true
	}
}

// Send implements transport.Carrier: it publishes a one-way message (no
// reply_to) and returns once the broker has confirmed it. A queue that
// does not exist fails with transport.ErrNoServer. A message lost with
// its connection before the confirm, or refused with a nack, is published
// again (so it may arrive twice).
func (c *carrier) Send(ctx context.Context, req, _ *transport.Message) error {
	msg := c.publishing(req)
	msg.CorrelationId = c.nextID()
	var (
		cs    *clientSession
		nacks int
	)
	for attempt := 0; ; attempt++ {
		if cs == nil || isDead(cs) {
			next, err := c.session(ctx, attempt > 0, cs)
			if err != nil {
				return err
			}
			cs = next
		}
		if err := cs.busy(); err != nil {
			return err
		}
		// No expiration: ctx bounds the publish, not how long the message
		// may wait for a server.
		pub := cs.pub.Load()
		dc, err := c.publish(ctx, pub.ch, "", c.cfg.queue, true, msg)
		if err != nil {
			if err := c.published(ctx, err, cs, pub, req); err != nil {
				return err
			}
			continue
		}
		select {
		case <-dc.Done():
		case <-ctx.Done():
			return ctx.Err()
		}
		if dc.Acked() {
			if pub.returnedOneWay(msg.CorrelationId) {
				return fmt.Errorf("%w: queue %q does not exist, so no server is listening on it", transport.ErrNoServer, c.cfg.queue)
			}
			return nil
		}
		if err := c.refused(ctx, cs, pub, &nacks, "message"); err != nil {
			return err
		}
	}
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
	c.bgMu.Lock()
	c.bgClosed = true
	c.bgMu.Unlock()
	closedErr := fmt.Errorf("%w: the client was closed", transport.ErrClosed)
	for _, p := range pending {
		p.done <- callResult{err: closedErr}
	}
	c.close()
	<-c.done
	c.bg.Wait()
	return nil
}
