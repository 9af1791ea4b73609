package amqp

import (
	"slices"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// pendingAck is a request a worker is done with: to be acked once the
// broker confirmed its reply (dc; nil for a request with no reply), or
// rejected when it is poison and the queue dead-letters. It holds the
// delivery's tag, not the delivery: a request's body is not kept while
// its reply's confirm is on its way.
type pendingAck struct {
	tag    uint64
	corrID string
	dc     *amqp091.DeferredConfirmation
	poison bool
}

// finished is the pendingAck of d.
func finished(d *amqp091.Delivery, dc *amqp091.DeferredConfirmation, poison bool) pendingAck {
	return pendingAck{tag: d.DeliveryTag, corrID: d.CorrelationId, dc: dc, poison: poison}
}

// maxAckBatch bounds how many finished requests the acker takes at once.
const maxAckBatch = 256

// ackConfirmed settles the requests of one channel, every one of them:
// workers never ack themselves, so no request is acked twice. A request
// is acked once its reply is confirmed; a reply the broker refused
// (basic.nack) or lost with its channel leaves the request to be
// delivered again (rejected with requeue).
//
// Acks are batched: the acker takes every finished request waiting, and
// acks the run of delivery tags finished without a gap with one
// multiple=true ack (deliveries on a channel are numbered 1, 2, 3...), so
// under load most requests cost the broker a fraction of an ack frame. A
// request finished after a gap (an earlier one still running) waits for
// the gap to close, unless more than limit wait: then they are acked one
// by one, so a slow call never holds the prefetch window.
func (s *Server) ackConfirmed(ch amqp091.Acknowledger, acks <-chan pendingAck) {
	limit := max(s.cfg.prefetch/2, 1)
	const (
		waitingAck = iota + 1 // finished, to be acked
		settled               // finished and settled on the wire already
	)
	var (
		next    uint64   = 1 // the lowest tag not settled
		held             = map[uint64]int{}
		nheld   int      // entries of held that are waiting
		waiting []uint64 // their tags, and some a multiple ack has settled since
		batch   []pendingAck
	)
	for a := range acks {
		batch = append(batch[:0], a)
	more:
		for len(batch) < maxAckBatch {
			select {
			case a, ok := <-acks:
				if !ok {
					break more
				}
				batch = append(batch, a)
			default:
				break more
			}
		}
		for _, a := range batch {
			tag := a.tag
			switch {
			case a.dc != nil && !a.dc.Wait():
				s.log.Warn("amqp: the broker did not confirm a reply; its request will be served again", "correlation_id", a.corrID)
				_ = ch.Reject(tag, true)
				held[tag] = settled
			case a.poison && s.cfg.deadLettering():
				_ = ch.Reject(tag, false)
				held[tag] = settled
			default:
				held[tag] = waitingAck
				nheld++
				waiting = append(waiting, tag)
			}
		}
		var top uint64
		for st, ok := held[next]; ok; st, ok = held[next] {
			delete(held, next)
			if st == waitingAck {
				top = next
				nheld--
			}
			next++
		}
		if top != 0 {
			_ = ch.Ack(top, true) // acks every unsettled tag up to top: those just passed
		}
		switch {
		case nheld > limit:
			for _, tag := range waiting {
				if held[tag] == waitingAck {
					_ = ch.Ack(tag, false)
					held[tag] = settled
				}
			}
			nheld, waiting = 0, waiting[:0]
		case nheld == 0:
			waiting = waiting[:0]
		case len(waiting) > 4*limit: // drop the tags settled since
			waiting = slices.DeleteFunc(waiting, func(tag uint64) bool { return held[tag] != waitingAck })
		}
	}
}
