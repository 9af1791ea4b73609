package amqp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/rpcwire/rpcwire/transport"
)

// Message headers rpcwire sets besides the AMQP properties.
const (
	// headerDeadline carries the caller's deadline, Unix milliseconds, so
	// a server does not run a call whose caller has given up.
	headerDeadline = "x-deadline"
	// headerFaultCode marks a text-codec reply as a fault and carries its code.
	headerFaultCode = "x-fault-code"
	// headerType named the type of a text-codec result before it moved to
	// the reply's type property; clients still read it.
	headerType = "x-type"
)

// Server serves a transport.Dispatcher on an AMQP request queue. It
// consumes with a prefetch window and a pool of workers, publishes each
// reply to the request's reply_to with its correlation_id and acks the
// request only once the broker has confirmed the reply, so a server (or a
// broker node) that dies mid-call leaves the request to another server
// (at-least-once: a function may run twice after a crash). It reconnects
// by itself when the broker connection is lost, to the next address of
// its URL at once.
type Server struct {
	cfg      *config
	addrs    *addresses
	opts     *transport.ServerOptions
	svc      *transport.Service
	nworkers int
	log      *slog.Logger

	// callCtx is the parent of every call; Close cancels it.
	callCtx    context.Context
	cancelCall context.CancelFunc
	// stopCtx ends consuming and reconnecting; Shutdown and Close cancel it.
	stopCtx context.Context
	stop    context.CancelFunc
	done    chan struct{}  // closed when run returns
	workers sync.WaitGroup // every session's workers

	inflightMu sync.Mutex
	inflight   map[callKey]context.CancelFunc // calls a client may cancel
}

var _ transport.Server = (*Server)(nil)

// serverSession is one broker connection of a Server.
type serverSession struct {
	conn       *amqp091.Connection
	host       string           // the address connected to, for messages
	ch         *amqp091.Channel // in confirm mode: replies are confirmed before their requests are acked
	tag        string
	deliveries <-chan amqp091.Delivery
	cancels    <-chan amqp091.Delivery // clients' cancel notices; nil when unsupported
	returns    <-chan amqp091.Return   // replies the broker could not route
	blocked    <-chan amqp091.Blocking // the broker blocking and unblocking publishers
	acks       chan pendingAck         // replies published, waiting for their confirm before the ack
	connClosed chan *amqp091.Error
	chClosed   chan *amqp091.Error
}

func (ss *serverSession) close() {
	closeConn(ss.conn)
}

// cause says why the session ended.
func (ss *serverSession) cause() error {
	for _, c := range []chan *amqp091.Error{ss.chClosed, ss.connClosed} {
		select {
		case err, ok := <-c:
			if ok && err != nil {
				return err
			}
		default:
		}
	}
	return errors.New("the broker cancelled the consumer (queue deleted?)")
}

// Listen connects to the broker, declares the request queue the URL names
// and serves d on it until Shutdown or Close. It returns once the server is
// consuming, or the error that prevented it. It implements
// transport.ListenFunc.
//
// See the package documentation for the URL parameters. The URL's workers
// and transport.WithMaxInFlight mean the same: the calls the server runs
// at once (DefaultWorkers when neither is given); giving both with
// different values is an error.
func Listen(ctx context.Context, u *url.URL, d transport.Dispatcher, opts ...transport.ServerOption) (transport.Server, error) {
	return NewServer(ctx, u, d, opts...)
}

// NewServer is Listen returning the concrete type.
func NewServer(ctx context.Context, u *url.URL, d transport.Dispatcher, opts ...transport.ServerOption) (*Server, error) {
	o, err := transport.NewServerOptions(opts...)
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
	if d == nil {
		return nil, fmt.Errorf("rpcwire: amqp: listen %s: nil dispatcher", cfg.redacted)
	}
	if cfg.codecs, err = cfg.codecs.with(o.Codecs); err != nil {
		return nil, err
	}
	workers := DefaultWorkers
	switch {
	case cfg.workers > 0 && o.MaxInFlight > 0 && cfg.workers != o.MaxInFlight:
		return nil, fmt.Errorf("rpcwire: amqp URL %s: workers=%d disagrees with WithMaxInFlight(%d); give one",
			cfg.redacted, cfg.workers, o.MaxInFlight)
	case cfg.workers > 0:
		workers = cfg.workers
	case o.MaxInFlight > 0:
		if o.MaxInFlight > MaxWorkers {
			return nil, fmt.Errorf("rpcwire: amqp: WithMaxInFlight(%d): an AMQP server runs at most %d workers", o.MaxInFlight, MaxWorkers)
		}
		workers = o.MaxInFlight
	}
	if cfg.prefetch == 0 {
		cfg.prefetch = workers
	}
	s := &Server{
		cfg:      cfg,
		addrs:    newAddresses(cfg),
		opts:     &o,
		svc:      transport.NewService(d, &o, workers),
		nworkers: workers,
		log:      o.Log().With("transport", "amqp", "queue", cfg.queue),
		done:     make(chan struct{}),
		inflight: make(map[callKey]context.CancelFunc),
	}
	s.callCtx, s.cancelCall = context.WithCancel(context.Background())
	s.stopCtx, s.stop = context.WithCancel(context.Background())
	ss, err := s.connect(ctx)
	if err != nil {
		s.stop()
		s.cancelCall()
		return nil, err
	}
	s.log.Debug("amqp: serving", "addr", cfg.addr, "workers", workers, "prefetch", cfg.prefetch)
	go s.run(ss)
	return s, nil
}

