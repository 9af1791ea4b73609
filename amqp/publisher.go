package amqp

import (
	"errors"
	"fmt"
	"sync"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/rpcwire/rpcwire/transport"
)

// publisher is the channel a client session publishes calls and one-way
// messages on, in confirm mode, with a goroutine that drains its returns
// and its close. A session replaces its publisher when the broker nacks a
// message: RabbitMQ 3.10 leaves a channel that published to a quorum
// queue while its leader was moving nacking every later message to that
// queue for a long time (measured here: over 45 s), while a new channel
// is acked as soon as the new leader is elected (0.6 s).
type publisher struct {
	ch      *amqp091.Channel
	barrier chan chan struct{} // see returnedOneWay
	done    chan struct{}      // closed when the drain goroutine ends

	mu       sync.Mutex
	returned map[string]bool // one-way messages the broker returned (no such queue), by correlation id
	err      error           // why the channel closed, once it has
}

// newPublisher opens a publishing channel of client c on conn. c.returned
// gets each message the broker returns, on the publisher's own goroutine
// (counted in c.bg), which ends when the channel closes.
func newPublisher(conn *amqp091.Connection, c *carrier) (*publisher, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("open channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		return nil, fmt.Errorf("confirm mode: %w", err)
	}
	p := &publisher{ch: ch, barrier: make(chan chan struct{}), done: make(chan struct{}), returned: map[string]bool{}}
	returns := ch.NotifyReturn(make(chan amqp091.Return))
	closed := ch.NotifyClose(make(chan *amqp091.Error, 1))
	if !c.addBG() {
		_ = ch.Close()
		return nil, fmt.Errorf("%w: the client was closed", transport.ErrClosed)
	}
	go func() {
		defer c.bg.Done()
		p.drain(returns, closed, c.returned)
	}()
	return p, nil
}

// drain handles returns and the channel's close. Returns are received
// here one at a time: amqp091 hands a message's basic.return over before
// it handles the message's basic.ack, so once a confirm is in, a barrier
// sent after it (returnedOneWay) is served after the return was recorded.
func (p *publisher) drain(returns <-chan amqp091.Return, closed <-chan *amqp091.Error, onReturn func(*amqp091.Return)) {
	defer close(p.done)
	for {
		select {
		case r, ok := <-returns:
			if !ok {
				return
			}
			if r.ReplyTo == "" {
				p.mu.Lock()
				p.returned[r.CorrelationId] = true
				p.mu.Unlock()
			}
			onReturn(&r)
		case err, ok := <-closed:
			p.mu.Lock()
			if ok && err != nil {
				p.err = err
			} else if p.err == nil {
				p.err = errors.New("channel closed")
			}
			p.mu.Unlock()
			closed = nil
		case b := <-p.barrier:
			close(b)
		}
	}
}

// returnedOneWay reports, once the one-way message id's confirm is in,
// whether the broker returned it (no queue of that name), and forgets it.
func (p *publisher) returnedOneWay(id string) bool {
	b := make(chan struct{})
	select {
	case p.barrier <- b:
		<-b
	case <-p.done:
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.returned[id]
	delete(p.returned, id)
	return r
}

// closeErr is why the channel closed, nil while it is open.
func (p *publisher) closeErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
