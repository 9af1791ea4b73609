package transport

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBudget: bytes are taken while they last, waiters get them in the
// order they came (a large one is not overtaken by small ones), and a
// waiter whose context ends leaves the queue.
func TestBudget(t *testing.T) {
	b := &budget{size: 10}
	require.True(t, b.tryAcquire(6))
	assert.False(t, b.tryAcquire(5), "4 bytes left")
	require.True(t, b.tryAcquire(4))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	order := make(chan int64, 3)
	waiting := func(n int64) {
		go func() {
			if b.acquire(ctx, n) == nil {
				order <- n
			}
		}()
	}
	waiters := func() int {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.waiters.Len()
	}
	waiting(8)
	require.Eventually(t, func() bool { return waiters() == 1 }, 5*time.Second, time.Millisecond)
	waiting(1)
	require.Eventually(t, func() bool { return waiters() == 2 }, 5*time.Second, time.Millisecond)
	assert.False(t, b.tryAcquire(1), "nobody jumps the queue")

	b.release(4) // 4 free: the first waiter (8) does not fit, so the second waits too
	assert.Equal(t, 2, waiters())
	b.release(6) // 10 free: 8, then 1
	assert.Equal(t, 0, waiters())
	assert.ElementsMatch(t, []int64{8, 1}, []int64{<-order, <-order})
	assert.Equal(t, int64(9), b.used)

	// A waiter whose context ends leaves the queue, and those behind it
	// that fit get their bytes.
	short, cancelShort := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- b.acquire(short, 5) }()
	require.Eventually(t, func() bool { return waiters() == 1 }, 5*time.Second, time.Millisecond)
	waiting(1)
	require.Eventually(t, func() bool { return waiters() == 2 }, 5*time.Second, time.Millisecond)
	cancelShort()
	assert.ErrorIs(t, <-errc, context.Canceled)
	assert.Equal(t, int64(1), <-order, "the one behind fits in the byte left")
	assert.Equal(t, 0, waiters())
	b.release(9)
	b.release(1)
	assert.Zero(t, b.used)

	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	require.True(t, b.tryAcquire(10))
	assert.ErrorIs(t, b.acquire(done, 1), context.Canceled, "a done context does not wait")
	b.release(10)
}

func TestServiceBytes(t *testing.T) {
	o := ServerOptions{MaxMessageSize: 100}
	s := NewService(nil, &o, 1)
	assert.Equal(t, int64(800), s.MaxBytesInFlight(), "8 times the message size by default")
	assert.True(t, s.TryReserve(1000), "a request counts for at most the message size")
	assert.Equal(t, int64(100), s.bytes.used)
	s.Unreserve(1000)
	assert.Zero(t, s.bytes.used)

	o = ServerOptions{MaxMessageSize: 100, MaxBytesInFlight: 10}
	assert.Equal(t, int64(100), NewService(nil, &o, 1).MaxBytesInFlight(), "never less than the message size")
	o = ServerOptions{MaxBytesInFlight: 5 << 20}
	assert.Equal(t, int64(5<<20), NewService(nil, &o, 1).MaxBytesInFlight())
}