// Addr returns the URL clients dial: the listen URL without credentials,
// with the queue and codec.
func (s *Server) Addr() string { return s.cfg.addr }

// connect opens a connection and a channel, declares the queue and starts
// consuming. The setup's synchronous broker methods are bounded by ctx:
// when it ends the connection is closed, which ends them.
func (s *Server) connect(ctx context.Context) (*serverSession, error) {
	conn, i, err := dial(ctx, s.cfg, s.addrs, s.opts.TLSConfig, "server")
	if err != nil {
		return nil, err
	}
	ss := &serverSession{conn: conn, host: s.cfg.hosts[i]}
	stop := context.AfterFunc(ctx, func() { closeConn(conn) })
	err = s.setup(ss)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		closeConn(conn)
		if ctx.Err() != nil {
			return nil, transport.ContextError(ctx, "amqp: serve queue "+s.cfg.queue+" on "+s.cfg.redacted)
		}
		return nil, fmt.Errorf("rpcwire: amqp: serve queue %q on %s (%s): %w", s.cfg.queue, s.cfg.redacted, ss.host, err)
	}
	return ss, nil
}

func (s *Server) openChannel(ss *serverSession) error {
	ch, err := ss.conn.Channel()
	if err != nil {
		return fmt.Errorf("%w: open channel: %w", transport.ErrConnection, err)
	}
	if err := ch.Qos(s.cfg.prefetch, 0, false); err != nil {
		return fmt.Errorf("%w: set prefetch: %w", transport.ErrConnection, err)
	}
	if err := ch.Confirm(false); err != nil {
		return fmt.Errorf("%w: confirm mode: %w", transport.ErrConnection, err)
	}
	ss.ch = ch
	return nil
}

