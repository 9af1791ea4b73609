package amqp

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
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

// TestAckerSettlesEachOnce: requests finishing in random orders, some
// behind a slow one for long, are each settled exactly once: by an ack of
// its own or by a multiple ack reaching past it, never both.
func TestAckerSettlesEachOnce(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 1))
		const n = 600
		order := r.Perm(n)
		if seed%2 == 0 { // tag 1 finishes last: everything waits behind it
			i := slices.Index(order, 0)
			order = append(slices.Delete(order, i, i+1), 0)
		}
		w := &wireLog{}
		s := &Server{cfg: &config{prefetch: 8}, log: slog.New(slog.DiscardHandler)}
		acks := make(chan pendingAck)
		ended := make(chan struct{})
		go func() { s.ackConfirmed(w, acks); close(ended) }()
		for _, i := range order {
			acks <- done(uint64(i + 1))
		}
		close(acks)
		<-ended

		settled := make([]int, n+1)
		upTo := uint64(0) // tags at or below are covered by a multiple ack
		for _, op := range w.ops {
			var tag uint64
			var multiple bool
			_, err := fmt.Sscanf(op, "ack %d %v", &tag, &multiple)
			if !assert.NoError(t, err, op) {
				return
			}
			if !multiple {
				settled[tag]++
				continue
			}
			for t := upTo + 1; t <= tag; t++ {
				if settled[t] == 0 {
					settled[t]++
				}
			}
			upTo = max(upTo, tag)
		}
		for tag := 1; tag <= n; tag++ {
			if !assert.Equal(t, 1, settled[tag], "seed %d: tag %d", seed, tag) {
				return
			}
		}
	}
}
