package amqp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

// Client calls a server through the broker: one connection, a channel
// for calls and one for one-way messages, and one exclusive, server-named
// reply queue consumed once for the client's lifetime. Replies find their
// caller by correlation id, so many goroutines may have calls in flight.
// When the connection is lost every pending call fails with an error
// wrapping transport.ErrConnection and the client reconnects with backoff.
type Client struct {
	cfg     *config
	opts    transport.Options
	log     *slog.Logger
	idBase  string // random per client, so ids never repeat across clients
	seq     atomic.Uint64
	bufs    sync.Pool
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

var _ transport.Client = (*Client)(nil)

// pendingCall waits for its reply.
type pendingCall struct {
	done chan callResult // buffered 1: the reader never blocks
}

type callResult struct {
	body        []byte
	contentType string
	typ         string // the reply's type property: a text result's type
	headers     amqp091.Table
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
// for the URL parameters.
func Dial(ctx context.Context, u *url.URL, opts ...transport.Option) (transport.Client, error) {
	return NewClient(ctx, u, opts...)
}

// NewClient is Dial returning the concrete type.
func NewClient(ctx context.Context, u *url.URL, opts ...transport.Option) (*Client, error) {
	o := transport.Apply(opts...)
	cfg, err := parseURL(u, o)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:     cfg,
		opts:    o,
		log:     o.Logger.With("transport", "amqp", "queue", cfg.queue),
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
	return c, nil
}

// connect opens a session: connection, channels, reply queue, reader.
func (c *Client) connect(ctx context.Context) (*clientSession, error) {
	conn, err := dial(ctx, c.cfg, &c.opts, "client")
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

func (c *Client) setup(conn *amqp091.Connection) (*clientSession, error) {
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
func (c *Client) read(cs *clientSession, r reader) {
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
func (c *Client) deliver(d *amqp091.Delivery) {
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
func (c *Client) returned(r *amqp091.Return) {
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
func (c *Client) run(cs *clientSession) {
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
func (c *Client) session(ctx context.Context, what string) (*clientSession, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", what, transport.ErrClosed)
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
		return nil, transport.ContextError(ctx, what+" (waiting for the broker connection)")
	case <-c.closing.Done():
		return nil, fmt.Errorf("%s: %w", what, transport.ErrClosed)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("%s: %w", what, transport.ErrClosed)
	}
	if c.sess == nil {
		return nil, fmt.Errorf("%s: %w", what, c.lastErr)
	}
	return c.sess, nil
}

// withTimeout applies the client's default timeout to a ctx without a
// deadline.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.cfg.timeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			return context.WithTimeout(ctx, c.cfg.timeout)
		}
	}
	return ctx, func() {}
}

// publishing builds a request message. Requests to a durable (or quorum)
// queue are persistent, so they survive a broker restart.
func (c *Client) publishing(method string, body []byte) amqp091.Publishing {
	msg := amqp091.Publishing{ContentType: c.cfg.codec.ContentType(), Body: body}
	if c.cfg.codec.Name() == textCodec.Name() {
		msg.Type = method
	}
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
		msg.Headers = amqp091.Table{headerDeadline: dl.UnixMilli()}
	}
}

// encode appends the call to a pooled buffer.
func (c *Client) encode(what, method string, args []any) (*[]byte, error) {
	bp := getBuf(&c.bufs)
	body, err := c.cfg.codec.AppendCall((*bp)[:0], method, args)
	*bp = body
	if err != nil {
		putBuf(&c.bufs, bp)
		return nil, fmt.Errorf("%s: %w: %w", what, transport.ErrInvalidParams, err)
	}
	if int64(len(body)) > c.opts.MaxMessageSize {
		putBuf(&c.bufs, bp)
		return nil, fmt.Errorf("%s: %w: request of %d bytes exceeds the limit of %d", what, transport.ErrTooLarge, len(body), c.opts.MaxMessageSize)
	}
	return bp, nil
}

// Call implements transport.Client.
func (c *Client) Call(ctx context.Context, method string, args []any, reply any) error {
	what := "call " + method
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	if err := transport.ContextError(ctx, what); err != nil {
		return err
	}
	if err := checkReply(reply); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	bp, err := c.encode(what, method, args)
	if err != nil {
		return err
	}
	cs, err := c.session(ctx, what)
	if err != nil {
		putBuf(&c.bufs, bp)
		return err
	}
	if !c.served.Load() {
		if hint := c.consumersHint(cs, time.Now()); hint != "" {
			putBuf(&c.bufs, bp)
			return fmt.Errorf("%s: %w: %s, so no server is listening (start one, or check the queue name)", what, transport.ErrNoServer, hint)
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
		putBuf(&c.bufs, bp)
		if c.closed {
			return fmt.Errorf("%s: %w", what, transport.ErrClosed)
		}
		return fmt.Errorf("%s: %w: connection to the broker lost", what, transport.ErrConnection)
	}
	c.pending[id] = p
	c.mu.Unlock()

	msg := c.publishing(method, *bp)
	withDeadline(ctx, &msg)
	msg.CorrelationId = id
	msg.ReplyTo = cs.replyQueue
	err = cs.ch.Publish("", c.cfg.queue, true, false, msg)
	putBuf(&c.bufs, bp)
	if err != nil {
		c.forget(id)
		return fmt.Errorf("%s: %w: publish: %w", what, transport.ErrConnection, err)
	}
	select {
	case r := <-p.done:
		// Each registration gets exactly one send, now received: p is
		// free for the next call. (Other paths drop p, since a send may
		// still be on its way.)
		c.calls.Put(p)
		if r.err != nil {
			return fmt.Errorf("%s: %w", what, r.err)
		}
		return c.decodeReply(ctx, what, &r, reply)
	case <-ctx.Done():
		c.forget(id)
		err := transport.ContextError(ctx, what)
		if errors.Is(err, context.Canceled) && cs.cch != nil {
			// Tell the server; it knows the deadline already.
			_ = cs.cch.Publish(cancelExchange, "", false, false, amqp091.Publishing{CorrelationId: id, ReplyTo: cs.replyQueue})
		}
		if errors.Is(err, context.DeadlineExceeded) {
			if hint := c.consumersHint(cs, sent); hint != "" {
				err = fmt.Errorf("%w (%w: %s)", err, transport.ErrNoServer, hint)
			}
		}
		return err
	}
}

// nextID returns a correlation id: the client's random prefix and a counter.
func (c *Client) nextID() string {
	var b [40]byte
	return string(strconv.AppendUint(append(b[:0], c.idBase...), c.seq.Add(1), 36))
}

// forget drops a pending call; a reply arriving later is discarded.
func (c *Client) forget(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// decodeReply decodes a reply in the codec it came in and stores the result.
func (c *Client) decodeReply(ctx context.Context, what string, r *callResult, reply any) error {
	if int64(len(r.body)) > c.opts.MaxMessageSize {
		return fmt.Errorf("%s: %w: reply of %d bytes exceeds the limit of %d", what, transport.ErrTooLarge, len(r.body), c.opts.MaxMessageSize)
	}
	rc := c.cfg.codec
	if r.contentType != "" {
		if byType := codecByContentType(r.contentType); byType != nil {
			rc = byType
		}
	}
	var (
		result any
		err    error
	)
	if rc.Name() == textCodec.Name() {
		result, err = decodeTextReply(r.body, r.typ, r.headers)
	} else {
		result, err = rc.DecodeReply(r.body)
	}
	if err != nil {
		var re *transport.RemoteError
		if errors.As(err, &re) {
			return transport.FaultError(ctx, what, re)
		}
		return fmt.Errorf("%s: reply: %w", what, err)
	}
	if err := wire.Assign(reply, result); err != nil {
		return fmt.Errorf("%s: reply: %w", what, err)
	}
	return nil
}

// decodeTextReply reads a text reply, exactly when our server named the
// type or fault code in headers, else as the tutorial's plain text.
func decodeTextReply(body []byte, typ string, h amqp091.Table) (any, error) {
	if code, ok := intHeader(h, headerFaultCode); ok {
		msg := string(body)
		if len(msg) >= len(textFaultPrefix) && msg[:len(textFaultPrefix)] == textFaultPrefix {
			msg = msg[len(textFaultPrefix):]
		}
		return nil, &transport.RemoteError{Code: int(code), Message: msg}
	}
	if typ == "" {
		typ, _ = h[headerType].(string)
	}
	if typ != "" {
		return decodeTextResult(body, typ)
	}
	return TextCodec{}.DecodeReply(body)
}

// consumersHint says why a call cannot be answered: the queue has no
// consumer, or does not exist; "" when it has a consumer (or the check
// failed). A check begun at or after since is reused, so callers waiting
// on one another share one passive declare.
func (c *Client) consumersHint(cs *clientSession, since time.Time) string {
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

// Notify implements transport.Client: it publishes a one-way message (no
// reply_to) and returns once the broker has confirmed it. A queue that
// does not exist fails with transport.ErrNoServer.
func (c *Client) Notify(ctx context.Context, method string, args []any) error {
	what := "notify " + method
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	if err := transport.ContextError(ctx, what); err != nil {
		return err
	}
	bp, err := c.encode(what, method, args)
	if err != nil {
		return err
	}
	defer putBuf(&c.bufs, bp)
	cs, err := c.session(ctx, what)
	if err != nil {
		return err
	}
	// No expiration: ctx bounds the publish, not how long the message may
	// wait for a server.
	msg := c.publishing(method, *bp)
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
		return fmt.Errorf("%s: %w: publish: %w", what, transport.ErrConnection, err)
	}
	select {
	case err := <-n.done:
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	case <-ctx.Done():
		cs.dropNotify(tag)
		return transport.ContextError(ctx, what+" (waiting for the broker's confirm)")
	}
}

func (cs *clientSession) dropNotify(tag uint64) {
	cs.notifyMu.Lock()
	delete(cs.notifies, tag)
	cs.notifyMu.Unlock()
}

// Close fails the calls in flight with transport.ErrClosed, closes the
// connection and stops the client's goroutines. It is idempotent.
func (c *Client) Close() error {
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

// Addr returns the URL the client dialled, without credentials.
func (c *Client) Addr() string { return c.cfg.addr }

// checkReply rejects a reply target Assign cannot store into, before the
// call is sent rather than after it ran.
func checkReply(reply any) error {
	if reply == nil {
		return nil
	}
	if rv := reflect.ValueOf(reply); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("rpcwire: reply must be a non-nil pointer, got %T", reply)
	}
	return nil
}
