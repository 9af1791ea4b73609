package main

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// caller makes one call and reports its error. Each load worker gets its
// own caller, so per-call state (the reply value) is not shared.
type caller func(ctx context.Context) error

// plan says how long one measured run lasts: a total number of calls
// spread over the workers, or else a duration. limit bounds the run in
// time either way; calls still in flight then are cancelled.
type plan struct {
	concurrency int
	duration    time.Duration
	calls       int64
	limit       time.Duration
	callTimeout time.Duration // a deadline per call when > 0
}

// stats is what one run measured. Latencies are those of successful
// calls; errors are counted apart.
type stats struct {
	calls    uint64 // successful and failed
	errors   uint64
	elapsed  time.Duration
	lat      hist
	firstErr error
	mallocs  uint64 // heap allocations in the process during the run
	allocMem uint64 // heap bytes allocated during the run

	heapLive   uint64 // live heap bytes at the end (after a GC), to see that memory stays flat
	goroutines int    // goroutines at the end, after the workers stopped

	rates []float64 // successful calls per second of each run added together

	cpu    time.Duration // CPU time of this process during the run
	cpuSet bool          // whether cpu was measured
}

// worker is one goroutine's share of a run. Only done is read by others
// (the progress line); the rest is merged after the worker has stopped.
type worker struct {
	done     atomic.Uint64
	_        [56]byte // keep done on a cache line of its own
	errors   uint64
	firstErr error
	lat      hist
}

// meter lets the progress line read a run's counts while it goes on.
type meter struct {
	mu      sync.Mutex
	workers []*worker
	errors  atomic.Uint64
	start   time.Time
}

// completed returns the calls done so far and the errors among them.
func (m *meter) completed() (calls, errors uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range m.workers {
		calls += w.done.Load()
	}
	return calls, m.errors.Load()
}

// load runs p.concurrency workers, each calling in a loop, until the plan
// is done, ctx ends or the time limit passes, and returns the merged
// measurements. m, when not nil, is kept up to date for a progress line.
func load(ctx context.Context, newCaller func() caller, p plan, m *meter) stats {
	if p.concurrency < 1 {
		p.concurrency = 1
	}
	// The limit cancels rather than sets a deadline: a deadline would
	// travel with every call (transports send it on the wire and arm
	// timers for it) and make the tool measure its own safety net.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	limit := time.AfterFunc(p.limit, cancel)
	defer limit.Stop()
	var stop atomic.Bool
	stopWatch := context.AfterFunc(ctx, func() { stop.Store(true) })
	defer stopWatch()

	workers := make([]*worker, p.concurrency)
	callers := make([]caller, p.concurrency)
	for i := range workers {
		workers[i] = new(worker)
		callers[i] = newCaller()
	}
	if m == nil {
		m = new(meter)
	}
	var next atomic.Int64 // calls handed out, when p.calls bounds the run

	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0, cpuOK := processCPU()
	start := time.Now()
	m.mu.Lock()
	m.workers, m.start = workers, start
	m.mu.Unlock()
	end := start.Add(p.duration)

	var wg sync.WaitGroup
	for i, w := range workers {
		call := callers[i]
		wg.Go(func() {
			for !stop.Load() {
				if p.calls > 0 {
					if next.Add(1) > p.calls {
						return
					}
				}
				t0 := time.Now()
				if p.calls <= 0 && !t0.Before(end) {
					return
				}
				var err error
				if p.callTimeout > 0 {
					cctx, ccancel := context.WithTimeout(ctx, p.callTimeout)
					err = call(cctx)
					ccancel()
				} else {
					err = call(ctx)
				}
				d := time.Since(t0)
				if err != nil {
					if w.errors == 0 {
						w.firstErr = err
					}
					w.errors++
					m.errors.Add(1)
				} else {
					w.lat.record(d)
				}
				w.done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, cpuOK1 := processCPU()
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)

	st := stats{elapsed: elapsed, mallocs: ms1.Mallocs - ms0.Mallocs, allocMem: ms1.TotalAlloc - ms0.TotalAlloc,
		cpu: cpu1 - cpu0, cpuSet: cpuOK && cpuOK1}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	st.heapLive, st.goroutines = ms1.HeapAlloc, runtime.NumGoroutine()
	for _, w := range workers {
		st.calls += w.done.Load()
		st.errors += w.errors
		if st.firstErr == nil {
			st.firstErr = w.firstErr
		}
		st.lat.merge(&w.lat)
	}
	return st
}

// add accumulates another run of the same target into s.
func (s *stats) add(o *stats) {
	s.rates = append(s.rates, o.rate())
	s.calls += o.calls
	s.errors += o.errors
	s.elapsed += o.elapsed
	s.lat.merge(&o.lat)
	if s.firstErr == nil {
		s.firstErr = o.firstErr
	}
	s.mallocs += o.mallocs
	s.allocMem += o.allocMem
	s.cpu += o.cpu
	s.cpuSet = o.cpuSet
	s.heapLive, s.goroutines = o.heapLive, o.goroutines
}

// ok is the number of successful calls.
func (s *stats) ok() uint64 { return s.calls - s.errors }

// rate is successful calls per second: of the run, or for runs added
// together the median of theirs, which a stall of the machine in one of
// them does not move.
func (s *stats) rate() float64 {
	if len(s.rates) > 1 {
		r := slices.Sorted(slices.Values(s.rates))
		if n := len(r); n%2 == 1 {
			return r[n/2]
		} else {
			return (r[n/2-1] + r[n/2]) / 2
		}
	}
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.ok()) / s.elapsed.Seconds()
}