func (s *Server) setup(ss *serverSession) error {
	if err := s.openChannel(ss); err != nil {
		return err
	}
	args := amqp091.Table{}
	if s.cfg.quorum {
		args["x-queue-type"] = "quorum"
	}
	if s.cfg.deadLetter != "" {
		args["x-dead-letter-exchange"] = s.cfg.deadLetter
	}
	if s.cfg.deadLetterQueue != "" {
		// Through the default exchange, straight to the queue.
		args["x-dead-letter-exchange"] = ""
		args["x-dead-letter-routing-key"] = s.cfg.deadLetterQueue
		if _, err := ss.ch.QueueDeclare(s.cfg.deadLetterQueue, true, false, false, false, nil); err != nil {
			return fmt.Errorf("declare dead-letter queue %q: %w", s.cfg.deadLetterQueue, err)
		}
	}
	_, err := ss.ch.QueueDeclare(s.cfg.queue, s.cfg.durable, s.cfg.autoDelete, s.cfg.exclusive, false, args)
	if isCode(err, amqp091.PreconditionFailed) {
		// The queue exists with other arguments (say durable, where the
		// tutorial declares it transient). The failed declare closed the
		// channel: use the queue as it is on a new one.
		msg := "amqp: the queue exists with other arguments; using it as it is"
		if s.cfg.deadLettering() {
			msg += " (poison requests reach a dead-letter exchange only if the queue has one: x-dead-letter-exchange, or a policy)"
		}
		s.log.Warn(msg, "declare_error", err)
		if err := s.openChannel(ss); err != nil {
			return err
		}
		_, err = ss.ch.QueueDeclarePassive(s.cfg.queue, false, false, false, false, nil)
	}
	if err != nil {
		if isCode(err, amqp091.AccessRefused) {
			return fmt.Errorf("%w: declare queue: %w", transport.ErrUnauthorized, err)
		}
		return fmt.Errorf("declare queue: %w", err)
	}
	ss.tag = "rpcwire-server-" + randomHex(8)
	ss.deliveries, err = ss.ch.Consume(s.cfg.queue, ss.tag, false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	ss.connClosed = ss.conn.NotifyClose(make(chan *amqp091.Error, 1))
	ss.chClosed = ss.ch.NotifyClose(make(chan *amqp091.Error, 1))
	ss.returns = ss.ch.NotifyReturn(make(chan amqp091.Return, 16))
	ss.blocked = ss.conn.NotifyBlocked(make(chan amqp091.Blocking, 1))
	ss.acks = make(chan pendingAck, s.cfg.prefetch)
	s.listenForCancels(ss)
	return nil
}

// cancelExchange is the direct exchange clients publish cancel notices
// to, with their request queue's name as routing key: a caller whose
// context is cancelled tells the servers of its queue (and only those),
// and the one running the call cancels its context, as a closed HTTP
// connection would.
const cancelExchange = "rpcwire.cancels"

// declareCancelExchange declares the cancel exchange on ch.
func declareCancelExchange(ch *amqp091.Channel) error {
	return ch.ExchangeDeclare(cancelExchange, amqp091.ExchangeDirect, false, false, false, false, nil)
}

// listenForCancels binds a private queue to the cancel exchange. Without
// the permission to, the server works on without cancel notices.
func (s *Server) listenForCancels(ss *serverSession) {
	ch, err := ss.conn.Channel()
	if err == nil {
		err = declareCancelExchange(ch)
	}
	var q amqp091.Queue
	if err == nil {
		q, err = ch.QueueDeclare("", false, true, true, false, nil)
	}
	if err == nil {
		err = ch.QueueBind(q.Name, s.cfg.queue, cancelExchange, false, nil)
	}
	if err == nil {
		ss.cancels, err = ch.Consume(q.Name, "", true, true, false, false, nil)
	}
	if err != nil {
		s.log.Warn("amqp: cannot receive cancel notices; cancelled calls run to the end", "err", err)
		ss.cancels = nil
	}
}

// callKey names a call for cancel notices: its reply queue and
// correlation id, unique per caller.
type callKey struct{ replyTo, corrID string }

// track makes a call cancellable by a notice; untrack ends that.
func (s *Server) track(ctx context.Context, d *amqp091.Delivery) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	if d.ReplyTo == "" || d.CorrelationId == "" {
		return ctx, cancel
	}
	s.inflightMu.Lock()
	s.inflight[callKey{d.ReplyTo, d.CorrelationId}] = cancel
	s.inflightMu.Unlock()
	return ctx, cancel
}

// untrack forgets a tracked call and releases its context.
func (s *Server) untrack(d *amqp091.Delivery, cancel context.CancelFunc) {
	if d.ReplyTo != "" && d.CorrelationId != "" {
		s.inflightMu.Lock()
		delete(s.inflight, callKey{d.ReplyTo, d.CorrelationId})
		s.inflightMu.Unlock()
	}
	cancel()
}

// cancelTracked cancels the call a notice names, if it runs here.
func (s *Server) cancelTracked(d *amqp091.Delivery) {
	s.inflightMu.Lock()
	cancel := s.inflight[callKey{d.ReplyTo, d.CorrelationId}]
	s.inflightMu.Unlock()
	if cancel != nil {
		s.log.Debug("amqp: caller cancelled the call", "correlation_id", d.CorrelationId)
		cancel()
	}
}

// run serves sessions until the server stops, reconnecting with backoff
// when one ends.
func (s *Server) run(ss *serverSession) {
	defer close(s.done)
	defer s.workers.Wait()
	for {
		cause := s.serve(ss)
		if s.stopCtx.Err() != nil {
			return
		}
		s.log.Warn("amqp: server lost the broker connection; reconnecting", "broker", ss.host, "err", cause)
		// Every address once, at once; back off only between rounds.
		for round := 0; ; round++ {
			var err error
			if ss, err = s.connect(s.stopCtx); err == nil {
				break
			}
			if s.stopCtx.Err() != nil {
				return
			}
			s.log.Warn("amqp: server reconnect failed at every broker address", "round", round+1, "err", err)
			if !sleep(backoff(round), s.stopCtx.Done()) {
				return
			}
		}
		s.log.Info("amqp: server reconnected; serving again", "broker", ss.host)
	}
}

