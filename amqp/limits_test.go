package amqp

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/transporttest"
)

// TestWorkersBoundConcurrency: a server with workers=N runs at most N calls
// at once however many are sent; the rest wait in the broker (not in
// goroutines of the server) and all are answered once the first finish.
// Unlike HTTP there is no busy fault: the queue is the backlog.
func TestWorkersBoundConcurrency(t *testing.T) {
	const workers, calls = 3, 40
	broker := brokerURL(t)
	q := testQueue(t, broker)
	reg := funcs.NewRegistry()
	var g transporttest.Gauge
	release := make(chan struct{})
	reg.MustRegister("hold", func(ctx context.Context) error {
		defer g.Enter()()
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	srv, err := NewServer(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q, "workers", "3"), reg)
	require.NoError(t, err)
	defer srv.Close()
	c := dialClient(t, withParams(t, broker, "queue", q))

	before := runtime.NumGoroutine()
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- c.Call(ctxT(t, 20*time.Second), "hold", nil, nil)
		}()
	}
	require.Eventually(t, func() bool { return g.Running() == workers }, 10*time.Second, 5*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // time for more to start, were they allowed
	assert.Equal(t, workers, g.Running(), "calls running at once")
	// The callers' goroutines are ours; the server adds none per call.
	assert.Less(t, runtime.NumGoroutine()-before, calls+20, "goroutines while %d calls wait", calls)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, workers, g.Most(), "never more than workers at once")
}

// TestMaxInFlightIsWorkers: WithMaxInFlight(n) means n calls at once on an
// AMQP server as on every other: 1024 calls that each wait for all the
// others complete only if 1024 run together.
func TestMaxInFlightIsWorkers(t *testing.T) {
	const n = 1024
	broker := brokerURL(t)
	q := testQueue(t, broker)
	reg := funcs.NewRegistry()
	var arrived atomic.Int32
	all := make(chan struct{})
	reg.MustRegister("barrier", func(ctx context.Context) error {
		if arrived.Add(1) == n {
			close(all)
		}
		select {
		case <-all:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("%d of %d calls ran at once: %w", arrived.Load(), n, ctx.Err())
		}
	})
	srv, err := NewServer(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q), reg, transport.WithMaxInFlight(n))
	require.NoError(t, err)
	defer srv.Close()
	c := dialClient(t, withParams(t, broker, "queue", q))
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- c.Call(ctxT(t, 20*time.Second), "barrier", nil, nil)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	def, err := NewServer(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q), reg)
	require.NoError(t, err)
	assert.Equal(t, DefaultWorkers, def.nworkers, "the default")
	assert.Equal(t, DefaultWorkers, def.cfg.prefetch, "prefetch follows workers")
	require.NoError(t, def.Close())
	byURL, err := NewServer(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q, "workers", "8", "prefetch", "20"), reg)
	require.NoError(t, err)
	assert.Equal(t, 8, byURL.nworkers)
	assert.Equal(t, 20, byURL.cfg.prefetch)
	require.NoError(t, byURL.Close())

	_, err = NewServer(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q, "workers", "8"), reg, transport.WithMaxInFlight(16))
	assert.ErrorContains(t, err, "workers=8 disagrees with WithMaxInFlight(16)")
	_, err = NewServer(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q), reg, transport.WithMaxInFlight(MaxWorkers+1))
	assert.ErrorContains(t, err, "at most")
	_, err = Dial(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q, "timeout", "2s"), transport.WithTimeout(time.Second))
	assert.ErrorContains(t, err, "timeout=2s disagrees with WithTimeout(1s)")
}

// TestBytesInFlight: request bodies count against
// transport.WithMaxBytesInFlight until their reply is out; requests
// beyond it wait in their workers (no busy fault: the broker holds the
// backlog) and run as bytes come free.
func TestBytesInFlight(t *testing.T) {
	broker := brokerURL(t)
	q := testQueue(t, broker)
	reg := funcs.NewRegistry()
	var g transporttest.Gauge
	release := make(chan struct{})
	reg.MustRegister("hold", func(ctx context.Context, s string) int {
		defer g.Enter()()
		select {
		case <-release:
		case <-ctx.Done():
		}
		return len(s)
	})
	srv, err := NewServer(ctxT(t, 10*time.Second), withParams(t, broker, "queue", q), reg,
		transport.WithMaxMessageSize(6000), transport.WithMaxBytesInFlight(6000))
	require.NoError(t, err)
	defer srv.Close()
	c := dialClient(t, withParams(t, broker, "queue", q))

	big := strings.Repeat("x", 2500) // bodies of about 2.7 kB: two fit
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- c.Call(ctxT(t, 20*time.Second), "hold", []any{big}, nil) }()
	}
	require.Eventually(t, func() bool {
		_, waiting := srv.svc.BytesInFlight()
		return g.Running() == 2 && waiting == 2
	}, 10*time.Second, time.Millisecond, "two run, two wait for their bytes")
	close(release)
	for range 4 {
		assert.NoError(t, <-errs)
	}
	assert.Equal(t, 2, g.Most(), "never more than two at once")
	// A worker gives its bytes back once its reply is out, which may be
	// just after the caller has the reply.
	require.Eventually(t, func() bool {
		held, waiting := srv.svc.BytesInFlight()
		return held == 0 && waiting == 0
	}, 10*time.Second, time.Millisecond, "every byte given back")
}
