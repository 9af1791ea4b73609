package amqp

import (
	"fmt"
	"log/slog"
	"sync"
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
)

// wireLog records what an acker sends the broker.
type wireLog struct {
	mu  sync.Mutex
	ops []string
}

func (w *wireLog) add(format string, args ...any) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ops = append(w.ops, fmt.Sprintf(format, args...))
	return nil
}

func (w *wireLog) Ack(tag uint64, multiple bool) error { return w.add("ack %d %v", tag, multiple) }
func (w *wireLog) Nack(tag uint64, multiple, requeue bool) error {
	return w.add("nack %d %v %v", tag, multiple, requeue)
}
func (w *wireLog) Reject(tag uint64, requeue bool) error { return w.add("reject %d %v", tag, requeue) }

// runAcker feeds the acker the finished requests in order, all at once,
// and returns what it sent.
func runAcker(prefetch int, deadLetter bool, requests ...pendingAck) []string {
	w := &wireLog{}
	s := &Server{cfg: &config{prefetch: prefetch}, log: slog.New(slog.DiscardHandler)}
	if deadLetter {
		s.cfg.deadLetterQueue = "dlq"
	}
	acks := make(chan pendingAck, len(requests))
	for _, a := range requests {
		acks <- a
	}
	close(acks)
	s.ackConfirmed(w, acks)
	return w.ops
}

func done(tag uint64) pendingAck { return finished(&amqp091.Delivery{DeliveryTag: tag}, nil, false) }

func TestAckerBatches(t *testing.T) {
	// Finished out of order, no gap once all are in: one ack for all.
	assert.Equal(t, []string{"ack 4 true"}, runAcker(32, false, done(2), done(1), done(4), done(3)))
	// A gap (3 still running): 1 and 2 now, the rest wait for 3.
	assert.Equal(t, []string{"ack 2 true"}, runAcker(32, false, done(2), done(1), done(4), done(5)))
	// Poison with a dead-letter queue: rejected on its own, and the
	// batch ack passes over it.
	p := done(2)
	p.poison = true
	assert.Equal(t, []string{"reject 2 false", "ack 3 true"}, runAcker(32, true, done(1), p, done(3)))
	// Poison without one is acked like the others.
	assert.Equal(t, []string{"ack 3 true"}, runAcker(32, false, done(1), p, done(3)))
	// More waiting behind a gap than half the prefetch: acked one by one,
	// so a slow call does not hold the window.
	ops := runAcker(4, false, done(2), done(3), done(4))
	assert.ElementsMatch(t, []string{"ack 2 false", "ack 3 false", "ack 4 false"}, ops)
}

func TestAckerNeverAcksTwice(t *testing.T) {
	// 2, 3, 4 finish one at a time behind the gap at 1, until more wait
	// than half the prefetch: acked one by one. When 1 finishes, only 1 is
	// acked: a multiple ack passes over settled tags, never acks one twice.
	w := &wireLog{}
	s := &Server{cfg: &config{prefetch: 4}, log: slog.New(slog.DiscardHandler)}
	acks := make(chan pendingAck) // unbuffered: one request per batch
	ended := make(chan struct{})
	go func() { s.ackConfirmed(w, acks); close(ended) }()
	for _, tag := range []uint64{2, 3, 4, 1} {
		acks <- done(tag)
	}
	close(acks)
	<-ended
	if assert.Len(t, w.ops, 4) {
		assert.ElementsMatch(t, []string{"ack 2 false", "ack 3 false", "ack 4 false"}, w.ops[:3])
		assert.Equal(t, "ack 1 true", w.ops[3])
	}
}