// serve runs the workers of one session until the session ends (its cause
// is returned) or the server stops (nil). When the connection is lost it
// returns at once, so the server reconnects while calls still running on
// the old session finish (their acks fail and the broker redelivers them).
func (s *Server) serve(ss *serverSession) error {
	p := &pool{s: s, ss: ss, workersDone: make(chan struct{}), consumed: make(chan struct{})}
	p.spawn()
	workersDone := p.workersDone
	s.workers.Add(1)
	go func() {
		// Replies are mandatory: one whose reply_to queue is gone (the
		// caller closed, or never had it) comes back here, once, instead
		// of vanishing unnoticed. amqp091 closes the channel with ss.ch.
		defer s.workers.Done()
		for r := range ss.returns {
			s.log.Info("amqp: reply undeliverable: its reply_to queue does not exist (caller gone?)",
				"reply_to", r.RoutingKey, "correlation_id", r.CorrelationId, "reason", r.ReplyText)
		}
	}()
	if ss.cancels != nil {
		s.workers.Add(1)
		go func() {
			defer s.workers.Done()
			for d := range ss.cancels {
				s.cancelTracked(&d)
			}
		}()
	}
	s.workers.Add(2)
	go func() {
		defer s.workers.Done()
		for b := range ss.blocked {
			if b.Active {
				s.log.Warn("amqp: the broker blocks publishers; replies wait until it recovers", "broker", ss.host, "reason", b.Reason)
			} else {
				s.log.Info("amqp: the broker unblocked publishers", "broker", ss.host)
			}
		}
	}()
	go func() {
		// Requests are acked once their replies are confirmed; the
		// session's workers are the only senders, so the queue of
		// confirms closes when they are done.
		defer s.workers.Done()
		<-workersDone
		close(ss.acks)
	}()
	acked := make(chan struct{})
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		defer close(acked)
		s.ackConfirmed(ss.ch, ss.acks)
	}()
	var cause error
	select {
	case <-p.consumed:
		// The channel or connection closed, or the broker cancelled the
		// consumer (the queue was deleted).
		cause = ss.cause()
	case err := <-ss.connClosed:
		cause = closeError(err)
	case err := <-ss.chClosed:
		cause = closeError(err)
	case <-s.stopCtx.Done():
		// Stop consuming; the deliveries already received are handed to
		// the workers, which run, answer and ack them before the channel
		// closes. Close (or Shutdown's ctx ending) closes the connection,
		// which also ends a Cancel a blocked broker does not answer.
		stopClose := context.AfterFunc(s.callCtx, ss.close)
		defer stopClose()
		if err := ss.ch.Cancel(ss.tag, false); err != nil {
			s.log.Debug("amqp: cancel consumer", "err", err)
		}
		select {
		case <-acked:
		case <-s.callCtx.Done():
			// Close: cut the calls off. Unacked requests go back to the queue.
		}
		ss.close()
		<-workersDone
		<-acked
		return nil
	}
	ss.close()
	return cause
}

// idleWorkerTimeout is how long a spare worker waits for work before it
// exits; the pool keeps at least one.
const idleWorkerTimeout = 2 * time.Second

// pool runs one session's requests on an elastic set of workers: it starts
// with one and adds one whenever a worker takes a request while no other
// is idle, up to the workers limit; spare workers exit when idle. Cheap
// calls then run on few goroutines (fewer wake-ups per message than a
// fixed pool), slow ones get up to the limit.
type pool struct {
	s           *Server
	ss          *serverSession
	running     atomic.Int32 // workers started and not yet exited
	idle        atomic.Int32 // workers waiting for a request
	consumedOne sync.Once
	consumed    chan struct{} // closed when the deliveries channel closed
	workersDone chan struct{} // closed when the last worker exits
}

// spawn starts a worker unless the limit is reached.
func (p *pool) spawn() {
	for {
		n := p.running.Load()
		if int(n) >= p.s.nworkers {
			return
		}
		if p.running.CompareAndSwap(n, n+1) {
			break
		}
	}
	p.s.workers.Add(1)
	go p.work()
}

// exit leaves the pool when another worker remains (idle) or for good
// (the deliveries ended); it reports whether the worker may go.
func (p *pool) exit(idle bool) bool {
	for {
		n := p.running.Load()
		if idle && n <= 1 {
			return false
		}
		if p.running.CompareAndSwap(n, n-1) {
			if n == 1 {
				close(p.workersDone)
			}
			return true
		}
	}
}

func (p *pool) work() {
	defer p.s.workers.Done()
	timer := time.NewTimer(idleWorkerTimeout)
	defer timer.Stop()
	for {
		p.idle.Add(1)
		var (
			d  amqp091.Delivery
			ok bool
		)
		select {
		case d, ok = <-p.ss.deliveries:
		case <-timer.C:
			p.idle.Add(-1)
			if p.exit(true) {
				return
			}
			timer.Reset(idleWorkerTimeout)
			continue
		}
		p.idle.Add(-1)
		if !ok {
			p.consumedOne.Do(func() { close(p.consumed) })
			p.exit(false)
			return
		}
		if p.idle.Load() == 0 {
			p.spawn() // everyone is busy: another worker for the next request
		}
		p.s.handle(p.ss, &d)
		timer.Reset(idleWorkerTimeout) // Go 1.23 timers: no stale tick to drain
	}
}

