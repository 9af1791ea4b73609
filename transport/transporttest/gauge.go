package transporttest

import "sync/atomic"

// Gauge counts the calls of a test's function that run at once, and the
// most that ever did: a transport's tests use it to check how many calls
// its server runs together. The zero Gauge is ready to use.
type Gauge struct {
	running, most atomic.Int32
}

// Enter counts a call in, until the function it returns is called.
func (g *Gauge) Enter() (leave func()) {
	n := g.running.Add(1)
	for m := g.most.Load(); n > m && !g.most.CompareAndSwap(m, n); m = g.most.Load() {
	}
	return func() { g.running.Add(-1) }
}

// Running is the number of calls in now.
func (g *Gauge) Running() int { return int(g.running.Load()) }

// Most is the most calls that were in at once.
func (g *Gauge) Most() int { return int(g.most.Load()) }

// Reset forgets the most calls seen.
func (g *Gauge) Reset() { g.most.Store(0) }
