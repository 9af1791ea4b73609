package transport

import (
	"container/list"
	"context"
	"sync"
)

// budget is a weighted semaphore of bytes: acquire takes n of size,
// waiting in the order of arrival (a large request is not overtaken
// forever by small ones), release gives them back.
type budget struct {
	size int64

	mu      sync.Mutex
	used    int64
	waiters list.List // of *budgetWaiter, oldest first
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed when the bytes are taken for it
}

// tryAcquire takes n bytes when they are free and nobody waits.
func (b *budget) tryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waiters.Len() == 0 && b.size-b.used >= n {
		b.used += n
		return true
	}
	return false
}

// acquire takes n bytes (n <= size), waiting until they are free or ctx
// ends.
func (b *budget) acquire(ctx context.Context, n int64) error {
	if b.tryAcquire(n) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.mu.Lock()
	elem := b.waiters.PushBack(w)
	b.grant() // the bytes may have come back meanwhile
	b.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		select {
		case <-w.ready: // granted as ctx ended: give the bytes back
			b.used -= n
		default:
			b.waiters.Remove(elem)
		}
		b.grant() // those behind may fit now
		return ctx.Err()
	}
}

// release gives back n bytes.
func (b *budget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	b.grant()
}

// grant hands free bytes to the waiters in order, as long as the first
// one fits. b.mu is held.
func (b *budget) grant() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() { // each turn removes a waiter
		w := e.Value.(*budgetWaiter)
		if b.size-b.used < w.n {
			return
		}
		b.used += w.n
		b.waiters.Remove(e)
		close(w.ready)
	}
}