// handle runs one request and answers it. Whatever happens the request is
// acked exactly once (or left to the broker when the channel is gone), so
// a bad message never loops.
func (s *Server) handle(ss *serverSession, d *amqp091.Delivery) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("amqp: panic while handling a request; dropping it", "panic", p, "correlation_id", d.CorrelationId)
			ss.acks <- finished(d, nil, false)
		}
	}()
	ctx := s.callCtx
	if dl, ok := deadlineOf(d); ok {
		if !time.Now().Before(dl) {
			s.log.Debug("amqp: skipping an expired request", "correlation_id", d.CorrelationId)
			ss.acks <- finished(d, nil, false)
			return
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl)
		defer cancel()
	}
	req := transport.Message{Body: d.Body, ContentType: d.ContentType, Type: d.Type, Headers: d.Headers, Metadata: incomingMetadata(d.Headers)}
	c, err := s.cfg.codecs.of(d.ContentType, d.Body)
	var reply *transport.Message
	if d.ReplyTo != "" {
		reply = transport.GetMessage()
		defer transport.PutMessage(reply)
	}
	var (
		fault   *transport.RemoteError
		refused bool
	)
	if err != nil {
		c, fault, refused = s.cfg.codecs.sniff(d.Body), transport.ToRemote(err), true
		if reply != nil {
			c.EncodeFault(reply, fault)
		}
	} else {
		// The body's bytes count against the server's bytes in flight
		// until the reply is out: a worker waits here (the broker keeps
		// the rest) while larger requests take them.
		n := int64(len(d.Body))
		if err := s.svc.Reserve(s.callCtx, n); err != nil {
			return // Close: leave the request unacked for another server
		}
		defer s.svc.Unreserve(n)
		callCtx, cancel := s.track(s.peerContext(ctx, d), d)
		fault, refused = s.svc.Serve(callCtx, c, &req, reply)
		s.untrack(d, cancel)
		if !refused && s.callCtx.Err() != nil {
			// Close cut the call off: leave the request unacked, so the
			// broker hands it to another server when the channel closes.
			return
		}
	}
	if refused {
		s.log.Warn("amqp: refused a request that cannot be served", "codec", c.Name(), "content_type", d.ContentType,
			"bytes", len(d.Body), "correlation_id", d.CorrelationId, "fault", fault.Message)
	}
	if reply == nil {
		ss.acks <- finished(d, nil, refused)
		return
	}
	dc, err := ss.ch.PublishWithDeferredConfirm("", d.ReplyTo, true, false, amqp091.Publishing{
		ContentType:   reply.ContentType,
		CorrelationId: d.CorrelationId,
		Headers:       reply.Headers,
		Type:          reply.Type,
		Body:          reply.Body,
	})
	if err != nil {
		// The channel is gone and the ack with it: the broker redelivers
		// the request.
		s.log.Debug("amqp: publish reply", "err", err)
		return
	}
	ss.acks <- finished(d, dc, refused)
}

// deadlineOf returns the caller's deadline a request carries.
func deadlineOf(d *amqp091.Delivery) (time.Time, bool) {
	ms, ok := intHeader(d.Headers, headerDeadline)
	if !ok {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// intHeader reads an integer header whatever width the sender used.
func intHeader(h amqp091.Table, key string) (int64, bool) {
	switch v := h[key].(type) {
	case int64:
		return v, true
	case int32:
		return int64(v), true
	case int16:
		return int64(v), true
	case int8:
		return int64(v), true
	case uint8:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint32:
		return int64(v), true
	case int:
		return int64(v), true
	}
	return 0, false
}

// Shutdown stops consuming, lets the calls in flight finish, publishes
// their replies and acks them, then closes the connection. When ctx ends
// first the remaining calls are cancelled as by Close.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	select {
	case <-s.done:
		s.cancelCall()
		return nil
	case <-ctx.Done():
		s.cancelCall()
		<-s.done
		return transport.ContextError(ctx, "amqp: shutdown of "+s.cfg.addr)
	}
}

// Close stops the server at once: calls in flight see their context
// cancelled and their requests, unacked, go back to the queue for another
// server. Close is idempotent.
func (s *Server) Close() error {
	s.stop()
	s.cancelCall()
	<-s.done
	return nil
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
